// GET /spend: the tokens and cost of the runs the gateway started (automated), today and the
// last 7 local days, human runs apart. Only with the API token (http/auth.ts, wrong tokens
// throttled as on POST /events): what the agent costs is not for the open /health.
import { Hono } from "hono";
import { readSpend, totalOf } from "../../core/spend.ts";
import type { WorkerContext } from "../context.ts";
import type { CredentialGuard } from "../http/auth.ts";

export function spendRoutes(ctx: WorkerContext, guard: CredentialGuard): Hono {
  const app = new Hono();
  app.get("/", guard.apiToken, async (c) => {
    // A Redis failure goes to the app's error handler (500, logged).
    const days = await readSpend(ctx.redis, ctx.config.prefix, Date.now(), ctx.config.heartbeat.timezone);
    return c.json({ today: days[0], last7Days: { automated: totalOf(days, "automated"), human: totalOf(days, "human") }, days });
  });
  return app;
}
