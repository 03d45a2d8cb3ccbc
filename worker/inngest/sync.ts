// Registers the app with the Inngest server on boot: the same `PUT /api/inngest` as the seed's
// curl, sent to this worker's own handler, retried with exponential back-off (1 s → 60 s) until
// it succeeds or the worker stops. Each failure is logged with the server's reason.
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "../../core/backoff.ts";
import type { Logger } from "../../core/log.ts";

export interface SyncOptions {
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export async function syncWithInngest(url: string, log: Logger, signal: AbortSignal, { firstDelayMs = 1_000, maxDelayMs = 60_000 }: SyncOptions = {}): Promise<boolean> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    let reason: string;
    try {
      const response = await fetch(url, { method: "PUT", signal });
      const body = await response.text();
      if (response.ok) {
        log.info("synced with the Inngest server", { attempt });
        return true;
      }
      reason = `HTTP ${response.status}: ${body.slice(0, 500)}`;
    } catch (error) {
      if (signal.aborted) break;
      reason = (error as Error).message;
    }
    const delay = backoffDelay(attempt, { minMs: firstDelayMs, maxMs: maxDelayMs });
    log.warn(`Inngest sync failed (attempt ${attempt}): ${reason}; retrying in ${Math.round(delay / 1000)}s`, { url });
    await sleep(delay, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
