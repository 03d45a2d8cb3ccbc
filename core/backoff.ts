// Exponential back-off, written once: min, 2×min, 4×min … capped at max, with optional jitter
// so that many clients retrying at once spread out. Used by Redis reconnects, the producer's
// retries through a failover, the Inngest sync, Telegram polling and the delivery loop.

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  /** Spread each pause by ± this fraction (0.2 = ±20 %); 0 for exact pauses. */
  jitter?: number;
}

/** The pause before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, { minMs, maxMs, jitter = 0 }: BackoffPolicy): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return jitter > 0 ? Math.round(base * (1 - jitter + Math.random() * 2 * jitter)) : base;
}

/** A back-off that counts its own attempts: next() after each failure, reset() after a success. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly policy: BackoffPolicy) {}

  next(): number {
    return backoffDelay(++this.attempt, this.policy);
  }

  reset(): void {
    this.attempt = 0;
  }
}
