// The fault suite's verdict: sent / delivered / duplicated / lost, printed as a diagnostic line
// and asserted (any loss fails; duplicates after a crash are reported, not failed).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { TestContext } from "node:test";

export interface Tally {
  sent: number;
  delivered: number;
  duplicated: number;
  lost: number;
  /** Delivered ids nobody sent (must be zero). */
  unexpected: number;
}

export function readDelivered(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

export function tally(sent: Iterable<string>, delivered: readonly string[]): Tally {
  const sentSet = new Set(sent);
  const seen = new Set(delivered);
  const arrived = [...sentSet].filter((id) => seen.has(id)).length;
  return {
    sent: sentSet.size,
    delivered: arrived,
    duplicated: delivered.length - seen.size,
    lost: sentSet.size - arrived,
    unexpected: [...seen].filter((id) => !sentSet.has(id)).length,
  };
}

/** Prints the tally as a test diagnostic (shown by every reporter) and fails on any loss. */
export function report(t: TestContext, name: string, result: Tally, extra = ""): void {
  const line = `${name}: sent ${result.sent} / delivered ${result.delivered} / duplicated ${result.duplicated} / lost ${result.lost}${extra ? ` (${extra})` : ""}`;
  t.diagnostic(line);
  assert.equal(result.lost, 0, `${result.lost} events lost`);
  assert.equal(result.unexpected, 0, `${result.unexpected} delivered ids were never sent`);
}

/** Polls until `done()` holds; fails with `what` after the deadline (nothing to await). */
export async function until(what: string, done: () => Promise<boolean> | boolean, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
