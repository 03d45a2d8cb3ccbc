// The gateway's own signatures: HMAC-SHA256 with a key kept in the gateway home
// (<home>/signing.key, 0600, created on first use). What only the owner's processes may write
// into Redis (the daemon's queue of human messages, Telegram pairings, run-time schedules) is
// stored sealed, so Redis write access alone cannot make anyone the owner.
//
// A signature covers a purpose and the data ("daemon-queue", "telegram-pairing", ...): a value
// sealed for one purpose does not verify for another. The key file holds one key per line; the
// first signs, all of them verify (a rotation re-signs while both are present, then drops the old).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, narrow, PRIVATE_FILE } from "./private-files.ts";

/** Sealed values start with this: `sig1:<signature>.<data>`. */
export const SEAL_PREFIX = "sig1:";

export interface Signer {
  sign(purpose: string, data: string): string;
  verify(purpose: string, data: string, signature: string): boolean;
  /** `sig1:<signature>.<data>`: the data with its signature, as one string. */
  seal(purpose: string, data: string): string;
  /** The data of a sealed value whose signature holds; undefined for anything else. */
  open(purpose: string, sealed: string): string | undefined;
}

export function signingKeyPath(home: string): string {
  return join(home, "signing.key");
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEAL_PREFIX);
}

function hmac(key: Buffer, purpose: string, data: string): Buffer {
  return createHmac("sha256", key).update(purpose).update("\n").update(data).digest();
}

export function signerFrom(keys: Buffer[]): Signer {
  if (keys.length === 0) throw new Error("a signer needs at least one key");
  const signer: Signer = {
    sign: (purpose, data) => hmac(keys[0]!, purpose, data).toString("base64url"),
    verify: (purpose, data, signature) => {
      const given = Buffer.from(signature, "base64url");
      return keys.some((key) => {
        const expected = hmac(key, purpose, data);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    },
    seal: (purpose, data) => `${SEAL_PREFIX}${signer.sign(purpose, data)}.${data}`,
    open: (purpose, sealed) => {
      if (!isSealed(sealed)) return undefined;
      const dot = sealed.indexOf(".", SEAL_PREFIX.length);
      if (dot === -1) return undefined;
      const data = sealed.slice(dot + 1);
      return signer.verify(purpose, data, sealed.slice(SEAL_PREFIX.length, dot)) ? data : undefined;
    },
  };
  return signer;
}

function readKeys(file: string): Buffer[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => Buffer.from(line, "base64url"));
}

/** Written whole through a temp file created 0600: never half a key file, never readable by others. */
function writeKeys(file: string, keys: Buffer[]): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, keys.map((key) => key.toString("base64url") + "\n").join(""), { mode: PRIVATE_FILE });
  renameSync(temp, file);
}

/** The gateway's signer; the key is created (32 random bytes, 0600) when there is none yet. */
export function loadSigner(home: string): Signer {
  const file = signingKeyPath(home);
  if (!existsSync(file)) {
    ensurePrivateDir(home);
    writeKeys(file, [randomBytes(32)]);
  }
  narrow(file, PRIVATE_FILE);
  const keys = readKeys(file);
  if (keys.length === 0) throw new Error(`${file} holds no key; delete it to have a new one made (stored signatures are then refused)`);
  return signerFrom(keys);
}

/**
 * Replaces the key. `resign` gets a signer that verifies with the old key and one that signs with
 * the new, and re-signs what is stored. Until it returns, the key file holds both keys, so a crash
 * midway leaves everything verifiable; the old key is dropped only after.
 */
export async function rotateSigningKey(home: string, resign: (old: Signer, next: Signer) => Promise<void>): Promise<void> {
  const file = signingKeyPath(home);
  loadSigner(home);
  const old = readKeys(file);
  const fresh = randomBytes(32);
  writeKeys(file, [fresh, ...old]);
  await resign(signerFrom(old), signerFrom([fresh]));
  writeKeys(file, [fresh]);
}
