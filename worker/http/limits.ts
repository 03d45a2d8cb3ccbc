// The body limit shared by the routes that take events (/events, /hooks/*): 413 naming the
// setting. (The rate-limit middleware is limitBy in rate-limit.ts.)
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Config } from "../../core/config.ts";
import { refuse } from "./errors.ts";

export function limitBody(config: Config, what = "body"): MiddlewareHandler {
  return bodyLimit({
    maxSize: config.worker.bodyLimit,
    onError: (c) => refuse(c, 413, `${what} is over the ${config.worker.bodyLimit}-byte limit (worker.bodyLimit)`),
  });
}
