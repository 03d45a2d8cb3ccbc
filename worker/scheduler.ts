// The local heartbeat scheduler, used when no Inngest server is configured. croner fires on the
// heartbeat schedule; each slot is claimed with a Redis lock (SET NX PX keyed by the slot time),
// so any number of workers fire it once. The last fired slot is kept in Redis: a worker that
// starts (or sees Redis come back) after missed slots fires ONE catch-up run, not one per slot.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Cron } from "croner";
import { keysFor } from "../core/keys.ts";
import type { Logger } from "../core/log.ts";
import { pushEvent } from "../core/push.ts";
import { heartbeatInput } from "./heartbeat.ts";
import type { PushTarget } from "./notify.ts";
import type { HeartbeatSchedule } from "./schedule.ts";

export interface LocalScheduler {
  readonly workerId: string;
  nextRun(): Date | null;
  /** Stops firing; resolves once a heartbeat already under way has been pushed and recorded. */
  stop(): Promise<void>;
}

const MISSED_COUNT_CAP = 10_000;

export function startLocalScheduler(schedule: HeartbeatSchedule, { redis, settings }: PushTarget, log: Logger): LocalScheduler {
  const keys = keysFor(settings.prefix);
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const job = new Cron(schedule.pattern, { timezone: schedule.timezone, paused: true });
  const [a, b] = job.nextRuns(2);
  // A lock only has to outlive the slot it guards (and clock skew between workers).
  const lockTtl = Math.max(60_000, 2 * (a && b ? b.getTime() - a.getTime() : 0));

  /** Claims the slot and pushes its heartbeat; false when another worker had it already. */
  async function fire(slot: number, extra: Record<string, unknown> = {}): Promise<boolean> {
    const claimed = await redis.set(keys.lock(`heartbeat:${slot}`), workerId, "PX", lockTtl, "NX");
    if (claimed !== "OK") return false;
    const slotIso = new Date(slot).toISOString();
    const input = heartbeatInput({ scheduler: "local", trigger: "schedule", slot: slotIso, worker: workerId, ...extra });
    // The id repeats per slot, so even a lock lost to a Redis failover cannot deliver twice.
    const result = await pushEvent(redis, settings, { ...input, id: `heartbeat-local-${slot}` });
    await redis.set(keys.lastFired("heartbeat"), String(slot));
    log.info("heartbeat fired", { slot: slotIso, id: result.id, duplicate: result.duplicate, ...extra });
    return true;
  }

  function missedSince(lastFired: number, now: Date): number {
    let count = 0;
    for (const run of job.enumerate(new Date(lastFired))) {
      if (run > now || ++count >= MISSED_COUNT_CAP) break;
    }
    return count;
  }

  async function catchUp(): Promise<void> {
    const stored = await redis.get(keys.lastFired("heartbeat"));
    if (stored === null) return; // first start: nothing was missed
    const now = new Date();
    const latest = job.previousRuns(1, now)[0];
    if (!latest || latest.getTime() <= Number(stored)) return;
    const missed = missedSince(Number(stored), now);
    await fire(latest.getTime(), { catchUp: true, missedSlots: missed });
  }

  const report = (what: string) => (error: unknown) => log.warn(`heartbeat ${what} failed: ${(error as Error).message}`);
  // What is under way when stop() is called, so the caller can close Redis after it, not during.
  const underWay = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    underWay.add(work);
    void work.finally(() => underWay.delete(work));
    return work;
  };
  const runCatchUp = () => void track(catchUp().catch(report("catch-up")));

  const ticker = new Cron(schedule.pattern, { timezone: schedule.timezone, protect: true }, async () => {
    const slot = job.previousRuns(1, new Date())[0];
    if (slot) await track(fire(slot.getTime()).catch(report(`slot ${slot.toISOString()}`)));
  });
  redis.on("ready", runCatchUp);
  if (redis.status === "ready") runCatchUp();
  log.info("local heartbeat scheduler started", { pattern: schedule.pattern, timezone: schedule.timezone, workerId });

  return {
    workerId,
    nextRun: () => ticker.nextRun(),
    async stop() {
      ticker.stop();
      job.stop();
      redis.off("ready", runCatchUp);
      await Promise.all(underWay);
    },
  };
}
