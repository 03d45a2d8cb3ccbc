// POST /hooks/<name> through the real Hono app (app.request, no socket) with a real Redis
// behind it: each auth mode accepted and refused, the presets with the request shapes GitLab,
// Alertmanager, Grafana and an HMAC signer send, redeliveries, bodies of every kind and size.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import type { Config } from "../../core/config.ts";
import { hooksSchema } from "../../core/hook-config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { connectRedis } from "../../core/redis.ts";
import { createApp } from "../../worker/app.ts";
import { freePort, startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

const TOKEN = "hook-token-0123456789";
const SECRET = "hook-secret-0123456789";

function setup(hooks: Record<string, unknown>, worker: Partial<Config["worker"]> = {}, overrides: Partial<Config> = {}) {
  const base = testConfig(server.url, server.prefix(), overrides);
  const config: Config = { ...base, worker: { ...base.worker, ...worker, hooks: hooksSchema.parse(hooks) } };
  const logged: string[] = [];
  const log = createLogger({ kind: "worker", echo: (line) => logged.push(line) });
  const client = overrides.redisUrl ? connectRedis(overrides.redisUrl, { kind: "consumer" }) : redis;
  const app = createApp({ config, redis: client, log, startedAt: Date.now(), scheduler: { mode: "off" } });
  const inbox = async () => (await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r)).reverse();
  const post = (path: string, body: string, headers: Record<string, string> = {}) => app.request(path, { method: "POST", headers, body });
  return { app, inbox, post, logged, client };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;
const json = { "content-type": "application/json" };

// Alertmanager's webhook_config body (version 4), as sent with http_config.authorization.
const alertmanagerBody = JSON.stringify({
  version: "4",
  groupKey: '{}:{alertname="DiskFull"}',
  truncatedAlerts: 0,
  status: "firing",
  receiver: "agent-gateway",
  groupLabels: { alertname: "DiskFull" },
  commonLabels: { alertname: "DiskFull", severity: "critical", instance: "db-1:9100" },
  commonAnnotations: { summary: "Disk 95% full on db-1" },
  externalURL: "http://alertmanager:9093",
  alerts: [
    {
      status: "firing",
      labels: { alertname: "DiskFull", severity: "critical", instance: "db-1:9100" },
      annotations: { summary: "Disk 95% full on db-1" },
      startsAt: "2026-12-01T08:00:00.000Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph?g0.expr=disk",
      fingerprint: "c4b2a1f0e9d8",
    },
  ],
});

test("/hooks/<name>: an unknown hook is 404 naming the config section; a hook without credentials is a config error", async () => {
  const { post } = setup({});
  const response = await post("/hooks/nope", "{}", json);
  assert.equal(response.status, 404);
  assert.match(await errorOf(response), /no hook named "nope": define it under worker.hooks/);
  const bad = hooksSchema.safeParse({ deploy: { auth: "hmac" }, alerts: { preset: "alertmanager" }, github: { preset: "gitlab", token: TOKEN } });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => i.path.join(".")).sort(), ["alerts.token", "deploy.secret", "github"]);
});

test("/hooks/<name> bearer (Alertmanager preset): accepted with the token as alert.firing; a wrong or missing token is 401, nothing stored", async () => {
  const { post, inbox } = setup({ alerts: { preset: "alertmanager", token: TOKEN } });
  const missing = await post("/hooks/alerts", alertmanagerBody, json);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  const wrong = await post("/hooks/alerts", alertmanagerBody, { ...json, authorization: "Bearer not-the-token-at-all" });
  assert.equal(wrong.status, 401);
  assert.match(await errorOf(wrong), /wrong token for hook alerts \(worker.hooks.alerts.token\)/);
  assert.equal((await inbox()).length, 0);

  const accepted = await post("/hooks/alerts", alertmanagerBody, { ...json, authorization: `Bearer ${TOKEN}` });
  assert.equal(accepted.status, 200);
  const [event] = await inbox();
  assert.deepEqual([event.type, event.source], ["alert.firing", "alerts"]);
  assert.deepEqual(event.payload, JSON.parse(alertmanagerBody));
});

test("/hooks/<name> bearer (Grafana preset): a Grafana webhook contact point's body becomes alert.resolved", async () => {
  const { post, inbox } = setup({ grafana: { preset: "grafana", token: TOKEN, priority: "urgent" } });
  const body = JSON.stringify({
    receiver: "agent-gateway", status: "resolved", orgId: 1, title: "[RESOLVED] HighLatency", state: "ok",
    message: "**Resolved**\nValue: B=0.12", groupKey: "{}/{}:{alertname=\"HighLatency\"}", truncatedAlerts: 0, version: "1",
    alerts: [{ status: "resolved", labels: { alertname: "HighLatency" }, annotations: {}, startsAt: "2026-12-01T08:00:00Z", endsAt: "2026-12-01T08:05:00Z", fingerprint: "9f8e", values: { B: 0.12 } }],
    groupLabels: { alertname: "HighLatency" }, commonLabels: { alertname: "HighLatency" }, commonAnnotations: {}, externalURL: "http://grafana:3000/",
  });
  assert.equal((await post("/hooks/grafana", body, { ...json, authorization: `Bearer ${TOKEN}` })).status, 200);
  const [event] = await inbox();
  assert.deepEqual([event.type, event.priority, event.payload.title], ["alert.resolved", "urgent", "[RESOLVED] HighLatency"]);
});

