// The consumer's budget gate (docs/attention.md): reads today's automated spend and the
// resume flag, asks the hourly windows for a run (core/lua/budget-take.lua), and splits a
// drained batch into what runs now and what waits (core/budget.ts decides). The first consumer
// to see the daily budget reached on a local day pushes one urgent budget.exhausted event and
// tells its session; every later check that day stays quiet. With every budget off it does no
// Redis call at all.
import type { Redis } from "ioredis";
import {
  BUDGET_WINDOW_MS,
  dailyBudgetOn,
  dailyReached,
  hourlyBudgetsOn,
  nextLocalMidnight,
  sourcesOf,
  splitForDaily,
  splitForRefusal,
  startsRun,
  waitFor,
  type BudgetWait,
  type Clock,
  type DailySpend,
  type WaitReason,
} from "./budget.ts";
import type { Config } from "./config.ts";
import type { DrainedEntry } from "./drain.ts";
import { newEventId } from "./id.ts";
import { keysFor } from "./keys.ts";
import type { Logger } from "./log.ts";
import { runScript } from "./lua/index.ts";
import { pushEvent } from "./push.ts";
import { readDailySpend } from "./budget-view.ts";
import { localDay } from "./spend.ts";

export type GateConfig = Pick<Config, "prefix" | "budget" | "heartbeat" | "maxEventBytes" | "inboxCap" | "pushDedupeWindow">;

/** The run charged to the hourly windows: refunded when no prompt comes of it. */
export interface Charge {
  id: string;
  keys: string[];
}

/** The daily budget was reached: told once per local day. */
export interface BudgetExhausted {
  day: string;
  spent: DailySpend;
  resetsAt: number;
}

export interface Admission {
  /** Runs now (a heartbeat among them prompts only when heartbeatPrompts). */
  now: DrainedEntry[];
  /** Waits in flight, unacknowledged, until `wait` may change. */
  held: DrainedEntry[];
  heartbeatPrompts: boolean;
  wait?: BudgetWait;
  charge?: Charge;
  exhausted?: BudgetExhausted;
}

/** The notice and the budget.exhausted event are kept this long (past the day they are for). */
const NOTICE_TTL_MS = 2 * 86_400_000;

export class BudgetGate {
  /** The local day this gate last saw the budget reached (then it does not ask Redis again). */
  private announced: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly config: GateConfig,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  async admit(entries: DrainedEntry[]): Promise<Admission> {
    const { budget } = this.config;
    const everything: Admission = { now: entries, held: [], heartbeatPrompts: true };
    if (!hourlyBudgetsOn(budget) && !dailyBudgetOn(budget)) return everything;
    const now = this.clock.now();
    let admission = everything;
    const daily = dailyBudgetOn(budget) ? await this.dailyState(now) : undefined;
    if (daily?.reached) {
      const split = splitForDaily(entries, budget, true);
      const wait = split.held.length > 0 ? waitFor("daily", nextLocalMidnight(now, this.config.heartbeat.timezone), budget) : undefined;
      admission = { ...split, wait, exhausted: await this.announceOnce(now, daily.spent) };
    }
    if (!hourlyBudgetsOn(budget) || !startsRun(admission.now, admission.heartbeatPrompts)) return admission;
    const taken = await this.take(admission.now, now);
    if ("charge" in taken) return { ...admission, charge: taken.charge };
    const refused = splitForRefusal(admission.now);
    const kept = new Set(refused.now);
    return {
      ...admission,
      now: refused.now,
      held: entries.filter((e) => !kept.has(e)),
      heartbeatPrompts: false,
      wait: earlier(admission.wait, waitFor(taken.reason, taken.until, budget)),
    };
  }

  /** No prompt came of a charged run (only heartbeats, and the policy said none): it does not count. */
  async refund(charge: Charge): Promise<void> {
    const tx = this.redis.multi();
    for (const key of charge.keys) tx.zrem(key, charge.id);
    await tx.exec();
  }

  /** /gateway resume: when today's daily budget is reached, it is lifted for the rest of the day. */
  async resumeToday(): Promise<boolean> {
    if (!dailyBudgetOn(this.config.budget)) return false;
    const now = this.clock.now();
    if (!(await this.dailyState(now)).reached) return false;
    await this.redis.set(keysFor(this.config.prefix).budgetResumed(this.day(now)), "1", "PX", NOTICE_TTL_MS);
    this.log.info("daily budget lifted for today by /gateway resume");
    return true;
  }

  private day(now: number): string {
    return localDay(now, this.config.heartbeat.timezone);
  }

  private async dailyState(now: number): Promise<{ reached: boolean; spent: DailySpend }> {
    const { spent, resumed } = await readDailySpend(this.redis, this.config.prefix, now, this.config.heartbeat.timezone);
    return { reached: !resumed && dailyReached(this.config.budget, spent), spent };
  }

  /** The first to see the budget reached today pushes the urgent budget.exhausted event. */
  private async announceOnce(now: number, spent: DailySpend): Promise<BudgetExhausted | undefined> {
    const day = this.day(now);
    if (this.announced === day) return undefined;
    this.announced = day;
    const first = await this.redis.set(keysFor(this.config.prefix).budgetExhausted(day), String(now), "PX", NOTICE_TTL_MS, "NX");
    if (first !== "OK") return undefined;
    const resetsAt = nextLocalMidnight(now, this.config.heartbeat.timezone);
    const { daily, hard } = this.config.budget;
    try {
      await pushEvent(this.redis, this.config, {
        id: `budget.exhausted:${day}`,
        type: "budget.exhausted",
        source: "agent-gateway",
        priority: "urgent",
        payload: { day, spent, budget: daily, hard, resetsAt: new Date(resetsAt).toISOString(), resume: "/gateway resume, or raise budget.daily" },
      });
    } catch (error) {
      this.log.warn("budget.exhausted event not pushed (the session notice and status still say it)", { error });
    }
    this.log.warn("daily budget reached: heartbeat prompts stop, non-urgent events wait", { day, spent, budget: daily, hard, resetsAt });
    return { day, spent, resetsAt };
  }

  private async take(entries: DrainedEntry[], now: number): Promise<{ charge: Charge } | { reason: WaitReason; until: number }> {
    const { prefix, budget } = this.config;
    const keys = keysFor(prefix);
    const sources = sourcesOf(entries.map((e) => e.event), budget);
    const charge = { id: newEventId(now), keys: [keys.budgetRuns, ...sources.map((s) => keys.budgetSource(s.source))] };
    const argv = [now, BUDGET_WINDOW_MS, budget.automatedPerHour, budget.perSource, charge.id, ...sources.map((s) => (s.bypass ? 1 : 0))];
    const reply = (await runScript(this.redis, "budgetTake", charge.keys, argv)) as [number, WaitReason?, number?];
    if (reply[0] === 1) return { charge };
    return { reason: reply[1]!, until: Number(reply[2]) };
  }
}

function earlier(a: BudgetWait | undefined, b: BudgetWait): BudgetWait {
  if (!a) return b;
  const first = a.until <= b.until ? a : b;
  return { ...first, newEventsMayPass: a.newEventsMayPass || b.newEventsMayPass };
}
