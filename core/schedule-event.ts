// The event a schedule fires, and how a consumer reads one back. It carries the schedule id and
// the slot only, never the prompt: the consumer looks the prompt up in config.json or a signed
// run-time entry, so an event alone can never put words in the owner's mouth. The firing itself
// is signed with the gateway's local key (payload `seal`, over id, type, schedule, slot and the
// catch-up facts): anyone else can push an event shaped like a firing, but not one that fires.
import type { EventInput, GatewayEvent } from "./event.ts";
import { SCHEDULE_SOURCE, SCHEDULE_TYPE, type ScheduleDef } from "./schedules.ts";
import type { Signer } from "./signing.ts";

/** The signing purpose of a firing: a value signed for anything else does not verify as one. */
export const FIRING_SEAL = "schedule-firing";

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

/** What a firing's seal covers. */
function firingData(eventId: string, type: string, claim: ScheduleFiring): string {
  return JSON.stringify([eventId, type, claim.schedule, claim.slot, claim.catchUp === true, claim.missedSlots ?? null]);
}

/** The slot's event, signed; its id repeats per schedule and slot, so a slot pushed twice is delivered once. */
export function scheduleEvent(
  id: string,
  def: Pick<ScheduleDef, "type" | "priority">,
  slot: number,
  signer: Pick<Signer, "sign">,
  extra: Record<string, unknown> = {},
): EventInput & { id: string } {
  const eventId = `schedule-${id}-${slot}`;
  const type = def.type ?? SCHEDULE_TYPE;
  const payload: Record<string, unknown> = { schedule: id, slot: new Date(slot).toISOString(), ...extra };
  const claim = firingClaim({ id: eventId, type, source: SCHEDULE_SOURCE, payload, ts: slot })!;
  payload.seal = signer.sign(FIRING_SEAL, firingData(eventId, type, claim));
  return { id: eventId, type, source: SCHEDULE_SOURCE, ...(def.priority ? { priority: def.priority } : {}), payload };
}

/** True when the event's seal verifies for what it claims: the scheduler fired it, as it says. */
export function firingVerifies(event: GatewayEvent, claim: ScheduleFiring, verifier: Pick<Signer, "verify">): boolean {
  const { seal } = event.payload;
  return typeof seal === "string" && verifier.verify(FIRING_SEAL, firingData(event.id, event.type, claim), seal);
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
