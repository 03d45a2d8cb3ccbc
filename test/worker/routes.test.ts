// POST /events and POST /hooks/github through the real Hono app (app.request, no socket) with a
// real Redis behind it: auth, validation, size and rate limits, and what lands in the inbox;
// GET /spend behind the same token.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import type { Config } from "../../core/config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { recordSpend } from "../../core/spend.ts";
import { createApp } from "../../worker/app.ts";
import { connectRedis } from "../../core/redis.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

const TOKEN = "test-token-0123456789";
const SECRET = "hook-secret";

function setup(worker: Partial<Config["worker"]> = {}, overrides: Partial<Config> = {}) {
  const base = testConfig(server.url, server.prefix(), { apiToken: TOKEN, ...overrides });
  const config: Config = { ...base, worker: { ...base.worker, githubSecret: SECRET, ...worker } };
  const app = createApp({ config, redis, log: createLogger({ kind: "worker" }), startedAt: Date.now(), scheduler: { mode: "off" } });
  const inbox = async () => (await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r)).reverse();
  const post = (body: unknown, token: string | null = TOKEN) =>
    app.request("/events", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { config, app, inbox, post };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

test("/events: 401 without a token and with a wrong one; nothing stored", async () => {
  const { post, inbox } = setup();
  const missing = await post({ type: "t", source: "s" }, null);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.match(await errorOf(missing), /missing bearer token/);
  const wrong = await post({ type: "t", source: "s" }, "not-the-token-at-all");
  assert.equal(wrong.status, 401);
  assert.equal(await errorOf(wrong), "wrong token");
  assert.equal((await inbox()).length, 0);
});

test("/events: with no token configured the endpoint refuses and says how to turn it on", async () => {
  const { post } = setup({}, { apiToken: undefined });
  const response = await post({ type: "t", source: "s" }, "anything-at-all-1234");
  assert.equal(response.status, 403);
  assert.match(await errorOf(response), /no API token is configured.*GATEWAY_API_TOKEN/);
});

test("/events: 400 naming the bad field (and the batch index); a bad batch stores nothing", async () => {
  const { post, inbox } = setup();
  const single = await post({ type: "t", source: "s", payload: "not an object" });
  assert.equal(single.status, 400);
  assert.match(await errorOf(single), /^invalid event: payload: /);
  const batch = await post([{ type: "fine", source: "s" }, { type: "", source: "s" }]);
  assert.equal(batch.status, 400);
  assert.match(await errorOf(batch), /^\[1\] invalid event: type: /);
  const notJson = await post("{nope");
  assert.equal(notJson.status, 400);
  assert.match(await errorOf(notJson), /not valid JSON/);
  assert.equal((await post([])).status, 400);
  assert.equal((await inbox()).length, 0);
});

test("/events: 413 for a body over worker.bodyLimit", async () => {
  const { post, inbox } = setup({ bodyLimit: 1024 });
  const response = await post({ type: "t", source: "s", payload: { blob: "x".repeat(2000) } });
  assert.equal(response.status, 413);
  assert.match(await errorOf(response), /1024-byte limit/);
  assert.equal((await inbox()).length, 0);
});

test("/events: 429 with Retry-After past the per-minute rate", async () => {
  const { post } = setup({ rateLimitPerMinute: 2 });
  assert.equal((await post({ type: "t", source: "s" })).status, 200);
  assert.equal((await post({ type: "t", source: "s" })).status, 200);
  const limited = await post({ type: "t", source: "s" });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
});

test("/events: requests without a valid token drain a bucket of their own, not the producers'", async () => {
  const { post } = setup({ rateLimitPerMinute: 2 });
  assert.equal((await post({ type: "t", source: "s" }, "a-wrong-token-guess-1")).status, 401);
  assert.equal((await post({ type: "t", source: "s" }, "a-wrong-token-guess-2")).status, 401);
  const guessing = await post({ type: "t", source: "s" }, "a-wrong-token-guess-3");
  assert.equal(guessing.status, 429, "guessing is rate limited per client address");
  assert.ok(Number(guessing.headers.get("retry-after")) >= 1);
  assert.equal((await post({ type: "t", source: "s" })).status, 200, "the real producer still gets through");
});

test("/events: 200 with the ids; one object or an array pushed as a batch; the events are in Redis", async () => {
  const { post, inbox } = setup();
  const one = await post({ type: "build.done", source: "ci", payload: { ok: true } });
  assert.equal(one.status, 200);
  const { ids: [firstId] } = (await one.json()) as { ids: string[] };
  const many = await post([
    { id: "job-7", type: "job.done", source: "sh" },
    { id: "job-8", type: "job.done", source: "sh", priority: "urgent" },
  ]);
  assert.deepEqual(await many.json(), { ids: ["job-7", "job-8"], duplicates: [] });
  const again = await post({ id: "job-7", type: "job.done", source: "sh" });
  assert.deepEqual(await again.json(), { ids: ["job-7"], duplicates: ["job-7"] });
  const stored = await inbox();
  assert.deepEqual(stored.map((e) => e.id), [firstId, "job-7", "job-8"]);
  assert.deepEqual(stored[0].payload, { ok: true });
  assert.equal(stored[2].priority, "urgent");
});

function delivery(app: ReturnType<typeof setup>["app"], body: unknown, id: string, event = "pull_request", secret = SECRET) {
  const raw = JSON.stringify(body);
  return app.request("/hooks/github", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`,
    },
    body: raw,
  });
}

const pullRequest = {
  action: "opened",
  repository: { full_name: "acme/app", html_url: "https://github.com/acme/app" },
  sender: { login: "octo" },
  pull_request: { number: 42, title: "Fix the flux", state: "open", html_url: "https://github.com/acme/app/pull/42", user: { login: "octo" }, head: { ref: "fix" }, base: { ref: "main" }, body: "y".repeat(5000) },
};

test("/hooks/github: 401 on a bad or missing signature; nothing stored", async () => {
  const { app, inbox } = setup();
  const forged = await delivery(app, pullRequest, "d-1", "pull_request", "guessed-secret");
  assert.equal(forged.status, 401);
  assert.match(await errorOf(forged), /does not match/);
  const unsigned = await app.request("/hooks/github", { method: "POST", headers: { "x-github-event": "push", "x-github-delivery": "d-2" }, body: "{}" });
  assert.equal(unsigned.status, 401);
  assert.equal((await inbox()).length, 0);
});

test("/hooks/github: a delivery becomes one summarised event; the same delivery id again is delivered once", async () => {
  const { app, inbox } = setup();
  const first = await delivery(app, pullRequest, "72d3162e-cc78");
  assert.deepEqual(await first.json(), { id: "github-72d3162e-cc78", duplicate: false });
  const redelivered = await delivery(app, pullRequest, "72d3162e-cc78");
  assert.deepEqual(await redelivered.json(), { id: "github-72d3162e-cc78", duplicate: true });
  const [event, ...rest] = await inbox();
  assert.equal(rest.length, 0);
  assert.deepEqual([event.type, event.source], ["github.pull_request.opened", "github"]);
  assert.equal(event.payload.repository, "acme/app");
  assert.deepEqual(
    { ...event.payload.pull_request, body: undefined },
    { number: 42, title: "Fix the flux", state: "open", branch: "fix", base: "main", url: "https://github.com/acme/app/pull/42", user: "octo", body: undefined },
  );
  assert.ok(event.payload.pull_request.body.length <= 1001, "long texts are cut");
});

test("/hooks/github: pings are acknowledged, not forwarded; no secret configured refuses with the fix", async () => {
  const { app, inbox } = setup();
  const ping = await delivery(app, { zen: "Keep it simple.", hook_id: 1 }, "p-1", "ping");
  assert.equal(ping.status, 200);
  assert.equal((await inbox()).length, 0);
  const open = setup({ githubSecret: undefined });
  const refused = await delivery(open.app, pullRequest, "d-3");
  assert.equal(refused.status, 403);
  assert.match(await errorOf(refused), /GITHUB_WEBHOOK_SECRET/);
});

test("/events: a push Redis refuses for a reason other than an outage is a generic 500, not 'Redis is unreachable'", async () => {
  const { post, config } = setup();
  // The central inbox is a string: the push script's LPUSH gets WRONGTYPE back.
  await redis.set(keysFor(config.prefix).inbox(CENTRAL_SESSION), "not a list");
  const response = await post({ type: "t", source: "s" });
  assert.equal(response.status, 500);
  const error = await errorOf(response);
  assert.equal(error, "internal error; the worker's log has the details");
  assert.doesNotMatch(error, /unreachable|WRONGTYPE/);
});

test("/events: Redis unreachable is 503 + Retry-After without ioredis' wording", async () => {
  const down = testConfig("redis://127.0.0.1:1", server.prefix(), { apiToken: TOKEN });
  const offline = connectRedis(down, { kind: "consumer", name: "offline" });
  try {
    const app = createApp({ config: down, redis: offline, log: createLogger({ kind: "worker" }), startedAt: Date.now(), scheduler: { mode: "off" } });
    const response = await app.request("/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ type: "t", source: "s" }),
    });
    assert.equal(response.status, 503);
    assert.ok(response.headers.get("retry-after"));
    const error = await errorOf(response);
    assert.match(error, /^Redis is unreachable; nothing was stored/);
    assert.doesNotMatch(error, /Stream isn't writeable|enableOfflineQueue/);
    const health = await app.request("/health");
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { redis: string }).redis, "unreachable: Redis is unreachable");
  } finally {
    offline.disconnect();
  }
});

test("/spend: only with the API token (401 without, not on /health); today's automated usage with it", async () => {
  const { app, config } = setup();
  await recordSpend(redis, config.prefix, "automated", { runs: 1, input: 100, output: 20, cacheRead: 5, cacheWrite: 0, cost: 0.25 }, Date.now());
  const refused = await app.request("/spend");
  assert.equal(refused.status, 401);
  const health = await (await app.request("/health")).text();
  assert.doesNotMatch(health, /cost|automated/, "the open /health says nothing of spend");
  const response = await app.request("/spend", { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { today: { automated: { runs: number; cost: number } }; last7Days: { automated: { input: number } } };
  assert.equal(body.today.automated.runs, 1);
  assert.equal(body.today.automated.cost, 0.25);
  assert.equal(body.last7Days.automated.input, 100);
});

test("/spend: wrong tokens are throttled like on /events (429 + Retry-After); the right token still works", async () => {
  const { app } = setup({ rateLimitPerMinute: 2 });
  const spend = (token: string) => app.request("/spend", { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await spend("a-wrong-token-guess-1")).status, 401);
  assert.equal((await spend("a-wrong-token-guess-2")).status, 401);
  const guessing = await spend("a-wrong-token-guess-3");
  assert.equal(guessing.status, 429, "guessing on /spend is rate limited per client address");
  assert.ok(Number(guessing.headers.get("retry-after")) >= 1);
  assert.equal((await spend(TOKEN)).status, 200, "the right token still gets through");
});

test("wrong credentials on /spend, /events and the hooks drain one bucket per address: guessing cannot spread over routes", async () => {
  const { app, post } = setup({ rateLimitPerMinute: 2 });
  assert.equal((await app.request("/spend", { headers: { authorization: "Bearer a-wrong-token-guess-1" } })).status, 401);
  assert.equal((await post({ type: "t", source: "s" }, "a-wrong-token-guess-2")).status, 401);
  const onHook = await delivery(app, pullRequest, "d-guess", "pull_request", "guessed-secret");
  assert.equal(onHook.status, 429, "the third failure from this address is refused whatever the route");
  assert.ok(Number(onHook.headers.get("retry-after")) >= 1);
  assert.equal((await post({ type: "t", source: "s" })).status, 200, "the real producer still gets through");
});
