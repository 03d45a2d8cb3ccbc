// Waiting between retries: exponential back-off with jitter, and a sleep that ends early when
// the channel stops (so `stop()` never waits out a long pause).
import type { Api } from "grammy";

/** grammY's Node build types its signals with the abort-controller polyfill; Node's own works at run time. */
export const forGrammy = (signal: AbortSignal) => signal as unknown as Parameters<Api["getUpdates"]>[1];

export class Backoff {
  private attempt = 0;
  constructor(
    private readonly minMs = 1000,
    private readonly maxMs = 30_000,
  ) {}

  /** The next pause: min, 2×min, 4×min … up to max, ±20 %. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.attempt++);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.attempt = 0;
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
