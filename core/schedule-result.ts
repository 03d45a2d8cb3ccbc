// What became of a schedule's last firing, for `status` and `schedule list`. The worker records
// "missed"; the tier-4 daemon records what happened to the reply. A slot fired with no result
// recorded for it (yet, or ever: in tiers 2-3 the reply stays in the session) shows as "fired".
import type { Redis } from "ioredis";
import { keysFor } from "./keys.ts";

export type ScheduleResult = "fired" | "missed" | "reply sent" | "dropped as ok" | "reply logged" | "reply failed";

export interface ScheduleOutcome {
  result: ScheduleResult;
  /** The slot it is about (ms). */
  slot: number;
  /** When it was recorded (ms). */
  at: number;
}

export async function recordScheduleResult(redis: Redis, prefix: string, id: string, outcome: ScheduleOutcome): Promise<void> {
  await redis.hset(keysFor(prefix).scheduleResults, id, JSON.stringify(outcome));
}

export async function readScheduleResults(redis: Redis, prefix: string): Promise<Map<string, ScheduleOutcome>> {
  const all = await redis.hgetall(keysFor(prefix).scheduleResults);
  return new Map(Object.entries(all).map(([id, raw]) => [id, JSON.parse(raw) as ScheduleOutcome]));
}

/** The last result: the recorded one when it is about the last fired slot or a later one (a manual run), else "fired". */
export function lastResultOf(recorded: ScheduleOutcome | undefined, lastFired: number | null): ScheduleOutcome | null {
  if (recorded && (lastFired === null || recorded.slot >= lastFired)) return recorded;
  return lastFired === null ? null : { result: "fired", slot: lastFired, at: lastFired };
}
