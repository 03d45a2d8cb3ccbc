// A token bucket: `capacity` requests in a burst, refilled evenly at `capacity` per `period` ms.
// Used per WebSocket connection and, keyed, by the worker's rate limiter.
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly period: number,
    now = Date.now(),
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  /** 0: taken. Otherwise refused: ms until one token is back. */
  take(now = Date.now()): number {
    const perMs = this.capacity / this.period;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.at) * perMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / perMs);
  }

  /** Refilled to capacity: indistinguishable from a new bucket. */
  full(now = Date.now()): boolean {
    return this.tokens + (now - this.at) * (this.capacity / this.period) >= this.capacity;
  }
}
