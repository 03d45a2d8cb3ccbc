// A signed, timestamped delivery is pushed once. Its signed bytes are remembered in Redis (with
// the event id they became) for as long as its timestamp can pass the replay window, so the same
// request replayed inside the window, under a new delivery id or none, is answered as the
// duplicate it is instead of pushed again. Outside the window the timestamp check refuses it.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { HookConfig } from "../../core/hook-config.ts";
import { keysFor } from "../../core/keys.ts";

export interface SignedOnce {
  /** The id of the event this signature already became; undefined when it is new. */
  earlier?: string;
  /** Forgets the signature again (the push failed: the sender's retry must land). */
  release(): Promise<void>;
}

/** undefined for hooks without a signed timestamp (nothing bounds their replays to remember). */
export async function claimSignature(redis: Redis, prefix: string, hook: HookConfig, stamp: string | undefined, raw: Buffer, eventId: string): Promise<SignedOnce | undefined> {
  if (hook.auth !== "hmac" || !hook.timestampHeader || stamp === undefined) return undefined;
  // The stamp is digits only (checked with the signature): stamp, newline, body is unambiguous.
  const digest = createHash("sha256").update(stamp.trim()).update("\n").update(raw).digest("hex").slice(0, 32);
  const key = keysFor(prefix).hookSignature(hook.name, digest);
  // A stamp passes for the window on either side of now, plus a second of rounding.
  const ttl = (2 * hook.replayWindowSeconds + 1) * 1000;
  const fresh = await redis.set(key, eventId, "PX", ttl, "NX");
  return {
    earlier: fresh ? undefined : ((await redis.get(key)) ?? eventId),
    release: async () => {
      if (fresh) await redis.del(key);
    },
  };
}
