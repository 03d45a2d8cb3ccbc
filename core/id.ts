// Time-sortable event ids (ULID layout: 10 chars of milliseconds, 16 of randomness, Crockford
// base32). Ids made in the same millisecond by one process stay in order: the random part is
// incremented instead of redrawn, so sorting ids sorts events by creation.
import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_DIGITS = 16;

// Random bytes come from a pool refilled in one call, not one crypto call per id.
const pool = Buffer.alloc(RANDOM_DIGITS * 256);
let poolOffset = pool.length;

let lastTime = -1;
let lastTimeDigits = "";
const digits = new Uint8Array(RANDOM_DIGITS);

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function drawRandom(): void {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < RANDOM_DIGITS; i++) digits[i] = pool[poolOffset++]! % 32;
}

function increment(): void {
  for (let i = RANDOM_DIGITS - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return;
    }
    digits[i] = 0;
  }
  drawRandom(); // 32^16 ids in one millisecond: start over rather than overflow
}

export function newEventId(now: number = Date.now()): string {
  if (now === lastTime) {
    increment();
  } else {
    drawRandom();
    lastTime = now;
    lastTimeDigits = encodeTime(now);
  }
  let id = lastTimeDigits;
  for (let i = 0; i < RANDOM_DIGITS; i++) id += ALPHABET[digits[i]!];
  return id;
}
