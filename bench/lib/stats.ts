// Small statistics helpers shared by the benchmarks: percentiles, medians, PING round trips.
import type { Redis } from "ioredis";

/** The q-quantile (0..1) of the values, nearest-rank. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

/** Median, 99th percentile and maximum: how a latency table row reads. */
export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: Math.max(...values) };
}

/** Milliseconds, from a high-resolution clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Round-trip times of `count` sequential PINGs on this client, in ms. */
export async function pingTimes(redis: Redis, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = nowMs();
    await redis.ping();
    times.push(nowMs() - start);
  }
  return times;
}
