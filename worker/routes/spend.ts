// GET /spend: the tokens and cost of the runs the gateway started (automated), today and the
// last 7 local days, human runs apart. Only with the API token: what the agent costs is not
// for the open /health.
import { Hono } from "hono";
import { readSpend, totalOf } from "../../core/spend.ts";
import type { WorkerContext } from "../context.ts";
import { bearerToken, tokensMatch } from "../http/auth.ts";
import { refuse } from "../http/errors.ts";

export function spendRoutes(ctx: WorkerContext): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const token = ctx.config.apiToken;
    if (!token) return refuse(c, 403, "GET /spend is disabled: no API token is configured. Set GATEWAY_API_TOKEN (16+ characters) or apiToken in config.json.");
    const given = bearerToken(c.req.header("authorization"));
    if (given === undefined || !tokensMatch(given, token)) {
      return refuse(c, 401, given === undefined ? "missing bearer token: send `Authorization: Bearer <token>`" : "wrong token", { "WWW-Authenticate": 'Bearer realm="agent-gateway"' });
    }
    // A Redis failure goes to the app's error handler (500, logged).
    const days = await readSpend(ctx.redis, ctx.config.prefix, Date.now(), ctx.config.heartbeat.timezone);
    return c.json({ today: days[0], last7Days: { automated: totalOf(days, "automated"), human: totalOf(days, "human") }, days });
  });
  return app;
}
