// A token bucket per key (per API token, per client IP), in this worker's memory: `perMinute`
// requests in a burst, refilled evenly over the minute. Rejections carry a Retry-After.
export interface RateLimiter {
  /** undefined: allowed. A number: refused, retry after that many seconds. */
  take(key: string, now?: number): number | undefined;
}

const PRUNE_AT = 10_000;

export function createRateLimiter(perMinute: number): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  const refill = (bucket: { tokens: number; at: number }, now: number) => {
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
  };
  return {
    take(key, now = Date.now()) {
      if (buckets.size >= PRUNE_AT) {
        // Forget full buckets: they are indistinguishable from a new client.
        for (const [k, bucket] of buckets) {
          refill(bucket, now);
          if (bucket.tokens >= perMinute) buckets.delete(k);
        }
      }
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: now };
      buckets.set(key, bucket);
      refill(bucket, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}
