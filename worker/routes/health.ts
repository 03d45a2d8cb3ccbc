// GET /health: 200 while Redis answers (sessions, backlog per inbox, last heartbeat, scheduler,
// version, uptime); 503 while it does not. Reads Redis on every call, so it recovers by itself.
import { Hono } from "hono";
import { readState } from "../../core/inspect.ts";
import { keysFor } from "../../core/keys.ts";
import { redisFailure } from "../../core/redis.ts";
import { isTransient, RedisUnreachableError } from "../../core/redis-errors.ts";
import { VERSION, type WorkerContext } from "../context.ts";

const REDIS_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnreachableError("redis", `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function healthRoutes(ctx: WorkerContext): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const now = Date.now();
    const { nextRun, ...scheduler } = ctx.scheduler;
    const common = { version: VERSION, uptimeMs: now - ctx.startedAt, scheduler: { ...scheduler, nextRun: nextRun?.()?.toISOString() } };
    try {
      const [state, lastFired] = await withTimeout(
        Promise.all([readState(ctx.redis, ctx.config.prefix), ctx.redis.get(keysFor(ctx.config.prefix).lastFired("heartbeat"))]),
        REDIS_TIMEOUT_MS,
      );
      return c.json({
        status: "ok",
        redis: "reachable",
        ...common,
        sessions: state.sessions.map(({ session, lease }) => ({ session, role: lease?.role, pid: lease?.pid, host: lease?.host })),
        inboxes: state.inboxes,
        lastHeartbeat: state.lastHeartbeat ? { at: new Date(state.lastHeartbeat).toISOString(), ageMs: now - state.lastHeartbeat } : null,
        lastScheduledHeartbeat: lastFired ? new Date(Number(lastFired)).toISOString() : null,
      });
    } catch (error) {
      // ioredis' wording ("Stream isn't writeable …") means nothing to a monitor; the log has it.
      const failure = redisFailure(ctx.redis, error);
      const redis = isTransient(failure) ? "unreachable: Redis is unreachable" : "unreachable: Redis refused the health check (see the worker log)";
      if (!isTransient(failure)) ctx.log.warn("GET /health: Redis check failed", { error: failure });
      return c.json({ status: "unavailable", redis, ...common }, 503);
    }
  });
  return app;
}
