// Stand-in for the gateway's local HMAC key (core/signing.ts, from the hardening work, not on
// main yet): the same key file (<home>/signing.key, 0600, created on first use, one base64url key
// per line, the first signs, all verify), the same HMAC over purpose + "\n" + data and the same
// sealed form `sig1:<signature>.<data>`, so what this signs verifies there. Delete this file and
// import loadSigner from core/signing.ts once that lands.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SEAL_PREFIX = "sig1:";

export interface Signer {
  sign(purpose: string, data: string): string;
  verify(purpose: string, data: string, signature: string): boolean;
  /** `sig1:<signature>.<data>`: the data with its signature, as one string. */
  seal(purpose: string, data: string): string;
  /** The data of a sealed value whose signature holds; undefined for anything else. */
  open(purpose: string, sealed: string): string | undefined;
}

function readKeys(file: string): Buffer[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => Buffer.from(line, "base64url"));
}

function loadKeys(home: string): Buffer[] {
  const file = join(home, "signing.key");
  try {
    return readKeys(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    // "wx": when two processes create it at once, the second reads the first one's key.
    writeFileSync(file, randomBytes(32).toString("base64url") + "\n", { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readKeys(file);
}

/** The gateway's signer; the key file is read (or made) on first use, not at construction. */
export function loadSigner(home: string): Signer {
  let keys: Buffer[] | undefined;
  const hmac = (key: Buffer, purpose: string, data: string) => createHmac("sha256", key).update(purpose).update("\n").update(data).digest();
  const signer: Signer = {
    sign: (purpose, data) => hmac((keys ??= loadKeys(home))[0]!, purpose, data).toString("base64url"),
    verify(purpose, data, signature) {
      const given = Buffer.from(signature, "base64url");
      return (keys ??= loadKeys(home)).some((key) => {
        const expected = hmac(key, purpose, data);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    },
    seal: (purpose, data) => `${SEAL_PREFIX}${signer.sign(purpose, data)}.${data}`,
    open(purpose, sealed) {
      if (!sealed.startsWith(SEAL_PREFIX)) return undefined;
      const dot = sealed.indexOf(".", SEAL_PREFIX.length);
      if (dot === -1) return undefined;
      const data = sealed.slice(dot + 1);
      return signer.verify(purpose, data, sealed.slice(SEAL_PREFIX.length, dot)) ? data : undefined;
    },
  };
  return signer;
}
