// Heartbeats (tier 2 and up): the last one a consumer received (in Redis) and the tripwire
// file's age, each against the watchdog threshold.
import { statSync } from "node:fs";
import { watchdogThreshold } from "../../core/config.ts";
import { formatDuration } from "../../core/duration.ts";
import { keysFor } from "../../core/keys.ts";
import { withProducer } from "../../core/redis.ts";
import { notInTier, result, type Check, type CheckResult, type DoctorContext } from "./check.ts";

function verdict(name: string, at: number | undefined, ctx: DoctorContext, never: string): CheckResult {
  const threshold = watchdogThreshold(ctx.config);
  if (at === undefined) {
    return result(name, "warn", never, `the worker sends one every ${formatDuration(ctx.config.heartbeat.interval)} to the central session; check both with this doctor`);
  }
  const age = Date.now() - at;
  return age <= threshold
    ? result(name, "ok", `${formatDuration(age)} ago (threshold ${formatDuration(threshold)})`)
    : result(
        name,
        "fail",
        `${formatDuration(age)} ago, over the ${formatDuration(threshold)} threshold`,
        "is the worker up and the central session running? (worker and tmux lines above; tmux attach -t agent-gateway)",
      );
}

async function lastHeartbeat(ctx: DoctorContext): Promise<number | undefined | Error> {
  try {
    const raw = await withProducer(ctx.config, "agent-gateway-doctor", (redis) => redis.get(keysFor(ctx.config.prefix).lastHeartbeat));
    return raw ? Number(raw) : undefined;
  } catch (error) {
    return error as Error;
  }
}

function tripwireTime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

export const heartbeatChecks: Check = async (ctx) => {
  if (ctx.install.tier < 2) return [notInTier("heartbeat", ctx.install.tier, 2), notInTier("tripwire", ctx.install.tier, 2)];
  if (!ctx.config.heartbeat.enabled) {
    return [result("heartbeat", "skip", "heartbeats are switched off (heartbeat.enabled)"), result("tripwire", "skip", "heartbeats are switched off")];
  }
  const last = await lastHeartbeat(ctx);
  const heartbeat =
    last instanceof Error
      ? result("heartbeat", "skip", "Redis unreachable (see the redis line)")
      : verdict("heartbeat", last, ctx, "no heartbeat received yet");
  const tripwire = verdict("tripwire", tripwireTime(ctx.config.paths.tripwire), ctx, `${ctx.config.paths.tripwire} not written yet`);
  return [heartbeat, tripwire];
};
