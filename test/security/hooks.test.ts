// Attacks on the worker's webhook and read routes, against a real listening worker
// (@hono/node-server on loopback) and a real redis-server: a captured signed delivery replayed
// inside its replay window, guessing the API token through GET /spend, and path tricks that try
// to reach POST /events or a hook without its credentials.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hooksSchema } from "../../core/hook-config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { startRedis } from "../harness/redis.ts";
import { workerForFile } from "../harness/worker.ts";
import { testConfig } from "../harness/settings.ts";

const TOKEN = "hooks-attack-token-0123";
const SECRET = "hooks-attack-secret-0123";
const HOOK_TOKEN = "hooks-attack-hook-token-0123";
const RATE = 20;
const server = await startRedis();
const redis = await server.consumer();
const home = mkdtempSync(join(tmpdir(), "agent-gateway-sec-hooks-"));
const base = testConfig(server.url, server.prefix());
const config = {
  ...base,
  home,
  apiToken: TOKEN,
  heartbeat: { ...base.heartbeat, enabled: false },
  worker: { ...base.worker, rateLimitPerMinute: RATE, hooks: hooksSchema.parse({
      signed: { preset: "hmac", secret: SECRET },
      ci: { auth: "header", token: HOOK_TOKEN, deliveryHeader: "X-Delivery-Id" },
      "ci-prod": { auth: "header", token: `${HOOK_TOKEN}-prod`, deliveryHeader: "X-Delivery-Id" },
    }) },
};
const inbox = async () => (await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r) as { id: string; payload: Record<string, unknown> });
const worker = workerForFile(config);

function signedDelivery(body: string, delivery?: string): Record<string, string> {
  const stamp = String(Math.floor(Date.now() / 1000));
  const signature = `sha256=${createHmac("sha256", SECRET).update(`${stamp}.${body}`).digest("hex")}`;
  return { "content-type": "application/json", "x-timestamp": stamp, "x-signature-256": signature, ...(delivery ? { "x-delivery-id": delivery } : {}) };
}

const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${worker.url}${path}`, { method: "POST", body, headers });

test("attack: a captured signed delivery replayed inside the replay window, with a new delivery id or none, is not pushed again", async () => {
  const body = JSON.stringify({ action: "transfer", amount: 1_000 });
  const captured = signedDelivery(body, "delivery-1");
  const first = await post("/hooks/signed", body, captured);
  assert.equal(first.status, 200, await first.clone().text());
  const { id } = (await first.json()) as { id: string };
  const { "x-delivery-id": _, ...withoutId } = captured;
  for (const headers of [captured, { ...captured, "x-delivery-id": "delivery-2-replayed" }, withoutId]) {
    const replay = await post("/hooks/signed", body, headers);
    assert.equal(replay.status, 200);
    assert.deepEqual(await replay.json(), { id, duplicate: true }, "answered as the duplicate it is");
  }
  assert.deepEqual((await inbox()).filter((e) => e.payload.action === "transfer").map((e) => e.id), [id], "one event, not four");
  // The sender's own redelivery (signed again, a new timestamp) still lands once by its delivery id.
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // a new second: a new timestamp, a new signature
  const redelivered = await post("/hooks/signed", body, signedDelivery(body, "delivery-1"));
  assert.deepEqual(await redelivered.json(), { id, duplicate: true });
  const other = JSON.stringify({ action: "transfer", amount: 5 });
  const fresh = await post("/hooks/signed", other, signedDelivery(other, "delivery-3"));
  assert.equal(((await fresh.json()) as { duplicate: boolean }).duplicate, false, "a new delivery, signed, is pushed");
});

test("attack: guessing the API token through GET /spend is rate limited like POST /events (401, then 429 per address)", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < RATE + 5; i++) {
    const response = await fetch(`${worker.url}/spend`, { headers: { authorization: `Bearer guess-${i}-xxxxxxxxxxxxxxxx` } });
    statuses.push(response.status);
    await response.arrayBuffer();
  }
  assert.deepEqual([...new Set(statuses)], [401, 429], statuses.join(","));
  assert.equal(statuses.filter((s) => s === 401).length, RATE, "a bucket's worth of guesses, then refused");
  const owner = await fetch(`${worker.url}/spend`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(owner.status, 200, "the right token still reads its spend");
});

test("attack: an event id taken ahead of time — POST /events cannot claim the ids of hook deliveries, GitHub deliveries or schedule firings (the real one would be dropped as a duplicate)", async () => {
  for (const id of ["hook-ci-dlv-9", "github-72d3162e-cc78-11e3-81ab-4c9367dc0958", "schedule-daily-1796083200000", "heartbeat-local-1796083200000"]) {
    const taken = await post("/events", JSON.stringify({ id, type: "x", source: "attacker" }), { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" });
    assert.equal(taken.status, 400, `${id}: ${await taken.clone().text()}`);
    assert.match(((await taken.json()) as { error: string }).error, /reserved/);
  }
  const delivered = await post("/hooks/ci", "{}", { "x-hook-token": HOOK_TOKEN, "x-delivery-id": "dlv-9" });
  assert.equal(((await delivered.json()) as { duplicate: boolean }).duplicate, false, "the hook's delivery is pushed");
});

test("attack: one hook's sender picks a delivery id that names another hook's delivery (ci + prod-77 vs ci-prod + 77) — both are pushed", async () => {
  const first = (await (await post("/hooks/ci", "{}", { "x-hook-token": HOOK_TOKEN, "x-delivery-id": "prod-77" })).json()) as { id: string; duplicate: boolean };
  const second = (await (await post("/hooks/ci-prod", "{}", { "x-hook-token": `${HOOK_TOKEN}-prod`, "x-delivery-id": "77" })).json()) as { id: string; duplicate: boolean };
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, false, `ci-prod's delivery 77 is its own event (${first.id} vs ${second.id})`);
  assert.notEqual(first.id, second.id);
});

test("attack: path tricks never reach a route without its credentials — dot segments, encoded names, prototype names, a NUL", async () => {
  const { request } = await import("node:http");
  // Raw paths, as sent: fetch would normalise the dot segments before they reach the worker. From
  // an address of its own: the earlier tests' refusals filled 127.0.0.1's failed-credentials bucket.
  const send = (path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const r = request({ host: "127.0.0.1", localAddress: "127.0.0.9", port: worker.port, path, method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on("error", reject);
      r.end(JSON.stringify({ type: "smuggled", source: "attacker" }));
    });
  const before = (await inbox()).length;
  for (const path of ["/hooks/../events", "/hooks/%2e%2e/events", "/hooks/ci/../../events", "/spend/../events", "/health/../events"]) {
    assert.equal(await send(path, { "x-hook-token": HOOK_TOKEN }), 401, `${path}: POST /events asks for its own token`);
  }
  for (const path of ["/hooks/..%2Fevents", "/hooks/__proto__", "/hooks/constructor", "/hooks/ci%00", "/hooks/CI", "//events", "/events/", "/hooks/ci/"]) {
    assert.equal(await send(path, { authorization: `Bearer ${TOKEN}` }), 404, `${path} is no route`);
  }
  assert.equal(await send("/hooks/github/../ci"), 401, "a hook reached through another's path still asks for its token");
  assert.equal((await inbox()).length, before, "nothing was pushed");
});
