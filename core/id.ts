// Time-sortable event ids (ULID layout: 10 chars of milliseconds, 16 of randomness, Crockford
// base32). Ids made in the same millisecond by one process stay in order: the random part is
// incremented instead of redrawn, so sorting ids sorts events by creation.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function freshRandom(): number[] {
  return Array.from(randomBytes(16), (b) => b % 32);
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom(); // 32^16 ids in one millisecond: start over rather than overflow
}

export function newEventId(now: number = Date.now()): string {
  lastRandom = now === lastTime ? increment(lastRandom) : freshRandom();
  lastTime = now;
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join("");
}
