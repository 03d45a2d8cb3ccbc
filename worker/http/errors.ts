// JSON error replies shared by the routes: one `error` sentence that says what to do.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export function refuse(c: Context, status: ContentfulStatusCode, error: string, headers?: Record<string, string>) {
  return c.json({ error }, status, headers);
}

/** Redis down: nothing was stored, the caller should retry (ids make the retry safe). */
export function redisUnavailable(c: Context, cause: unknown) {
  return refuse(
    c,
    503,
    `Redis is unreachable (${(cause as Error).message}); nothing was stored. Retry later: an event retried with the same id is delivered once.`,
    { "Retry-After": "5" },
  );
}

/** The client's address as the socket saw it (proxies' X-Forwarded-For is not trusted). */
export async function clientAddress(c: Context): Promise<string> {
  try {
    const { getConnInfo } = await import("@hono/node-server/conninfo");
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by a Node server (e.g. app.request in a test)
  }
}
