// maxmemory 20mb: an evicting policy (allkeys-lru) makes doctor and status warn with the fix;
// under noeviction a full Redis refuses pushes with "Redis is full (maxmemory 20mb reached)":
// the CLI spools with that warning, --no-spool exits 75, the worker answers 503 + Retry-After.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { countSpooled } from "../../core/spool.ts";
import { createApp } from "../../worker/app.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const admin = server.client();
await admin.config("SET", "maxmemory", "20mb");

test("maxmemory 20mb with allkeys-lru: doctor and status warn that events can vanish, naming the fix", async () => {
  await admin.config("SET", "maxmemory-policy", "allkeys-lru");
  const cli = cliHome(server.url, server.prefix());
  const doctor = await cli.run(["doctor", "--json"]);
  const memory = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] }).checks.find((c) => c.name === "redis memory");
  assert.equal(memory?.status, "warn");
  assert.match(memory!.detail, /maxmemory-policy allkeys-lru at maxmemory 20mb: whole inboxes can be evicted/);
  assert.match(memory!.fix ?? "", /maxmemory-policy noeviction/);
  const status = await cli.run(["status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /maxmemory 20mb, policy allkeys-lru/);
  assert.match(status.stdout, /warning: maxmemory-policy allkeys-lru .* fix: redis-cli CONFIG SET maxmemory-policy noeviction/);
});

test("noeviction and Redis full: push spools saying Redis is full, --no-spool exits 75, the worker answers 503 with the reason", async () => {
  await admin.config("SET", "maxmemory-policy", "noeviction");
  // Fill Redis outside the gateway's keys until a write is refused.
  const filler = "x".repeat(10_000);
  for (let i = 0; ; i++) {
    try {
      await admin.set(`filler:${i}`, filler);
    } catch {
      break;
    }
  }
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const spooled = await cli.run(["push", "full.spooled", "--source", "test"]);
  assert.equal(spooled.code, 0, spooled.stderr);
  assert.match(spooled.stderr, /warning: Redis is full \(maxmemory 20mb reached\)/);
  assert.equal(countSpooled(join(cli.home, "spool.jsonl")), 1);

  const refused = await cli.run(["push", "full.refused", "--source", "test", "--no-spool"]);
  assert.equal(refused.code, 75);
  assert.match(refused.stderr, /Redis is full \(maxmemory 20mb reached\)/);
  assert.equal(countSpooled(join(cli.home, "spool.jsonl")), 1);

  const config = loadConfig({ AGENT_GATEWAY_HOME: cli.home, REDIS_URL: server.url, GATEWAY_PREFIX: prefix, GATEWAY_API_TOKEN: "a-token-of-16-chars-or-more" });
  const redis = connectRedis(config, { kind: "consumer", name: "memory-test-worker" });
  await ensureConnected(redis);
  const log = createLogger({ dir: join(cli.home, "logs"), kind: "worker", level: "error" });
  try {
    const app = createApp({ config, redis, log, startedAt: Date.now(), scheduler: { mode: "off" } });
    const response = await app.request("/events", {
      method: "POST",
      headers: { authorization: "Bearer a-token-of-16-chars-or-more", "content-type": "application/json" },
      body: JSON.stringify({ type: "full.worker", source: "test" }),
    });
    assert.equal(response.status, 503);
    assert.ok(response.headers.get("retry-after"));
    assert.match(((await response.json()) as { error: string }).error, /^Redis is full \(maxmemory 20mb reached\); nothing was stored/);
  } finally {
    redis.disconnect();
    await log.close();
  }
  await admin.flushall();
});