test("/hooks/<name> header token (GitLab preset): X-Gitlab-Token checked; the same Idempotency-Key redelivered lands once", async () => {
  const { post, inbox } = setup({ gitlab: { preset: "gitlab", token: TOKEN } });
  const body = JSON.stringify({
    object_kind: "pipeline",
    object_attributes: { id: 31, ref: "main", status: "failed", detailed_status: "failed", duration: 63, stages: ["build", "test"] },
    user: { name: "Ada", username: "ada" },
    project: { id: 7, name: "app", path_with_namespace: "acme/app", web_url: "https://gitlab.example.com/acme/app" },
    commit: { id: "bcbb5ec3", message: "Fix the flux\n", author: { name: "Ada" } },
    builds: [{ id: 380, stage: "test", name: "unit", status: "failed" }],
  });
  const headers = (token: string) => ({ ...json, "x-gitlab-event": "Pipeline Hook", "x-gitlab-token": token, "x-gitlab-instance": "https://gitlab.example.com", "x-gitlab-event-uuid": "13792a34-cac6", "idempotency-key": "f6f4f5d1-3c5e-4f3b-9d76" });
  const wrong = await post("/hooks/gitlab", body, headers("guessed-token-123456"));
  assert.equal(wrong.status, 401);
  const none = await post("/hooks/gitlab", body, json);
  assert.match(await errorOf(none), /missing credentials: send the token in X-Gitlab-Token/);
  const first = await post("/hooks/gitlab", body, headers(TOKEN));
  assert.deepEqual(await first.json(), { id: "hook-gitlab.f6f4f5d1-3c5e-4f3b-9d76", duplicate: false });
  const retried = await post("/hooks/gitlab", body, headers(TOKEN));
  assert.deepEqual(await retried.json(), { id: "hook-gitlab.f6f4f5d1-3c5e-4f3b-9d76", duplicate: true });
  const events = await inbox();
  assert.equal(events.length, 1);
  assert.deepEqual([events[0].type, events[0].source, events[0].payload.object_attributes.status], ["gitlab.pipeline", "gitlab", "failed"]);
});

function signed(body: string, { secret = SECRET, at = Math.floor(Date.now() / 1000), delivery = "dlv-1" } = {}) {
  const signature = createHmac("sha256", secret).update(`${at}.${body}`).digest("hex");
  return { ...json, "x-signature-256": `sha256=${signature}`, "x-timestamp": String(at), "x-delivery-id": delivery };
}

