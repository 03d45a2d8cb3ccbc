// What runs cost: the usage pi reports on each assistant message (input, output, cache tokens,
// cost), summed per run and recorded per local day in Redis, runs the gateway started
// ("automated": event prompts, heartbeats, scheduled prompts) apart from runs a human started.
// Read back for `status`, `/gateway status` and the worker's authenticated /status.
import type { Redis } from "ioredis";
import { keysFor } from "./keys.ts";
import { localClock } from "./local-time.ts";

export type RunKind = "automated" | "human";

export interface Usage {
  runs: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** In the provider's currency as pi reports it (USD for the built-in price tables). */
  cost: number;
}

export interface SpendDay {
  /** YYYY-MM-DD, local time. */
  day: string;
  automated: Usage;
  human: Usage;
}

const FIELDS = ["runs", "input", "output", "cacheRead", "cacheWrite", "cost"] as const;
/** Days a day's record is kept (the status shows 7). */
const KEEP_DAYS = 40;
const DAY_MS = 86_400_000;

export const noUsage = (): Usage => ({ runs: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: 0 });

interface MessageUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  cost?: { total?: number };
}

/** One run's usage: the sum over its assistant messages (pure). */
export function usageOfRun(messages: readonly unknown[]): Usage {
  const sum = { ...noUsage(), runs: 1 };
  for (const message of messages) {
    const m = message as { role?: string; usage?: MessageUsage };
    if (m.role !== "assistant" || !m.usage) continue;
    sum.input += m.usage.input ?? 0;
    sum.output += m.usage.output ?? 0;
    sum.cacheRead += m.usage.cacheRead ?? 0;
    sum.cacheWrite += m.usage.cacheWrite ?? 0;
    sum.cost += m.usage.cost?.total ?? 0;
  }
  return sum;
}

/** The local day of `ms` in the zone (the system's when unset). */
export function localDay(ms: number, timeZone?: string): string {
  return localClock(timeZone).format(ms).slice(0, 10);
}

export async function recordSpend(redis: Redis, prefix: string, kind: RunKind, usage: Usage, now: number, timeZone?: string): Promise<void> {
  const key = keysFor(prefix).spend(localDay(now, timeZone));
  const tx = redis.multi();
  for (const field of FIELDS) {
    if (field === "cost") tx.hincrbyfloat(key, `${kind}:cost`, usage.cost);
    else tx.hincrby(key, `${kind}:${field}`, usage[field]);
  }
  tx.expire(key, KEEP_DAYS * 24 * 3600);
  await tx.exec();
}

/** The last `days` local days, today first. */
export async function readSpend(redis: Redis, prefix: string, now: number, timeZone?: string, days = 7): Promise<SpendDay[]> {
  const keys = keysFor(prefix);
  // 24-hour steps back, deduplicated: a day a DST change lengthens would otherwise repeat.
  const dayNames = [...new Set(Array.from({ length: days + 1 }, (_, i) => localDay(now - i * DAY_MS, timeZone)))].slice(0, days);
  const hashes = await Promise.all(dayNames.map((day) => redis.hgetall(keys.spend(day))));
  return dayNames.map((day, i) => spendDay(day, hashes[i] ?? {}));
}

/** One local day (`localDay`'s name for it). */
export async function readSpendDay(redis: Redis, prefix: string, day: string): Promise<SpendDay> {
  return spendDay(day, await redis.hgetall(keysFor(prefix).spend(day)));
}

function spendDay(day: string, hash: Record<string, string>): SpendDay {
  const usage = (kind: RunKind): Usage => {
    const u = noUsage();
    for (const field of FIELDS) u[field] = Number(hash[`${kind}:${field}`] ?? 0);
    return u;
  };
  return { day, automated: usage("automated"), human: usage("human") };
}

export function totalOf(days: SpendDay[], kind: RunKind): Usage {
  const sum = noUsage();
  for (const day of days) for (const field of FIELDS) sum[field] += day[kind][field];
  return sum;
}

/** Every token of the usage: input, output and both cache kinds (what budget.daily.tokens counts). */
export const totalTokens = (u: Usage) => u.input + u.output + u.cacheRead + u.cacheWrite;

/** "3 runs, 12 345 tokens (in 10 000 · out 345 · cache read 2 000 · cache write 0), cost 0.0123" */
export function describeUsage(u: Usage): string {
  return `${u.runs} run${u.runs === 1 ? "" : "s"}, ${totalTokens(u)} tokens (in ${u.input} · out ${u.output} · cache read ${u.cacheRead} · cache write ${u.cacheWrite}), cost ${u.cost.toFixed(4)}`;
}

/** Two lines for status: automated today and over the days read, human runs apart. */
export function describeSpend(days: SpendDay[]): string[] {
  const today = days[0];
  if (!today) return [];
  return [
    `automated runs today: ${describeUsage(today.automated)}`,
    `automated runs, last ${days.length} days: ${describeUsage(totalOf(days, "automated"))} · human runs (not counted): ${describeUsage(totalOf(days, "human"))}`,
  ];
}
