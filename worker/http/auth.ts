// Bearer-token check for the API token's routes (POST /events, GET /spend): the token from the
// header, compared in constant time (core/tokens.ts, shared with the daemon's WebSocket channel).
// Requests that fail it drain a bucket of their own per client address, so guessing is slow on
// every route and cannot use up a real producer's bucket.
import type { MiddlewareHandler } from "hono";
import type { Config } from "../../core/config.ts";
import { tokensMatch } from "../../core/tokens.ts";
import { clientAddress, refuse } from "./errors.ts";
import { createRateLimiter } from "./rate-limit.ts";

export { tokensMatch };

/** The token from an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** Lets through requests with the API token; `route` names the route when none is configured. */
export function requireApiToken(config: Config, route: string): MiddlewareHandler {
  const token = config.apiToken;
  const unauthenticated = createRateLimiter(config.worker.rateLimitPerMinute);
  return async (c, next) => {
    if (!token) {
      return refuse(c, 403, `${route} is disabled: no API token is configured. Set GATEWAY_API_TOKEN (16+ characters) or apiToken in config.json.`);
    }
    const given = bearerToken(c.req.header("authorization"));
    if (given !== undefined && tokensMatch(given, token)) return next();
    const retryAfter = unauthenticated.take(await clientAddress(c));
    if (retryAfter !== undefined) {
      return refuse(c, 429, `too many requests without a valid token from this address; retry in ${retryAfter}s`, { "Retry-After": String(retryAfter) });
    }
    return refuse(c, 401, given === undefined ? "missing bearer token: send `Authorization: Bearer <token>`" : "wrong token", {
      "WWW-Authenticate": 'Bearer realm="agent-gateway"',
    });
  };
}
