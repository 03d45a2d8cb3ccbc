// The event a schedule fires, and how a consumer reads one back. It carries the schedule id and
// the slot only, never the prompt: the consumer looks the prompt up in config.json or a signed
// run-time entry, so an event alone can never put words in the owner's mouth.
import type { EventInput, GatewayEvent } from "./event.ts";
import { SCHEDULE_SOURCE, SCHEDULE_TYPE, type ScheduleDef } from "./schedules.ts";

/** Reported when an `at` schedule was missed by more than 24 h: it does not fire. */
export const SCHEDULE_MISSED_TYPE = "schedule.missed";

export interface ScheduleFiring {
  schedule: string;
  /** ISO 8601, the slot's instant. */
  slot: string;
  /** A catch-up run after downtime, with the slots missed (this one included). */
  catchUp?: boolean;
  missedSlots?: number;
}

/** The slot's event; its id repeats per schedule and slot, so a slot pushed twice is delivered once. */
export function scheduleEvent(id: string, def: Pick<ScheduleDef, "type" | "priority">, slot: number, extra: Record<string, unknown> = {}): EventInput & { id: string } {
  return {
    id: `schedule-${id}-${slot}`,
    type: def.type ?? SCHEDULE_TYPE,
    source: SCHEDULE_SOURCE,
    ...(def.priority ? { priority: def.priority } : {}),
    payload: { schedule: id, slot: new Date(slot).toISOString(), ...extra },
  };
}

export function missedScheduleEvent(id: string, slot: number, lateBy: number): EventInput & { id: string } {
  return {
    id: `schedule-missed-${id}-${slot}`,
    type: SCHEDULE_MISSED_TYPE,
    source: SCHEDULE_SOURCE,
    payload: { schedule: id, slot: new Date(slot).toISOString(), lateByMs: lateBy, note: "missed by more than 24 h while no worker ran; not fired" },
  };
}

/** What an event claims about itself as a schedule firing; undefined when it claims nothing. */
export function firingClaim(event: GatewayEvent): ScheduleFiring | undefined {
  if (event.source !== SCHEDULE_SOURCE || event.type === SCHEDULE_MISSED_TYPE) return undefined;
  const { schedule, slot, catchUp, missedSlots } = event.payload;
  if (typeof schedule !== "string" || typeof slot !== "string") return undefined;
  return {
    schedule,
    slot,
    ...(catchUp === true ? { catchUp: true } : {}),
    ...(typeof missedSlots === "number" ? { missedSlots } : {}),
  };
}
