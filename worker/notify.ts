// One line to emit a gateway event from any Inngest workflow step:
//   await gatewayNotify({ step, event, runId }, { type: "report.ready", payload: { url } });
// The push runs inside step.run under an id derived from the Inngest event, the run and the
// step, so a retried or replayed step hits the push-side marker and is delivered once.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { loadConfig } from "../core/config.ts";
import type { EventInput } from "../core/event.ts";
import { pushEvent, type PushSettings } from "../core/push.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";

/** Where pushes go: a connected client and the push settings (a Config satisfies them). */
export interface PushTarget {
  redis: Redis;
  settings: PushSettings;
}

/** The parts of an Inngest handler's context the helper needs; pass the context itself. */
export interface NotifyContext {
  step: { run: (id: string, fn: () => Promise<NotifyResult>) => Promise<unknown> };
  runId: string;
  event: { id?: string; name: string };
}

export type NotifyInput = Omit<EventInput, "id" | "ts" | "source"> & { source?: string };

export interface NotifyResult {
  id: string;
  /** Inboxes reached; 0 when this id had already been pushed (a retried step). */
  delivered: number;
  duplicate: boolean;
}

export interface NotifyOptions {
  /** Defaults to a connection made from the gateway's config (REDIS_URL etc.) on first use. */
  target?: PushTarget;
  /** Step id; default "gateway-notify <type>". Repeats within one run get " #2", " #3". */
  stepId?: string;
}

/** Stable across retries and replays of the same step in the same run. */
export function derivedEventId(...parts: string[]): string {
  return "inngest-" + createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}

// Handler code re-runs from the top on every Inngest request, so counting calls per step
// object gives each call the same ordinal on every replay.
const callsPerExecution = new WeakMap<object, Map<string, number>>();

function ordinalStepId(step: object, base: string): string {
  const seen = callsPerExecution.get(step) ?? new Map<string, number>();
  callsPerExecution.set(step, seen);
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  return n === 1 ? base : `${base} #${n}`;
}

let defaultTarget: Promise<PushTarget> | undefined;

function sharedTarget(): Promise<PushTarget> {
  defaultTarget ??= (async () => {
    const config = loadConfig();
    const redis = connectRedis(config, { kind: "consumer", name: "agent-gateway-notify" });
    await ensureConnected(redis);
    return { redis, settings: config };
  })().catch((error) => {
    defaultTarget = undefined; // the step fails, Inngest retries it, and we connect again
    throw error;
  });
  return defaultTarget;
}

/** Closes the connection gatewayNotify opened by itself, if any (for graceful shutdown). */
export async function closeSharedTarget(): Promise<void> {
  const pending = defaultTarget;
  defaultTarget = undefined;
  const target = await pending?.catch(() => undefined);
  await target?.redis.quit().catch(() => target.redis.disconnect());
}

export async function gatewayNotify(ctx: NotifyContext, input: NotifyInput, options: NotifyOptions = {}): Promise<NotifyResult> {
  const stepId = ordinalStepId(ctx.step, options.stepId ?? `gateway-notify ${input.type}`);
  const id = derivedEventId(ctx.event.id ?? ctx.event.name, ctx.runId, stepId);
  const result = await ctx.step.run(stepId, async () => {
    const { redis, settings } = options.target ?? (await sharedTarget());
    const pushed = await pushEvent(redis, settings, { ...input, source: input.source ?? "inngest", id });
    return { id: pushed.id, delivered: pushed.delivered, duplicate: pushed.duplicate };
  });
  return result as NotifyResult;
}
