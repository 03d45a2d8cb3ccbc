// The worker's HTTP surface, composed from one file per route; failed credentials on any of
// them share one throttle (http/auth.ts). Without an Inngest handler (nothing configured)
// /api/inngest refuses and says how to configure it.
import { Hono, type Context } from "hono";
import type { WorkerContext } from "./context.ts";
import { createCredentialGuard } from "./http/auth.ts";
import { internalError, refuse } from "./http/errors.ts";
import { eventsRoutes } from "./routes/events.ts";
import { githubRoutes } from "./routes/github.ts";
import { healthRoutes } from "./routes/health.ts";
import { hooksRoutes } from "./routes/hooks.ts";
import { spendRoutes } from "./routes/spend.ts";

export const INNGEST_PATH = "/api/inngest";

export function createApp(ctx: WorkerContext, inngestHandler?: (c: Context) => Promise<Response>): Hono {
  const app = new Hono();
  const guard = createCredentialGuard(ctx.config);
  app.route("/events", eventsRoutes(ctx, guard));
  app.route("/hooks/github", githubRoutes(ctx, guard));
  app.route("/hooks", hooksRoutes(ctx, guard));
  app.route("/health", healthRoutes(ctx));
  app.route("/spend", spendRoutes(ctx, guard));
  if (inngestHandler) app.on(["GET", "POST", "PUT"], INNGEST_PATH, inngestHandler);
  else {
    app.all(INNGEST_PATH, (c) =>
      refuse(
        c,
        404,
        "Inngest is not configured on this worker: set INNGEST_DEV=1 (local dev server) or INNGEST_BASE_URL with INNGEST_SIGNING_KEY (self-hosted), or INNGEST_SIGNING_KEY (Inngest Cloud). The local scheduler runs the heartbeat meanwhile.",
      ),
    );
  }
  app.notFound((c) => refuse(c, 404, `no route for ${c.req.method} ${c.req.path}; see GET /health`));
  app.onError((error, c) => {
    // Internals (stack, Redis replies) go to the log; the client learns only that it failed.
    ctx.log.error("request failed", { method: c.req.method, path: c.req.path, error });
    return internalError(c);
  });
  return app;
}
