// Every schedule as the owner sees it — config and verified run-time entries — with its next and
// last run, for `agent-gateway schedule list|next`, the agent's tool and status lines.
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import { keysFor } from "./keys.ts";
import type { Signer } from "./signing.ts";
import { slotsOf, type Slots } from "./schedule-slots.ts";
import { loadRuntimeSchedules } from "./schedule-store.ts";
import { whenOf, type ScheduleDef, type ScheduleOrigin } from "./schedules.ts";

export interface ScheduleView {
  id: string;
  origin: ScheduleOrigin;
  def: ScheduleDef;
  /** The zone its slots are computed in (undefined: this machine's). */
  timezone?: string;
  slots: Slots;
  /** Next slot (ms), null when disabled or a one-shot that is done. */
  next: number | null;
  /** Last slot fired or reported missed (ms), null if never. */
  lastFired: number | null;
}

export interface ScheduleViews {
  schedules: ScheduleView[];
  /** Run-time entries that do not verify (forged, unsigned, invalid): never fired. */
  refused: { id: string; refused: string }[];
}

export async function viewSchedules(redis: Redis, config: Config, signer: Signer, now = Date.now()): Promise<ScheduleViews> {
  const keys = keysFor(config.prefix);
  const runTime = await loadRuntimeSchedules(redis, config.prefix, signer);
  const entries: { id: string; origin: ScheduleOrigin; def: ScheduleDef; createdAt: number | null }[] = [
    ...Object.entries(config.schedules).map(([id, def]) => ({ id, origin: "config" as const, def, createdAt: null })),
    ...runTime.schedules.filter((s) => !config.schedules[s.id]).map((s) => ({ id: s.id, origin: s.createdBy, def: s.def, createdAt: s.createdAt })),
  ];
  const schedules: ScheduleView[] = [];
  for (const { id, origin, def, createdAt } of entries) {
    const [fired, seen] = await Promise.all([redis.get(keys.lastFired(`schedule:${id}`)), redis.get(keys.scheduleCreated(id))]);
    const timezone = def.timezone ?? config.heartbeat.timezone;
    // A config `every` counts from when a worker first saw it (now, if none has yet).
    const slots = slotsOf(whenOf(def, timezone, createdAt ?? (seen === null ? now : Number(seen))), timezone);
    const lastFired = fired === null ? null : Number(fired);
    const done = slots.once && lastFired !== null;
    schedules.push({ id, origin, def, timezone, slots, next: def.enabled && !done ? slots.next(now) : null, lastFired });
  }
  return { schedules, refused: runTime.refused };
}
