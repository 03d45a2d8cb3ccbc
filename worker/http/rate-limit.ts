// Token buckets per key (a client address, the API token), in this worker's memory: `perMinute`
// requests in a burst, refilled evenly over the minute. O(1) per request: at most `maxKeys` are
// kept, the least recently used forgotten first (a forgotten key starts full, like a new one).
// Rejections carry a Retry-After.
import type { Context, MiddlewareHandler } from "hono";
import { TokenBucket } from "../../core/token-bucket.ts";
import { refuse } from "./errors.ts";

export interface RateLimiter {
  /** undefined: allowed. A number: refused, retry after that many seconds. */
  take(key: string, now?: number): number | undefined;
}

const MAX_KEYS = 10_000;

export function createRateLimiter(perMinute: number, maxKeys = MAX_KEYS): RateLimiter {
  const buckets = new Map<string, TokenBucket>();
  return {
    take(key, now = Date.now()) {
      const bucket = buckets.get(key) ?? new TokenBucket(perMinute, 60_000, now);
      // Re-inserted: the Map's first key is then the least recently used.
      buckets.delete(key);
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      const wait = bucket.take(now);
      return wait === 0 ? undefined : Math.max(1, Math.ceil(wait / 1000));
    },
  };
}

/** A middleware refusing with 429 once the key's bucket is empty. */
export function limitBy(limiter: RateLimiter, keyOf: (c: Context) => Promise<string>, what: string): MiddlewareHandler {
  return async (c, next) => {
    const retryAfter = limiter.take(await keyOf(c));
    if (retryAfter === undefined) return next();
    return refuse(c, 429, `rate limit exceeded for this ${what}; retry in ${retryAfter}s`, { "Retry-After": String(retryAfter) });
  };
}
