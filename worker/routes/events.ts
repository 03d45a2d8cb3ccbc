// POST /events: push one event (a JSON object) or a batch (an array, pushed atomically) with a
// bearer token (http/auth.ts, whose failures drain a bucket of their own, so they cannot use up
// a real producer's). Rate limited per client IP and per token. Bodies over worker.bodyLimit
// get 413. Ids the gateway makes itself (core/reserved-ids.ts) are refused.
import { Hono } from "hono";
import { buildEvent, EventError } from "../../core/event.ts";
import { pushEvents } from "../../core/push.ts";
import { reservedIdRefusal } from "../../core/reserved-ids.ts";
import type { WorkerContext } from "../context.ts";
import type { CredentialGuard } from "../http/auth.ts";
import { confirmReplicated } from "../../core/replication.ts";
import { clientAddress, notReplicated, pushFailed, refuse } from "../http/errors.ts";
import { limitBody } from "../http/limits.ts";
import { createRateLimiter, limitBy } from "../http/rate-limit.ts";

/** Parses and validates the whole body first, so a bad batch writes nothing. */
function parseEvents(text: string, maxEventBytes: number): unknown[] | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `body is not valid JSON: ${(error as Error).message}`;
  }
  const batch = Array.isArray(body);
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (items.length === 0) return "the array holds no events";
  for (const [i, item] of items.entries()) {
    try {
      const reserved = reservedIdRefusal((item as { id?: unknown } | null)?.id);
      if (reserved) throw new EventError(reserved);
      buildEvent(item, maxEventBytes);
    } catch (error) {
      if (!(error instanceof EventError)) throw error;
      return batch ? `[${i}] ${error.message}` : error.message;
    }
  }
  return items;
}

export function eventsRoutes(ctx: WorkerContext, guard: CredentialGuard): Hono {
  const { config } = ctx;
  const perMinute = config.worker.rateLimitPerMinute;
  const app = new Hono();
  app.post(
    "/",
    guard.apiToken,
    limitBy(createRateLimiter(perMinute), clientAddress, "client address"),
    // One token is configured, so its bucket is a single key.
    limitBy(createRateLimiter(perMinute), async () => "api-token", "token"),
    limitBody(config),
    async (c) => {
      const parsed = parseEvents(await c.req.text(), config.maxEventBytes);
      if (typeof parsed === "string") return refuse(c, 400, parsed);
      try {
        const results = await pushEvents(ctx.redis, config, parsed as never[]);
        const replicated = await confirmReplicated(ctx.redis, config.redis);
        if (replicated === false) return notReplicated(c, config.redis.waitReplicas);
        return c.json({ ids: results.map((r) => r.id), duplicates: results.filter((r) => r.duplicate).map((r) => r.id), replicated });
      } catch (error) {
        if (error instanceof EventError) return refuse(c, 400, error.message);
        return pushFailed(c, ctx.redis, error, ctx.log);
      }
    },
  );
  return app;
}
