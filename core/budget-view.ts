// The budgets as `status`, `status --json` and `/gateway status` show them: today's automated
// spend against budget.daily (reached, lifted by /gateway resume, when it resets), the runs of
// the last hour against budget.automatedPerHour, and the per-source limit. Read from Redis, so
// every process shows the same.
import type { Redis } from "ioredis";
import { BUDGET_WINDOW_MS, dailyBudgetOn, dailyReached, nextLocalMidnight, type BudgetSettings, type BudgetWait, type DailySpend } from "./budget.ts";
import { keysFor } from "./keys.ts";
import { localClock } from "./local-time.ts";
import { localDay, readSpendDay, totalTokens } from "./spend.ts";

export interface BudgetState {
  /** The zone the local day is counted in (heartbeat.timezone; the system's when unset). */
  timeZone?: string;
  /** Unset when no daily budget is configured. */
  daily?: {
    day: string;
    spent: { tokens: number; cost: number };
    limit: { tokens: number; cost: number };
    reached: boolean;
    /** Lifted for the rest of the day by /gateway resume. */
    resumed: boolean;
    hard: boolean;
    /** ms: the next local midnight. */
    resetsAt: number;
  };
  /** Unset when budget.automatedPerHour is 0. */
  automatedLastHour?: { runs: number; limit: number };
  /** Unset when budget.perSource is 0. */
  perSource?: { limit: number; urgentBypasses: boolean };
}

/** Today's (local day's) automated spend against the daily budget, and whether /gateway resume lifted it. */
export async function readDailySpend(redis: Redis, prefix: string, now: number, timeZone?: string): Promise<{ day: string; spent: DailySpend; resumed: boolean }> {
  const day = localDay(now, timeZone);
  const [today, resumed] = await Promise.all([readSpendDay(redis, prefix, day), redis.exists(keysFor(prefix).budgetResumed(day))]);
  return { day, spent: { tokens: totalTokens(today.automated), cost: today.automated.cost }, resumed: resumed === 1 };
}

export async function readBudgetState(redis: Redis, prefix: string, budget: BudgetSettings, now: number, timeZone?: string): Promise<BudgetState> {
  const keys = keysFor(prefix);
  const state: BudgetState = { timeZone };
  if (dailyBudgetOn(budget)) {
    const { day, spent, resumed } = await readDailySpend(redis, prefix, now, timeZone);
    const limit = { tokens: budget.daily.tokens, cost: budget.daily.cost };
    const reached = dailyReached(budget, spent);
    state.daily = { day, spent, limit, reached, resumed, hard: budget.hard, resetsAt: nextLocalMidnight(now, timeZone) };
  }
  if (budget.automatedPerHour > 0) {
    state.automatedLastHour = { runs: await redis.zcount(keys.budgetRuns, `(${now - BUDGET_WINDOW_MS}`, "+inf"), limit: budget.automatedPerHour };
  }
  if (budget.perSource > 0) state.perSource = { limit: budget.perSource, urgentBypasses: budget.urgentBypassesPerSource };
  return state;
}

const of = (spent: number, limit: number, unit: string) => (limit > 0 ? `${spent} / ${limit} ${unit}` : undefined);

/** Lines for status; one line saying so when every budget is off. */
export function describeBudget(state: BudgetState): string[] {
  const lines: string[] = [];
  const { daily, automatedLastHour, perSource, timeZone } = state;
  if (daily) {
    const amounts = [of(daily.spent.tokens, daily.limit.tokens, "tokens"), of(Number(daily.spent.cost.toFixed(4)), daily.limit.cost, "cost")].filter(Boolean).join(" · ");
    const resets = localClock(timeZone).format(daily.resetsAt).slice(11, 16);
    let verdict = "under budget";
    if (daily.reached && daily.resumed) verdict = "REACHED, lifted for today by /gateway resume";
    else if (daily.reached) {
      const urgent = daily.hard ? "urgent ones too (budget.hard)" : "urgent ones still run";
      verdict = `REACHED: no heartbeat prompts, non-urgent events wait (${urgent}) until ${resets}; /gateway resume lifts it for today`;
    }
    lines.push(`daily budget (automated runs): ${amounts}: ${verdict}`);
  }
  if (automatedLastHour) lines.push(`automated runs in the last hour: ${automatedLastHour.runs} / ${automatedLastHour.limit}`);
  if (perSource) lines.push(`per source: ${perSource.limit} runs an hour${perSource.urgentBypasses ? " (urgent events bypass it)" : ""}`);
  return lines.length > 0 ? lines : ["budgets: none set"];
}

/** The one notice a session gets when the daily budget is reached. */
export function describeExhausted(e: { spent: { tokens: number; cost: number }; resetsAt: number }, budget: BudgetSettings, timeZone?: string): string {
  const resets = localClock(timeZone).format(e.resetsAt).slice(11, 16);
  const urgent = budget.hard ? "urgent ones too (budget.hard)" : "urgent ones still run";
  return `agent-gateway: daily budget for automated runs reached (${e.spent.tokens} tokens, cost ${e.spent.cost.toFixed(4)}): heartbeat prompts stop and non-urgent events wait (${urgent}) until ${resets}. /gateway resume lifts it for today.`;
}

/** "daily budget reached, waiting until 00:00", for the status line and /gateway status. */
export function describeWait(wait: BudgetWait, timeZone?: string): string {
  const at = localClock(timeZone).format(wait.until).slice(11, 16);
  const what = { daily: "daily budget reached", automatedPerHour: "automatedPerHour reached", perSource: "source over budget.perSource" }[wait.reason];
  return `${what}, waiting until ${at}`;
}
