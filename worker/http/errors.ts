// JSON error replies shared by the routes: one `error` sentence that says what to do. A failed
// push is answered by the error's type: Redis unreachable or failing over, or Redis full → 503
// with Retry-After (nothing stored; a retry with the same id is delivered once); anything else
// → 500 with a generic sentence, the details going to the worker's log only.
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Redis } from "ioredis";
import type { Logger } from "../../core/log.ts";
import { withMaxmemory } from "../../core/memory.ts";
import { redisFailure } from "../../core/redis.ts";
import { isTransient, RedisFullError } from "../../core/redis-errors.ts";

export function refuse(c: Context, status: ContentfulStatusCode, error: string, headers?: Record<string, string>) {
  return c.json({ error }, status, headers);
}

const RETRY_SAFE = "nothing was stored. Retry later: an event retried with the same id is delivered once.";

/** The generic answer to a failure the client cannot act on; the details are in the log. */
export function internalError(c: Context) {
  return refuse(c, 500, "internal error; the worker's log has the details");
}

/** Answers a push that threw: 503 + Retry-After when trying again can work, else 500. */
export async function pushFailed(c: Context, redis: Redis, error: unknown, log: Logger, fields: Record<string, unknown> = {}) {
  let failure = redisFailure(redis, error);
  log.warn(`${c.req.method} ${c.req.path}: push failed`, { ...fields, error: failure });
  if (isTransient(failure)) return refuse(c, 503, `Redis is unreachable; ${RETRY_SAFE}`, { "Retry-After": "5" });
  if (failure instanceof RedisFullError) {
    failure = await withMaxmemory(redis, failure);
    return refuse(c, 503, `${(failure as RedisFullError).message.replace(/ at .*$/, "")}; ${RETRY_SAFE}`, { "Retry-After": "30" });
  }
  return internalError(c);
}

/** A push fewer replicas confirmed than redis.waitReplicas asks: not acknowledged. */
export function notReplicated(c: Context, replicas: number) {
  return refuse(c, 503, `fewer than ${replicas} Redis replica(s) confirmed the push in time; ${RETRY_SAFE}`, { "Retry-After": "5" });
}

/** The client's address as the socket saw it (proxies' X-Forwarded-For is not trusted). */
export async function clientAddress(c: Context): Promise<string> {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by a Node server (e.g. app.request in a test)
  }
}
