// POST /hooks/<name>: a generic webhook defined in config (worker.hooks.<name>). The delivery is
// checked with the hook's auth mode, its body becomes the event's payload (summarised when too
// large for one event), and a delivery-id header makes redeliveries land once (a signed,
// timestamped delivery replayed inside its window lands once too: hooks/replay.ts). Unknown
// hook 404, bad auth 401 (throttled with the other failed credentials, http/auth.ts), and the
// same 400 / 413 / 429 / 503 answers as POST /events.
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { buildEvent, EventError, type EventInput } from "../../core/event.ts";
import { newEventId } from "../../core/id.ts";
import type { HookConfig } from "../../core/hook-config.ts";
import { pushEvent } from "../../core/push.ts";
import type { WorkerContext } from "../context.ts";
import type { CredentialGuard } from "../http/auth.ts";
import { confirmReplicated } from "../../core/replication.ts";
import { clientAddress, notReplicated, pushFailed, refuse } from "../http/errors.ts";
import { limitBody } from "../http/limits.ts";
import { createRateLimiter, limitBy } from "../http/rate-limit.ts";
import { refusal } from "../hooks/auth.ts";
import { parseBody } from "../hooks/body.ts";
import { claimSignature, type SignedOnce } from "../hooks/replay.ts";
import { fitPayload } from "../hooks/fit.ts";
import { hookEventType } from "../hooks/presets.ts";

/** The request URL for logs: a `token` query parameter never appears in them. */
function maskedUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, "$1***");
}

/** The event id for a delivery id: readable when it is short and plain, else its hash. A dot,
 *  never part of a hook name, ends the name: hook ci's "prod-7" is not hook ci-prod's "7". */
function deliveryEventId(hook: HookConfig, delivery: string): string {
  const id = `hook-${hook.name}.${delivery}`;
  return /^[\x21-\x7e]{1,200}$/.test(id) ? id : `hook-${hook.name}.${createHash("sha256").update(delivery).digest("hex").slice(0, 32)}`;
}

type HookEnv = { Variables: { hook: HookConfig; raw: Buffer } };

export function hooksRoutes(ctx: WorkerContext, guard: CredentialGuard): Hono<HookEnv> {
  const { config } = ctx;
  const hooks: Record<string, HookConfig> = config.worker.hooks;
  const perMinute = config.worker.rateLimitPerMinute;
  const perHook = createRateLimiter(perMinute);
  const app = new Hono<HookEnv>();
  app.post(
    "/:name",
    limitBy(createRateLimiter(perMinute), clientAddress, "client address"),
    async (c, next) => {
      const hook = Object.hasOwn(hooks, c.req.param("name")) ? hooks[c.req.param("name")] : undefined;
      if (!hook) return refuse(c, 404, `no hook named "${c.req.param("name")}": define it under worker.hooks in config.json (see docs/sources.md)`);
      c.set("hook", hook);
      return next();
    },
    limitBody(config, "delivery"),
    async (c, next) => {
      const hook = c.get("hook");
      const queryToken = c.req.query("token");
      if (queryToken !== undefined && !hook.allowQueryToken) {
        return refuse(c, 401, `hook ${hook.name} takes no ?token= (a URL ends up in logs); send the token in a header, or set worker.hooks.${hook.name}.allowQueryToken`);
      }
      const raw = Buffer.from(await c.req.arrayBuffer());
      const why = refusal(hook, { header: (name) => c.req.header(name), queryToken, raw, now: Date.now() });
      if (why) {
        ctx.log.warn("hook delivery refused", { hook: hook.name, url: maskedUrl(c.req.url), reason: why });
        return (await guard.throttleFailure(c)) ?? refuse(c, 401, why, hook.auth === "bearer" ? { "WWW-Authenticate": 'Bearer realm="agent-gateway"' } : undefined);
      }
      c.set("raw", raw);
      return next();
    },
    limitBy(perHook, async (c) => c.get("hook").name, "hook"),
    async (c) => {
      const hook = c.get("hook");
      const raw = c.get("raw");
      const body = parseBody(raw.toString("utf8"), c.req.header("content-type"));
      if (!body.ok) return refuse(c, 400, body.error);
      const delivery = hook.deliveryHeader ? c.req.header(hook.deliveryHeader) : undefined;
      const input: EventInput = {
        id: delivery ? deliveryEventId(hook, delivery) : undefined,
        type: hookEventType(hook, body.payload),
        source: hook.source,
        priority: hook.priority,
      };
      let payload: Record<string, unknown>;
      try {
        // The same validation as POST /events, before any summary (no size cap yet).
        buildEvent({ ...input, payload: body.payload }, Number.MAX_SAFE_INTEGER);
        const envelope = Buffer.byteLength(buildEvent({ ...input, payload: {} }).json);
        payload = fitPayload(body.payload, config.maxEventBytes - envelope - 16);
      } catch (error) {
        if (error instanceof EventError) return refuse(c, 400, error.message);
        throw error;
      }
      let signed: SignedOnce | undefined;
      try {
        input.id ??= newEventId();
        const stamp = hook.timestampHeader ? c.req.header(hook.timestampHeader) : undefined;
        signed = await claimSignature(ctx.redis, config.prefix, hook, stamp, raw, input.id);
        if (signed?.earlier) {
          ctx.log.warn("hook delivery replayed: its signature was already pushed", { hook: hook.name, url: maskedUrl(c.req.url), id: signed.earlier });
          return c.json({ id: signed.earlier, duplicate: true });
        }
        const result = await pushEvent(ctx.redis, config, { ...input, payload });
        const replicated = await confirmReplicated(ctx.redis, config.redis);
        if (replicated === false) {
          await signed?.release();
          return notReplicated(c, config.redis.waitReplicas);
        }
        ctx.log.info("hook delivery pushed", { hook: hook.name, url: maskedUrl(c.req.url), id: result.id, duplicate: result.duplicate });
        return c.json({ id: result.id, duplicate: result.duplicate, replicated, ...(payload !== body.payload && { summarised: true }) });
      } catch (error) {
        await signed?.release().catch(() => {});
        if (error instanceof EventError) return refuse(c, 400, error.message);
        return pushFailed(c, ctx.redis, error, ctx.log, { hook: hook.name, url: maskedUrl(c.req.url) });
      }
    },
  );
  return app;
}