test("/hooks/<name> HMAC (generic preset): a signed, timestamped delivery is accepted; a forged, tampered, stale or unsigned one is 401", async () => {
  const { post, inbox } = setup({ deploy: { preset: "hmac", secret: SECRET, type: "deploy.finished" } });
  const body = JSON.stringify({ service: "api", version: "1.4.2", ok: true });
  assert.equal((await post("/hooks/deploy", body, signed(body, { secret: "a-guessed-secret-000" }))).status, 401);
  const tampered = await post("/hooks/deploy", body.replace("true", "false"), signed(body));
  assert.equal(tampered.status, 401);
  assert.match(await errorOf(tampered), /X-Signature-256 does not match: check the hook's secret \(worker.hooks.deploy.secret\)/);
  const stale = await post("/hooks/deploy", body, signed(body, { at: Math.floor(Date.now() / 1000) - 6 * 60 }));
  assert.equal(stale.status, 401);
  assert.match(await errorOf(stale), /X-Timestamp is 36\d s from now, outside the 300-second replay window/);
  const unsigned = await post("/hooks/deploy", body, json);
  assert.match(await errorOf(unsigned), /missing X-Signature-256/);
  assert.equal((await inbox()).length, 0);

  assert.equal((await post("/hooks/deploy", body, signed(body))).status, 200);
  const again = await post("/hooks/deploy", body, signed(body));
  assert.equal(((await again.json()) as { duplicate: boolean }).duplicate, true, "the same X-Delivery-Id lands once");
  const events = await inbox();
  assert.deepEqual(events.map((e) => [e.id, e.type, e.source, e.payload.version]), [["hook-deploy.dlv-1", "deploy.finished", "deploy", "1.4.2"]]);
});

test("/hooks/<name> HMAC configured by hand: sha512, base64, a custom header and no timestamp", async () => {
  const hook = { auth: "hmac", secret: SECRET, header: "X-Payload-Signature", algorithm: "sha512", encoding: "base64", prefix: "v1=" };
  const { post, inbox } = setup({ billing: hook });
  const body = "invoice 42 paid";
  const signature = `v1=${createHmac("sha512", SECRET).update(body).digest("base64")}`;
  assert.equal((await post("/hooks/billing", body, { "content-type": "text/plain", "x-payload-signature": signature.replace("v1=", "v2=") })).status, 401);
  assert.equal((await post("/hooks/billing", body, { "content-type": "text/plain", "x-payload-signature": signature })).status, 200);
  const [event] = await inbox();
  assert.deepEqual([event.type, event.payload], ["hook.billing", { text: "invoice 42 paid" }]);
});

test("/hooks/<name>?token=: refused unless the hook allows it; where allowed, accepted and masked in every log line", async () => {
  const { post, inbox, logged } = setup({ strict: { auth: "header", token: TOKEN }, legacy: { auth: "header", token: TOKEN, allowQueryToken: true } });
  const refused = await post(`/hooks/strict?token=${TOKEN}`, "{}", json);
  assert.equal(refused.status, 401);
  assert.match(await errorOf(refused), /takes no \?token=.*allowQueryToken/);
  assert.equal((await post("/hooks/legacy?token=wrong-token-guess-99", "{}", json)).status, 401);
  assert.equal((await post(`/hooks/legacy?token=${TOKEN}&x=1`, '{"n":1}', json)).status, 200);
  assert.equal((await inbox()).length, 1);
  assert.ok(logged.length >= 2, "deliveries are logged");
  for (const line of logged) assert.ok(!line.includes(TOKEN) && !line.includes("wrong-token-guess-99"), `a token in the log: ${line}`);
  assert.ok(logged.some((line) => line.includes("token=***&x=1")));
});

test("/hooks/<name>: form fields, plain text, a JSON array and curl's -d JSON each become a payload", async () => {
  const { post, inbox } = setup({ any: { auth: "bearer", token: TOKEN } });
  const auth = { authorization: `Bearer ${TOKEN}` };
  await post("/hooks/any", "state=done&tag=a&tag=b", { ...auth, "content-type": "application/x-www-form-urlencoded" });
  await post("/hooks/any", "backup finished\n", { ...auth, "content-type": "text/plain" });
  await post("/hooks/any", "[1,2]", { ...auth, ...json });
  await post("/hooks/any", '{"from":"curl -d"}', { ...auth, "content-type": "application/x-www-form-urlencoded" });
  const bad = await post("/hooks/any", "{nope", { ...auth, ...json });
  assert.equal(bad.status, 400);
  assert.match(await errorOf(bad), /not valid JSON/);
  assert.deepEqual((await inbox()).map((e) => e.payload), [{ state: "done", tag: ["a", "b"] }, { text: "backup finished\n" }, { body: [1, 2] }, { from: "curl -d" }]);
});

test("/hooks/<name>: a body over maxEventBytes is summarised into one event; over worker.bodyLimit it is 413", async () => {
  const { post, inbox } = setup({ big: { auth: "bearer", token: TOKEN } }, { bodyLimit: 256 * 1024 }, { maxEventBytes: 8 * 1024 });
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  const alerts = Array.from({ length: 400 }, (_, i) => ({ name: `alert-${i}`, description: "d".repeat(300) }));
  const response = await post("/hooks/big", JSON.stringify({ status: "firing", alerts }), auth);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { summarised?: boolean }).summarised, true);
  const [event] = await inbox();
  assert.ok(Buffer.byteLength(JSON.stringify(event)) <= 8 * 1024);
  assert.equal(event.payload.status, "firing");
  assert.ok(event.payload._summarised.bytes > 120_000);
  assert.match(event.payload.alerts.at(-1), /more item\(s\)$/);
  const over = await post("/hooks/big", JSON.stringify({ blob: "x".repeat(300 * 1024) }), auth);
  assert.equal(over.status, 413);
  assert.match(await errorOf(over), /262144-byte limit \(worker.bodyLimit\)/);
  assert.equal((await inbox()).length, 1);
});

test("/hooks/<name>: 429 with Retry-After past the per-minute rate; 503 while Redis is unreachable", async () => {
  const { post } = setup({ any: { auth: "bearer", token: TOKEN } }, { rateLimitPerMinute: 2 });
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  assert.equal((await post("/hooks/any", "{}", auth)).status, 200);
  assert.equal((await post("/hooks/any", "{}", auth)).status, 200);
  const limited = await post("/hooks/any", "{}", auth);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);

  const down = setup({ any: { auth: "bearer", token: TOKEN } }, {}, { redisUrl: `redis://127.0.0.1:${await freePort()}` });
  const refused = await down.post("/hooks/any", "{}", auth);
  down.client.disconnect();
  assert.equal(refused.status, 503);
  assert.match(await errorOf(refused), /Redis is unreachable.*nothing was stored/);
});
