// Refusing an address that keeps failing: after `maxFailures` failed attempts within `window`
// ms, the address is refused for `blockFor` ms. O(1) per call; at most `maxAddresses` are
// remembered (the oldest forgotten first), so a flood of addresses cannot grow it without bound.
export interface BackoffGateOptions {
  maxFailures: number;
  window: number;
  blockFor: number;
  maxAddresses?: number;
}

interface Record {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

export class BackoffGate {
  private readonly records = new Map<string, Record>();

  constructor(private readonly options: BackoffGateOptions) {}

  /** ms until `address` may try again; 0 when it may try now. */
  blockedFor(address: string, now = Date.now()): number {
    const record = this.records.get(address);
    return record ? Math.max(0, record.blockedUntil - now) : 0;
  }

  failed(address: string, now = Date.now()): void {
    const { maxFailures, window, blockFor, maxAddresses = 10_000 } = this.options;
    let record = this.records.get(address);
    if (!record || now - record.windowStart > window) record = { failures: 0, windowStart: now, blockedUntil: record?.blockedUntil ?? 0 };
    record.failures += 1;
    if (record.failures >= maxFailures) {
      record.blockedUntil = now + blockFor;
      record.failures = 0;
      record.windowStart = now;
    }
    // Re-inserted: the Map's order is then least recently failed first.
    this.records.delete(address);
    this.records.set(address, record);
    if (this.records.size > maxAddresses) this.records.delete(this.records.keys().next().value!);
  }
}
