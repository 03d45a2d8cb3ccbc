// Credential checks shared by the worker's routes. The API token (POST /events, GET /spend) is
// read from `Authorization: Bearer` and compared in constant time (core/tokens.ts, shared with
// the daemon's WebSocket channel). Requests whose credentials fail, on any route, drain one
// bucket per client address: guessing gets 429 + Retry-After, cannot spread over routes, and
// never uses up a real producer's bucket.
import type { Context, MiddlewareHandler } from "hono";
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

export interface CredentialGuard {
  /** Middleware: the request carries the configured API token (403 when none is configured). */
  apiToken: MiddlewareHandler;
  /** Counts a failed credential check: a 429 response once this address failed too often. */
  throttleFailure(c: Context): Promise<Response | undefined>;
}

/** One per app, so every route's failures share the per-address bucket. */
export function createCredentialGuard(config: Config): CredentialGuard {
  const failures = createRateLimiter(config.worker.rateLimitPerMinute);
  const throttleFailure = async (c: Context) => {
    const retryAfter = failures.take(await clientAddress(c));
    if (retryAfter === undefined) return undefined;
    return refuse(c, 429, `too many requests with missing or wrong credentials from this address; retry in ${retryAfter}s`, { "Retry-After": String(retryAfter) });
  };
  const apiToken: MiddlewareHandler = async (c, next) => {
    const token = config.apiToken;
    if (!token) {
      return refuse(c, 403, `${c.req.method} ${c.req.path} is disabled: no API token is configured. Set GATEWAY_API_TOKEN (16+ characters) or apiToken in config.json.`);
    }
    const given = bearerToken(c.req.header("authorization"));
    if (given !== undefined && tokensMatch(given, token)) return next();
    return (
      (await throttleFailure(c)) ??
      refuse(c, 401, given === undefined ? "missing bearer token: send `Authorization: Bearer <token>`" : "wrong token", { "WWW-Authenticate": 'Bearer realm="agent-gateway"' })
    );
  };
  return { apiToken, throttleFailure };
}
