// Waiting between retries: core's exponential back-off with ±20 % jitter, and a sleep that ends
// early when the channel stops (so `stop()` never waits out a long pause).
import type { Api } from "grammy";
import { Backoff as CoreBackoff } from "../../../core/backoff.ts";

/** grammY's Node build types its signals with the abort-controller polyfill; Node's own works at run time. */
export const forGrammy = (signal: AbortSignal) => signal as unknown as Parameters<Api["getUpdates"]>[1];

/** min, 2×min, 4×min … up to max, ±20 %. */
export class Backoff extends CoreBackoff {
  constructor(minMs = 1000, maxMs = 30_000) {
    super({ minMs, maxMs, jitter: 0.2 });
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
