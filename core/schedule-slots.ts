// A schedule's slots (the instants it fires at) and the catch-up rule after downtime. Pure: every
// function takes the time it is asked about, so tests inject the clock. Cron slots follow
// croner's DST rules: a fixed time inside a spring-forward gap runs once just after the gap, a
// time that occurs twice at fall-back runs once, at its first occurrence.
import { Cron } from "croner";
import { AT_GRACE_MS, type ScheduleWhen } from "./schedules.ts";

export interface Slots {
  /** True for an `at` schedule: it has one slot. */
  readonly once: boolean;
  /** The first slot strictly after `after` (ms), or null when there is none. */
  next(after: number): number | null;
  /** The last slot at or before `atOrBefore` (ms), or null. */
  previous(atOrBefore: number): number | null;
  /** Slots in (after, upTo], counted up to `cap`. */
  count(after: number, upTo: number, cap: number): number;
}

export const MISSED_COUNT_CAP = 10_000;

function cronSlots(pattern: string, timezone: string | undefined): Slots {
  const job = new Cron(pattern, { timezone, paused: true });
  return {
    once: false,
    next: (after) => job.nextRun(new Date(after))?.getTime() ?? null,
    // croner's previousRuns excludes its reference; 1 ms later includes a slot exactly at it.
    previous: (atOrBefore) => job.previousRuns(1, new Date(atOrBefore + 1))[0]?.getTime() ?? null,
    count(after, upTo, cap) {
      let n = 0;
      for (const run of job.enumerate(new Date(after))) {
        if (run.getTime() > upTo || ++n >= cap) break;
      }
      return n;
    },
  };
}

/** Slots at anchor + k·every, k ≥ 1: the first one period after the schedule was created. */
function everySlots(every: number, anchor: number): Slots {
  const index = (t: number) => Math.floor((t - anchor) / every);
  return {
    once: false,
    next: (after) => anchor + every * Math.max(1, index(after) + 1),
    previous: (atOrBefore) => (index(atOrBefore) >= 1 ? anchor + every * index(atOrBefore) : null),
    count: (after, upTo, cap) => Math.min(cap, Math.max(0, index(upTo) - Math.max(0, index(after)))),
  };
}

function atSlots(at: number): Slots {
  return {
    once: true,
    next: (after) => (at > after ? at : null),
    previous: (atOrBefore) => (at <= atOrBefore ? at : null),
    count: (after, upTo) => (at > after && at <= upTo ? 1 : 0),
  };
}

export function slotsOf(when: ScheduleWhen, timezone?: string): Slots {
  if ("cron" in when) return cronSlots(when.cron, timezone);
  if ("every" in when) return everySlots(when.every, when.anchor);
  return atSlots(when.at);
}

/** A lock only has to outlive the slot it guards (and clock skew between workers). */
export function lockTtlFor(slots: Slots, now: number): number {
  const a = slots.next(now);
  const b = a === null ? null : slots.next(a);
  return Math.max(60_000, a !== null && b !== null ? 2 * (b - a) : 0);
}

export type CatchUp =
  | { action: "none" }
  | { action: "fire"; slot: number; missedSlots: number }
  | { action: "missed"; slot: number; lateBy: number };

/**
 * What a scheduler that starts (or sees Redis come back) at `now` does about slots it did not
 * fire. `lastFired`: the last slot fired (kept in Redis), null if never. `createdAt`: when the
 * schedule came to be; slots before it were never due. Recurring: ONE run for the latest slot,
 * carrying how many were missed, never one per slot; nothing on a first start without a
 * creation time (the heartbeat). Once (`at`): fired once if missed by less than 24 h, else
 * reported as missed; never again once fired.
 */
export function catchUpPlan(slots: Slots, lastFired: number | null, createdAt: number | null, now: number): CatchUp {
  const latest = slots.previous(now);
  if (latest === null) return { action: "none" };
  if (slots.once) {
    if (lastFired !== null && lastFired >= latest) return { action: "none" };
    const lateBy = now - latest;
    return lateBy < AT_GRACE_MS ? { action: "fire", slot: latest, missedSlots: 1 } : { action: "missed", slot: latest, lateBy };
  }
  const since = Math.max(lastFired ?? -Infinity, createdAt ?? -Infinity);
  if (since === -Infinity || latest <= since) return { action: "none" };
  return { action: "fire", slot: latest, missedSlots: slots.count(since, now, MISSED_COUNT_CAP) };
}
