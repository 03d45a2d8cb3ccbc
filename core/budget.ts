// Budgets for the runs the gateway starts (docs/attention.md), the pure half: which of a drained
// batch may start a run now and which waits, given today's automated spend, the daily budget
// and the clock. The sliding-hour windows (budget.perSource, budget.automatedPerHour) are
// checked and recorded atomically in Redis (core/lua/budget-take.lua, via core/budget-gate.ts).
// Every budget is off by default: then everything runs, as without budgets.
import type { Config } from "./config.ts";
import { isHeartbeat } from "./format.ts";
import type { GatewayEvent } from "./event.ts";
import { localClock } from "./local-time.ts";

export type BudgetSettings = Config["budget"];

export const BUDGET_WINDOW_MS = 3_600_000;

export type WaitReason = "daily" | "automatedPerHour" | "perSource";

/** Why held events wait, and until when (ms) the verdict cannot change by itself. */
export interface BudgetWait {
  reason: WaitReason;
  until: number;
  /** New events may change the verdict (an urgent one, another source): re-check on every wake. */
  newEventsMayPass: boolean;
}

/** Today's automated spend, as core/spend.ts records it. */
export interface DailySpend {
  tokens: number;
  cost: number;
}

export interface Clock {
  now(): number;
  /** Calls `fire` once after `ms`; returns its cancel. */
  setTimer(fire: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fire, ms) {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export function hourlyBudgetsOn(budget: BudgetSettings): boolean {
  return budget.perSource > 0 || budget.automatedPerHour > 0;
}

export function dailyBudgetOn(budget: BudgetSettings): boolean {
  return budget.daily.tokens > 0 || budget.daily.cost > 0;
}

export function dailyReached(budget: BudgetSettings, spent: DailySpend): boolean {
  return (budget.daily.tokens > 0 && spent.tokens >= budget.daily.tokens) || (budget.daily.cost > 0 && spent.cost >= budget.daily.cost);
}

const isUrgent = (e: Pick<GatewayEvent, "priority">) => e.priority === "urgent";

export interface DailySplit<T> {
  /** May run now (still subject to the hourly windows). */
  now: T[];
  /** Wait for the reset. */
  held: T[];
  /** False once the daily budget is reached: heartbeats are taken in (the watchdog sees them) without a prompt. */
  heartbeatPrompts: boolean;
}

/**
 * The daily budget's verdict on a batch: under it everything runs; once reached, heartbeats are
 * taken in without a prompt, urgent events run unless budget.hard, everything else waits.
 */
export function splitForDaily<T extends { event: GatewayEvent }>(entries: T[], budget: BudgetSettings, reached: boolean): DailySplit<T> {
  if (!reached) return { now: entries, held: [], heartbeatPrompts: true };
  const now: T[] = [];
  const held: T[] = [];
  for (const entry of entries) {
    const passes = isHeartbeat(entry.event) || (isUrgent(entry.event) && !budget.hard);
    (passes ? now : held).push(entry);
  }
  return { now, held, heartbeatPrompts: false };
}

/** Refused by the hourly windows: heartbeats are still taken in (no prompt), the rest waits. */
export function splitForRefusal<T extends { event: GatewayEvent }>(entries: T[]): DailySplit<T> {
  return {
    now: entries.filter((e) => isHeartbeat(e.event)),
    held: entries.filter((e) => !isHeartbeat(e.event)),
    heartbeatPrompts: false,
  };
}

/** Whether these entries can start a run at all (heartbeats only start one when they may prompt). */
export function startsRun(entries: { event: GatewayEvent }[], heartbeatPrompts: boolean): boolean {
  return entries.some((e) => heartbeatPrompts || !isHeartbeat(e.event));
}

/** The batch's sources, each with whether its events may bypass budget.perSource (an urgent one among them). */
export function sourcesOf(events: readonly GatewayEvent[], budget: BudgetSettings): { source: string; bypass: boolean }[] {
  const bypass = new Map<string, boolean>();
  for (const e of events) bypass.set(e.source, (bypass.get(e.source) ?? false) || (budget.urgentBypassesPerSource && isUrgent(e)));
  return [...bypass].map(([source, may]) => ({ source, bypass: may }));
}

/** What a wait for this reason depends on: the hourly global window and a hard daily budget only on time. */
export function waitFor(reason: WaitReason, until: number, budget: BudgetSettings): BudgetWait {
  const newEventsMayPass = reason === "perSource" || (reason === "daily" && !budget.hard);
  return { reason, until, newEventsMayPass };
}

const DAY_SECONDS = 86_400;

function secondsIntoDay(formatted: string): number {
  const [h, m, s] = formatted.slice(11).split(":").map(Number);
  return h! * 3600 + m! * 60 + s!;
}

/**
 * The first instant (whole second) of the local day after the one `now` falls in, in the zone
 * (the system's when unset): when budget.daily resets. Found by stepping on the formatted local
 * time, so days that DST makes 23 or 25 hours long come out right.
 */
export function nextLocalMidnight(now: number, timeZone?: string): number {
  const clock = localClock(timeZone);
  const today = clock.format(now).slice(0, 10);
  let t = Math.floor(now / 1000) * 1000;
  for (let step = 0; step < 4; step++) {
    const at = clock.format(t);
    const seconds = secondsIntoDay(at);
    if (at.slice(0, 10) === today) t += (DAY_SECONDS - seconds) * 1000;
    else if (seconds > 0 && clock.format(t - seconds * 1000).slice(0, 10) !== today) t -= seconds * 1000;
    else break;
  }
  return t;
}
