// Attacks on the worker, replayed against a real listening worker (@hono/node-server on
// loopback) and a real redis-server: each asserts the refusal.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { createHmac } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { startRedis } from "../harness/redis.ts";
import { workerForFile } from "../harness/worker.ts";
import { testConfig } from "../harness/settings.ts";

const TOKEN = "security-test-token-0123";
const SECRET = "github-hook-secret";
const RATE = 30;
const server = await startRedis();
const redis = await server.consumer();
const home = mkdtempSync(join(tmpdir(), "agent-gateway-sec-worker-"));
const base = testConfig(server.url, server.prefix());
const config = { ...base, home, apiToken: TOKEN, heartbeat: { ...base.heartbeat, enabled: false }, worker: { ...base.worker, githubSecret: SECRET, rateLimitPerMinute: RATE } };
const worker = workerForFile(config);

const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${worker.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
const bearer = { authorization: `Bearer ${TOKEN}` };
const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const signed = (body: string) => ({ "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}` });

test("attack: a payload 10 000 levels deep through POST /events is a 400 naming the limit, nothing stored", async () => {
  const body = `{"type":"deep","source":"attacker","payload":{"x":${deep(10_000)}}}`;
  const response = await post("/events", body, bearer);
  assert.equal(response.status, 400);
  assert.match(((await response.json()) as { error: string }).error, /nests deeper than 64 levels/);
  assert.equal(await redis.llen(keysFor(config.prefix).inbox(CENTRAL_SESSION)), 0);
  const ok = await post("/events", `{"type":"deep","source":"ok","payload":{"x":${deep(60)}}}`, bearer);
  assert.equal(ok.status, 200, "60 levels are fine");
});

test("attack: /hooks/github with a 300-character delivery id is a 400, not a 503", async () => {
  const body = JSON.stringify({ action: "opened", repository: { full_name: "o/r" } });
  const response = await post("/hooks/github", body, { ...signed(body), "x-github-event": "issues", "x-github-delivery": "d".repeat(300) });
  assert.equal(response.status, 400);
  assert.match(((await response.json()) as { error: string }).error, /X-GitHub-Delivery/);
});

test("attack: a flood of wrong tokens does not use up the producer's bucket; /hooks/github is rate limited", async () => {
  const wrong = await Promise.all(Array.from({ length: RATE + 5 }, () => post("/events", `{"type":"t","source":"s"}`, { authorization: "Bearer not-the-token-xxxxxxxx" })));
  assert.ok(wrong.some((r) => r.status === 429), "guessing is rate limited");
  assert.ok(wrong.every((r) => r.status === 401 || r.status === 429));
  assert.equal((await post("/events", `{"type":"t","source":"real"}`, bearer)).status, 200, "the producer still gets through");
  const hooks = await Promise.all(Array.from({ length: RATE + 5 }, () => post("/hooks/github", "{}", { "x-hub-signature-256": "sha256=00" })));
  assert.ok(hooks.some((r) => r.status === 429), "/hooks/github is rate limited per address");
});

test("attack: half-sent headers are not held for ever — the worker cuts the connection", async () => {
  const { port } = new URL(worker.url);
  const socket = connect(Number(port), "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write("POST /events HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  const started = Date.now();
  let reply = "";
  socket.on("data", (d) => (reply += d));
  await new Promise((resolve) => socket.once("close", resolve));
  const held = Date.now() - started;
  assert.ok(held < 15_000, `held ${held} ms`);
  assert.match(reply, /^HTTP\/1\.1 408/, "answered 408 Request Timeout");
});
