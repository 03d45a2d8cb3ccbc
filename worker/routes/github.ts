// POST /hooks/github: verifies X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the
// configured secret) and pushes the delivery as one gateway event whose id is the delivery id,
// so GitHub's redeliveries of the same delivery reach the agent once. Rate limited per client
// address; deliveries that fail the signature check drain the bucket of failed credentials
// (http/auth.ts).
import { createHmac } from "node:crypto";
import { Hono } from "hono";
import { pushEvent } from "../../core/push.ts";
import type { WorkerContext } from "../context.ts";
import { githubEventType, summariseDelivery } from "../github-summary.ts";
import { type CredentialGuard, tokensMatch } from "../http/auth.ts";
import { confirmReplicated } from "../../core/replication.ts";
import { clientAddress, notReplicated, pushFailed, refuse } from "../http/errors.ts";
import { limitBody } from "../http/limits.ts";
import { createRateLimiter, limitBy } from "../http/rate-limit.ts";

// GitHub's delivery ids are GUIDs and its event names short snake_case words.
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> | undefined {
  // GitHub sends JSON, or a form with the JSON in `payload` (the hook's "content type" setting).
  const json = contentType?.includes("application/x-www-form-urlencoded") ? new URLSearchParams(raw).get("payload") : raw;
  try {
    const body: unknown = JSON.parse(json ?? "");
    return body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function githubRoutes(ctx: WorkerContext, guard: CredentialGuard): Hono {
  const { config } = ctx;
  const secret = config.worker.githubSecret;
  const perMinute = config.worker.rateLimitPerMinute;
  const app = new Hono();
  app.post(
    "/",
    limitBy(createRateLimiter(perMinute), clientAddress, "client address"),
    limitBody(config, "delivery"),
    async (c) => {
      if (!secret) {
        return refuse(c, 403, "GitHub webhooks are disabled: no secret is configured. Set GITHUB_WEBHOOK_SECRET (the hook's secret) or worker.githubSecret.");
      }
      const raw = await c.req.text();
      const signature = c.req.header("x-hub-signature-256") ?? "";
      const expected = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
      if (!tokensMatch(signature, expected)) {
        return (await guard.throttleFailure(c)) ?? refuse(c, 401, signature ? "X-Hub-Signature-256 does not match: check the hook's secret" : "missing X-Hub-Signature-256: set a secret on the hook");
      }
      const event = c.req.header("x-github-event");
      const delivery = c.req.header("x-github-delivery");
      if (!event || !delivery) return refuse(c, 400, "missing X-GitHub-Event or X-GitHub-Delivery header");
      if (!DELIVERY_ID.test(delivery)) return refuse(c, 400, "X-GitHub-Delivery must be an id of up to 100 letters, digits and dashes (GitHub sends a GUID)");
      if (!EVENT_NAME.test(event)) return refuse(c, 400, "X-GitHub-Event must be an event name of up to 64 lowercase letters and underscores");
      const body = parseBody(raw, c.req.header("content-type"));
      if (!body) return refuse(c, 400, "the delivery is not a JSON object");
      if (event === "ping") return c.json({ ok: true, note: "ping received; pings are not forwarded to the agent" });
      try {
        const result = await pushEvent(ctx.redis, config, {
          id: `github-${delivery}`,
          type: githubEventType(event, body.action),
          source: "github",
          payload: summariseDelivery(event, delivery, body),
        });
        const replicated = await confirmReplicated(ctx.redis, config.redis);
        if (replicated === false) return notReplicated(c, config.redis.waitReplicas);
        return c.json({ id: result.id, duplicate: result.duplicate, replicated });
      } catch (error) {
        return pushFailed(c, ctx.redis, error, ctx.log, { delivery });
      }
    },
  );
  return app;
}
