// maxmemory 20mb: an evicting policy (allkeys-lru) makes doctor and status warn with the fix;
// under noeviction a full Redis refuses pushes with "Redis is full (maxmemory 20mb reached)":
// the CLI spools with that warning, --no-spool exits 75, the worker answers 503 + Retry-After;
// and the consumer can still drain a Redis its events filled (lease, drain, ack, dead letters).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { type Config, loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import type { Redis } from "ioredis";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { Consumer } from "../../core/delivery.ts";
import { drainBatch } from "../../core/drain.ts";
import { HEARTBEAT_TYPE } from "../../core/format.ts";
import { Heartbeats } from "../../core/heartbeat-intake.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { pushEvents } from "../../core/push.ts";
import { redisFailure } from "../../core/redis.ts";
import { RedisFullError } from "../../core/redis-errors.ts";
import { claimLease, type LeaseHandle, newLease, releaseLease } from "../../core/sessions.ts";
import { countSpooled } from "../../core/spool.ts";
import { createApp } from "../../worker/app.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { pollUntil } from "../harness/pi.ts";

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

test("noeviction, Redis filled with events until OOM: the consumer loop still takes its lease, drains, acks and dead-letters everything; a producer is told Redis is full", async () => {
  await admin.config("SET", "maxmemory-policy", "noeviction");
  const prefix = server.prefix();
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-full-"));
  const config = { ...loadConfig({ AGENT_GATEWAY_HOME: home, REDIS_URL: server.url, GATEWAY_PREFIX: prefix }), drainBatch: 200 };
  const keys = keysFor(prefix);
  const redis = await server.consumer();
  // An entry that fails validation and a heartbeat (which records its time), so the dead-letter
  // and heartbeat paths run on the full Redis too.
  await redis.lpush(keys.inbox(CENTRAL_SESSION), "not json");
  await pushEvents(redis, config, [{ type: HEARTBEAT_TYPE, source: "test" }]);
  const pushed = await fillUntilFull(redis, config);
  await assert.rejects(
    pushOrSpool(config, { type: "one.more", source: "test", payload: { blob: "z".repeat(1000) } }, { spool: false }),
    (error: Error) => error instanceof RedisFullError && /^Redis is full \(maxmemory 20mb reached\)/.test(error.message),
  );

  const lease = { lease: newLease(CENTRAL_SESSION, "central"), ttl: 30_000 };
  assert.deepEqual(await claimLease(redis, prefix, lease), { held: true, handoverAsked: false }, "a lease is taken on a full Redis");
  const delivered = await drainAll(redis, config, lease);
  const dead = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).reason as string);
  assert.equal(dead.length, 1, dead.join());
  assert.equal(delivered, pushed + 1, "every acknowledged push delivered, and the heartbeat");
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0, "every batch acknowledged");
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 0);
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 1);
  assert.equal(await releaseLease(redis, prefix, lease.lease), true);
  // Drained, Redis takes pushes again.
  assert.equal((await pushEvents(redis, config, [{ type: "after.drain", source: "test" }]))[0]!.delivered, 1);
  await admin.flushall();
});

test("noeviction, Redis full: an event past budget.maxChainDepth still moves to the held list (out of the in-flight list, one script); nothing lost", async () => {
  await admin.config("SET", "maxmemory-policy", "noeviction");
  const prefix = server.prefix();
  const config = { ...loadConfig({ AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-full-")), REDIS_URL: server.url, GATEWAY_PREFIX: prefix }), drainBatch: 200 };
  const keys = keysFor(prefix);
  const redis = await server.consumer();
  const lease = { lease: newLease(CENTRAL_SESSION, "central"), ttl: 30_000 };
  assert.deepEqual(await claimLease(redis, prefix, lease), { held: true, handoverAsked: false });
  // A run pushed this one from a chain already too deep; it was drained, then pi died before
  // the breaker held it, and Redis filled up meanwhile: the restarted consumer must hold it now.
  await pushEvents(redis, config, [{ id: "runaway-1", type: "loop.again", source: "agent", chain: config.budget.maxChainDepth + 1 }]);
  assert.equal((await drainBatch(redis, config, CENTRAL_SESSION, lease.lease.owner)).entries.length, 1);
  const pushed = await fillUntilFull(redis, config);
  const delivered = await drainAll(redis, config, lease);
  const held = (await redis.lrange(keys.held(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id as string);
  assert.deepEqual(held, ["runaway-1"], "held once, on a full Redis");
  assert.equal(delivered, pushed, "every other event handed over");
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 0, "nothing dead-lettered");
  assert.equal(await releaseLease(redis, prefix, lease.lease), true);
  await admin.flushall();
});

/**
 * Pushes events until Redis refuses: batches of 2 KB events, halved on each refusal (a refused
 * batch's own arguments count towards maxmemory), then single small ones, so Redis ends up full
 * to within one small event. Returns how many were pushed.
 */
async function fillUntilFull(redis: Redis, config: Config): Promise<number> {
  let pushed = 0;
  let refusal: unknown;
  const phases = [...[256, 64, 16, 4, 1].map((size) => ({ size, blob: 2000 })), { size: 1, blob: 0 }];
  for (const { size, blob } of phases) {
    for (;;) {
      const batch = Array.from({ length: size }, (_, i) => ({ id: `fill-${pushed + i}`, type: "fill", source: "test", payload: { blob: "y".repeat(blob) } }));
      try {
        pushed += (await pushEvents(redis, config, batch)).length;
      } catch (error) {
        refusal = redisFailure(redis, error);
        break;
      }
    }
  }
  assert.ok(refusal instanceof RedisFullError, String(refusal));
  assert.ok(pushed > 1000, `only ${pushed} events fitted`);
  await assert.rejects(admin.set("probe", "x".repeat(4096)), /OOM/, "Redis is really full");
  return pushed;
}

/** A consumer whose pi takes every prompt at once, run until inbox and in-flight list are empty; returns the events handed over. */
async function drainAll(redis: Redis, config: Config, lease: LeaseHandle): Promise<number> {
  const keys = keysFor(config.prefix);
  let delivered = 0;
  const consumer = new Consumer({
    redis,
    config,
    session: () => ({ session: CENTRAL_SESSION, owner: lease.lease.owner }),
    heartbeats: new Heartbeats(config, createLogger({ kind: "test", level: "error" }), () => {}),
    // taken() resolves once the batch is acknowledged.
    injector: { hasRoom: () => true, send: (prepared, handover) => {
      delivered += prepared.events;
      void handover.taken();
    } },
    log: createLogger({ kind: "test", level: "error" }),
  });
  consumer.wake("test");
  try {
    await pollUntil("everything drained and acknowledged", async () => {
      await claimLease(redis, config.prefix, lease); // the refresh the lease keeper does
      return consumer.state === "idle" && (await redis.llen(keys.inbox(CENTRAL_SESSION))) + (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0;
    }, 60_000);
  } finally {
    consumer.stop();
  }
  assert.equal(consumer.report().lastError, undefined);
  return delivered;
}
