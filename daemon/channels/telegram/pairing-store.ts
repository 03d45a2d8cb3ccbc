// Pairing codes in Redis: an unknown Telegram chat is given a short code once; the owner
// approves or denies it from the CLI (`agent-gateway pairing approve <code>`). Codes expire
// with their keys; an approved chat joins a Redis set that the channel checks along with the
// configured allowlist (core/paired-chats.ts reads it). Shared by the channel (request) and the CLI (the rest).
// Paired chats are stored sealed with the gateway's signing key (core/signing.ts): a chat id
// added to the set by hand is not a pairing, and is ignored (and logged) when it writes.
import { randomInt } from "node:crypto";
import type { Redis } from "ioredis";
import { keysFor } from "../../../core/keys.ts";
import { pairedMember as member, PAIRING_PURPOSE } from "../../../core/paired-chats.ts";
import { isSealed, type Signer } from "../../../core/signing.ts";

export interface PairingRequest {
  code: string;
  chatId: number;
  userId?: number;
  /** Who asked, as Telegram shows them (name and @username), for the owner to recognise. */
  who: string;
  requestedAt: number;
  expiresAt: number;
}

// No 0/O, 1/I/L: codes are read off a phone and typed into a terminal.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const newCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
export const normaliseCode = (code: string) => code.trim().toUpperCase();

/**
 * Gives `chatId` a pairing code, unless it already holds one (or was denied) within the
 * expiry: then `fresh` is false and the chat has been answered before.
 */
export async function requestPairing(
  redis: Redis,
  prefix: string,
  asker: { chatId: number; userId?: number; who: string },
  ttlMs: number,
): Promise<{ code: string; fresh: boolean }> {
  const keys = keysFor(prefix);
  const code = newCode();
  // SET NX on the chat's marker makes "refused once" hold even for messages racing in together.
  const claimed = await redis.set(keys.pairingChat(asker.chatId), code, "PX", ttlMs, "NX");
  if (!claimed) return { code: (await redis.get(keys.pairingChat(asker.chatId))) ?? "", fresh: false };
  const now = Date.now();
  const request: PairingRequest = { code, ...asker, requestedAt: now, expiresAt: now + ttlMs };
  await redis
    .multi()
    .set(keys.pairing(code), JSON.stringify(request), "PX", ttlMs)
    .zadd(keys.pairings, request.expiresAt, code)
    .zremrangebyscore(keys.pairings, 0, now)
    .exec();
  return { code, fresh: true };
}

/** Pending (unexpired, undecided) requests, oldest first. */
export async function listPairings(redis: Redis, prefix: string): Promise<PairingRequest[]> {
  const keys = keysFor(prefix);
  await redis.zremrangebyscore(keys.pairings, 0, Date.now());
  const codes = await redis.zrange(keys.pairings, "0", "-1");
  if (!codes.length) return [];
  const raw = await redis.mget(codes.map((c) => keys.pairing(c)));
  return raw.flatMap((r) => (r ? [JSON.parse(r) as PairingRequest] : []));
}

async function takeRequest(redis: Redis, prefix: string, code: string): Promise<PairingRequest | undefined> {
  const keys = keysFor(prefix);
  const normal = normaliseCode(code);
  // GETDEL: two owners approving the same code at once decide it only once.
  const raw = await redis.getdel(keys.pairing(normal));
  await redis.zrem(keys.pairings, normal);
  return raw ? (JSON.parse(raw) as PairingRequest) : undefined;
}

/** Lets the code's chat in for good; undefined when the code is unknown or expired. */
export async function approvePairing(redis: Redis, prefix: string, code: string, signer: Signer): Promise<PairingRequest | undefined> {
  const keys = keysFor(prefix);
  const request = await takeRequest(redis, prefix, code);
  if (!request) return undefined;
  await redis.multi().sadd(keys.telegramPaired, member(signer, request.chatId)).del(keys.pairingChat(request.chatId)).exec();
  return request;
}

/** Refuses the code's chat: it is not answered again until the code would have expired. */
export async function denyPairing(redis: Redis, prefix: string, code: string): Promise<PairingRequest | undefined> {
  const keys = keysFor(prefix);
  const request = await takeRequest(redis, prefix, code);
  if (!request) return undefined;
  await redis.set(keys.pairingChat(request.chatId), "denied", "PXAT", request.expiresAt);
  return request;
}

/** Paired chats whose seal holds (`paired`), and set members that are not pairings (`refused`). */
export async function listPaired(redis: Redis, prefix: string, signer: Signer): Promise<{ paired: number[]; refused: string[] }> {
  const paired: number[] = [];
  const refused: string[] = [];
  for (const value of await redis.smembers(keysFor(prefix).telegramPaired)) {
    const chatId = signer.open(PAIRING_PURPOSE, value);
    if (chatId === undefined) refused.push(value);
    else paired.push(Number(chatId));
  }
  return { paired: paired.sort((a, b) => a - b), refused };
}

/** Removes a chat let in by pairing (and any unsigned entry for it); false when it was not paired. */
export async function revokePaired(redis: Redis, prefix: string, chatId: number, signer: Signer): Promise<boolean> {
  return (await redis.srem(keysFor(prefix).telegramPaired, member(signer, chatId), String(chatId))) > 0;
}

/** Seals the plain chat ids an older version stored (the first start after the upgrade). */
export async function sealUnsignedPairings(redis: Redis, prefix: string, signer: Signer): Promise<number> {
  const key = keysFor(prefix).telegramPaired;
  const plain = (await redis.smembers(key)).filter((value) => !isSealed(value) && /^-?\d+$/.test(value));
  if (plain.length === 0) return 0;
  await redis.multi().srem(key, ...plain).sadd(key, ...plain.map((id) => member(signer, Number(id)))).exec();
  return plain.length;
}

/** Re-signs the pairings with a new key (`agent-gateway signing rotate`). */
export async function resignPairings(redis: Redis, prefix: string, old: Signer, next: Signer): Promise<number> {
  const key = keysFor(prefix).telegramPaired;
  const valid = (await redis.smembers(key)).flatMap((value) => {
    const chatId = old.open(PAIRING_PURPOSE, value);
    return chatId === undefined ? [] : [{ value, chatId: Number(chatId) }];
  });
  if (valid.length === 0) return 0;
  await redis.multi().srem(key, ...valid.map((v) => v.value)).sadd(key, ...valid.map((v) => member(next, v.chatId))).exec();
  return valid.length;
}
