// Every schedule as the owner sees it — config and verified run-time entries — with its next and
// last run and last result, for `agent-gateway schedule list|next`, `status` and the agent's tool.
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import { keysFor } from "./keys.ts";
import type { LocalClock } from "./local-time.ts";
import type { Signer } from "./signing.ts";
import { lastResultOf, readScheduleResults, type ScheduleOutcome } from "./schedule-result.ts";
import { slotsOf, type Slots } from "./schedule-slots.ts";
import { loadRuntimeSchedules } from "./schedule-store.ts";
import { describeWhen, whenOf, type ScheduleDef, type ScheduleOrigin } from "./schedules.ts";

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
  /** What became of the last firing (fired, missed, reply sent, dropped as ok …), null if never fired. */
  lastResult: ScheduleOutcome | null;
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
  const results = await readScheduleResults(redis, config.prefix);
  const schedules: ScheduleView[] = [];
  for (const { id, origin, def, createdAt } of entries) {
    const [fired, seen] = await Promise.all([redis.get(keys.lastFired(`schedule:${id}`)), redis.get(keys.scheduleCreated(id))]);
    const timezone = def.timezone ?? config.heartbeat.timezone;
    // A config `every` counts from when a worker first saw it (now, if none has yet).
    const slots = slotsOf(whenOf(def, timezone, createdAt ?? (seen === null ? now : Number(seen))), timezone);
    const lastFired = fired === null ? null : Number(fired);
    const done = slots.once && lastFired !== null;
    const lastResult = lastResultOf(results.get(id), lastFired);
    schedules.push({ id, origin, def, timezone, slots, next: def.enabled && !done ? slots.next(now) : null, lastFired, lastResult });
  }
  return { schedules, refused: runTime.refused };
}

/** One schedule in `--json` output (`schedule list`, `status`): times as ISO 8601, null when none. */
export type ScheduleJson = ReturnType<typeof scheduleJson>;

export function scheduleJson(view: ScheduleView) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const { def, lastResult } = view;
  return {
    id: view.id,
    origin: view.origin,
    when: describeWhen(def),
    timezone: view.timezone ?? null,
    enabled: def.enabled,
    next: iso(view.next),
    lastFired: iso(view.lastFired),
    lastResult: lastResult && { result: lastResult.result, slot: iso(lastResult.slot), at: iso(lastResult.at) },
    replyTo: def.replyTo ?? null,
    notify: def.notify,
    prompt: def.prompt,
  };
}

/** The table `schedule list` and `status` print (from the JSON form): header and one row per
 *  schedule. LAST is the latest run: a slot the worker fired, or a later manual `schedule run`. */
export function scheduleRows(schedules: readonly ScheduleJson[], clock: Pick<LocalClock, "format">): [string[], string[][]] {
  const at = (iso: string | null) => (iso === null ? "-" : clock.format(Date.parse(iso)));
  const rows = schedules.map((s) => [s.id, s.origin, s.when, s.enabled ? at(s.next) : "disabled", at(s.lastResult?.slot ?? null), s.lastResult?.result ?? "-"]);
  return [["ID", "FROM", "WHEN", "NEXT", "LAST", "RESULT"], rows];
}
