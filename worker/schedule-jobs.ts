// Turns the user's schedules into the local scheduler's jobs: config.json's `schedules` and the
// signed run-time entries in Redis (re-read every few seconds, so one added with the CLI or the
// agent's tool starts firing without a restart). Unsigned or forged entries are refused with a
// warning, once per stored value. Disabled schedules are not fired.
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import { keysFor } from "../core/keys.ts";
import type { Signer } from "../core/signing.ts";
import type { Logger } from "../core/log.ts";
import { missedScheduleEvent, scheduleEvent } from "../core/schedule-event.ts";
import { recordScheduleResult } from "../core/schedule-result.ts";
import { slotsOf } from "../core/schedule-slots.ts";
import { readEntries, spendRuntimeSchedule, type RuntimeSchedule } from "../core/schedule-store.ts";
import { whenOf, type ScheduleDef, type ScheduleOrigin } from "../core/schedules.ts";
import type { LocalScheduler, ScheduledJob } from "./scheduler.ts";

const REFRESH_MS = 2000;

interface JobSource {
  id: string;
  def: ScheduleDef;
  origin: ScheduleOrigin;
  createdAt: number;
  fingerprint: string;
}

function jobOf(source: JobSource, config: Config, redis: Redis, signer: Signer): ScheduledJob {
  const { id, def, origin, createdAt } = source;
  const timezone = def.timezone ?? config.heartbeat.timezone;
  const runTimeOnce = origin !== "config" && def.at !== undefined;
  return {
    name: `schedule:${id}`,
    slots: slotsOf(whenOf(def, timezone, createdAt), timezone),
    createdAt,
    fingerprint: source.fingerprint,
    input: (slot, extra) => scheduleEvent(id, def, slot, signer, { scheduler: "local", ...extra }),
    missedInput: (slot, lateBy) => missedScheduleEvent(id, slot, lateBy),
    settled: async (slot, outcome) => {
      // A fired slot's result is what the consumer makes of it; a missed one has no consumer.
      if (outcome === "missed") await recordScheduleResult(redis, config.prefix, id, { result: "missed", slot, at: Date.now() });
      // A run-time `at` has fired for good: it leaves the list. A config one stays, marked fired.
      if (runTimeOnce) await spendRuntimeSchedule(redis, config.prefix, id);
    },
    firedMessage: "schedule fired",
    logFields: { schedule: id, origin },
  };
}

/** When each config schedule was first seen (the first worker to see it writes it). */
async function configCreatedAt(redis: Redis, config: Config, ids: string[]): Promise<Map<string, number>> {
  const keys = keysFor(config.prefix);
  const now = String(Date.now());
  const times = new Map<string, number>();
  for (const id of ids) {
    await redis.set(keys.scheduleCreated(id), now, "NX");
    times.set(id, Number(await redis.get(keys.scheduleCreated(id))));
  }
  return times;
}

export interface ScheduleWatch {
  /** One read of config and Redis, applied to the scheduler (also what the timer runs). */
  refresh(): Promise<void>;
  /** Stops re-reading; resolves once a read under way has been applied. */
  stop(): Promise<void>;
}

export function watchSchedules(scheduler: LocalScheduler, config: Config, redis: Redis, signer: Signer, log: Logger): ScheduleWatch {
  const configIds = Object.keys(config.schedules).filter((id) => config.schedules[id]!.enabled);
  let created: Map<string, number> | undefined;
  const warned = new Set<string>();

  async function refresh(): Promise<void> {
    created ??= await configCreatedAt(redis, config, configIds);
    const stored = await redis.hgetall(keysFor(config.prefix).schedules);
    const { schedules, refused } = readEntries(stored, signer);
    for (const { id, refused: reason } of refused) {
      const seen = `${id}\n${stored[id]}`;
      if (warned.has(seen)) continue;
      warned.add(seen);
      log.warn(`run-time schedule "${id}" refused, not fired: ${reason}`, { schedule: id });
    }
    const sources: JobSource[] = configIds.map((id) => {
      const def = config.schedules[id]!;
      const createdAt = created!.get(id)!;
      return { id, def, origin: "config", createdAt, fingerprint: `${JSON.stringify(def)} ${createdAt}` };
    });
    // A config schedule wins over a run-time entry of the same id (added before config.json was edited).
    const runTime = schedules.filter((s: RuntimeSchedule) => s.def.enabled && !config.schedules[s.id]);
    for (const entry of runTime) {
      sources.push({ id: entry.id, def: entry.def, origin: entry.createdBy, createdAt: entry.createdAt, fingerprint: stored[entry.id]! });
    }
    scheduler.setSchedules(sources.map((source) => jobOf(source, config, redis, signer)));
  }

  let reading: Promise<void> | undefined;
  const tick = () => {
    if (reading || redis.status !== "ready") return;
    reading = refresh()
      .catch((error: Error) => log.warn(`reading schedules failed: ${error.message}; retrying in ${REFRESH_MS / 1000}s`))
      .finally(() => (reading = undefined));
  };
  const timer = setInterval(tick, REFRESH_MS);
  redis.on("ready", tick);
  tick();
  return {
    refresh,
    async stop() {
      clearInterval(timer);
      redis.off("ready", tick);
      await reading;
    },
  };
}
