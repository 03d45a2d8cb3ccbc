// Stand-in for the gateway's local HMAC key (core/signing.ts, being written by the hardening
// work): a random key in <home>/signing.key (0600, created on first use), HMAC-SHA256 over the
// exact payload text. Redis write access alone cannot forge what it signs. Replace with
// core/signing.ts once that lands, keeping the Signer interface.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Signer {
  sign(payload: string): string;
  verify(payload: string, signature: string): boolean;
}

function loadOrCreateKey(home: string): Buffer {
  const file = join(home, "signing.key");
  try {
    return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    // "wx": when two processes create it at once, the second reads the first one's key.
    writeFileSync(file, randomBytes(32).toString("hex") + "\n", { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
}

export function localSigner(home: string): Signer {
  let key: Buffer | undefined;
  const mac = (payload: string) => createHmac("sha256", (key ??= loadOrCreateKey(home))).update(payload).digest();
  return {
    sign: (payload) => mac(payload).toString("hex"),
    verify(payload, signature) {
      const given = Buffer.from(signature, "hex");
      const expected = mac(payload);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
