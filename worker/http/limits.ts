// Middleware shared by the routes that take events (/events, /hooks/<name>): a rate limit per
// key that answers 429 with Retry-After, and a body limit that answers 413 naming the setting.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Config } from "../../core/config.ts";
import { refuse } from "./errors.ts";
import type { RateLimiter } from "./rate-limit.ts";

export function limitBy(limiter: RateLimiter, keyOf: (c: Parameters<MiddlewareHandler>[0]) => Promise<string>, what: string): MiddlewareHandler {
  return async (c, next) => {
    const retryAfter = limiter.take(await keyOf(c));
    if (retryAfter === undefined) return next();
    return refuse(c, 429, `rate limit exceeded for this ${what}; retry in ${retryAfter}s`, { "Retry-After": String(retryAfter) });
  };
}

export function limitBody(config: Config, what = "body"): MiddlewareHandler {
  return bodyLimit({
    maxSize: config.worker.bodyLimit,
    onError: (c) => refuse(c, 413, `${what} is over the ${config.worker.bodyLimit}-byte limit (worker.bodyLimit)`),
  });
}
