// Sentinel (master, replica, three sentinels on loopback): producers push through pushOrSpool
// while the master fails over; nothing is lost — a push that was refused or not confirmed is
// spooled and flushed after, and a consumer on the same Sentinel client follows the new master.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig, type Config } from "../../core/config.ts";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION } from "../../core/keys.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { connectRedis, ensureConnected, withProducer } from "../../core/redis.ts";
import { countSpooled, flushSpool } from "../../core/spool.ts";
import { startSentinel, type SentinelSetup } from "../harness/topologies.ts";

const setup = await startSentinel();

function configFor(sentinel: SentinelSetup, prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-sentinel-home-")),
    GATEWAY_PREFIX: prefix,
    REDIS_SENTINELS: sentinel.sentinels.join(","),
    REDIS_SENTINEL_NAME: sentinel.name,
    ...extra,
  });
}

/** Drains the central inbox until `stop()` is called and the inbox is empty; returns every id taken. */
function startConsumer(config: Config) {
  const redis = connectRedis(config, { kind: "consumer", name: "sentinel-test-consumer" });
  const seen = new Set<string>();
  let stopping = false;
  let failures = 0;
  const done = (async () => {
    await ensureConnected(redis);
    for (;;) {
      try {
        const batch = await drainBatch(redis, config, CENTRAL_SESSION);
        for (const { event } of batch.entries) seen.add(event.id);
        await ackBatch(redis, config, batch);
        if (batch.entries.length === 0) {
          if (stopping) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch {
        failures++; // a failover under way: the client reconnects to the new master
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    seen,
    failures: () => failures,
    async stop() {
      stopping = true;
      await done;
      redis.disconnect();
    },
  };
}

async function flushAll(config: Config): Promise<void> {
  while (countSpooled(config.paths.spool) > 0) {
    await withProducer(config, "sentinel-test-flush", (redis) => flushSpool(redis, config, config.paths.spool)).catch(() => undefined);
    if (countSpooled(config.paths.spool) > 0) await new Promise((r) => setTimeout(r, 200));
  }
}

test("REDIS_URL at a replica (READONLY): the push is retried for a few seconds, then spooled with the reason", async () => {
  const config = loadConfig({
    AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-sentinel-home-")),
    REDIS_URL: `redis://127.0.0.1:${setup.replica.port}`,
  });
  const started = Date.now();
  const outcome = await pushOrSpool(config, { type: "readonly", source: "test" });
  assert.equal(outcome.spooled, true);
  assert.match(outcome.spoolReason ?? "", /READONLY/);
  assert.ok(Date.now() - started >= 4000, "retried through what may be a failover before spooling");
});

test("Sentinel failover while 2 producers push 1 000 events each: every event is delivered, refused pushes are spooled and flushed, 0 lost", async () => {
  const prefix = "failover";
  const producers = [configFor(setup, prefix), configFor(setup, prefix)];
  const consumer = startConsumer(producers[0]!);
  const PER_PRODUCER = 1000;
  const acknowledged = new Set<string>();
  const spooled = new Set<string>();
  let failedOver: Promise<number> | undefined;
  // Each producer keeps 4 pushes in flight (4 connections), as a busy host's cron jobs would.
  const LANES = 4;
  await Promise.all(
    producers.flatMap((config, p) =>
      Array.from({ length: LANES }, async (_, lane) => {
        for (let i = lane; i < PER_PRODUCER; i += LANES) {
          if (p === 0 && i === 300) failedOver = setup.failover();
          const outcome = await pushOrSpool(config, { type: "load", source: `producer-${p}`, id: `p${p}-${i}` });
          for (const id of outcome.ids) (outcome.spooled ? spooled : acknowledged).add(id);
        }
      }),
    ),
  );
  const newMaster = await failedOver!;
  assert.notEqual(newMaster, setup.master.port, "the failover promoted the replica");
  for (const config of producers) await flushAll(config);
  await consumer.stop();
  const lost = [...acknowledged, ...spooled].filter((id) => !consumer.seen.has(id));
  console.log(`sentinel failover: ${acknowledged.size} acknowledged, ${spooled.size} spooled then flushed, ${lost.length} lost, consumer retried ${consumer.failures()} time(s)`);
  assert.equal(acknowledged.size + spooled.size, 2 * PER_PRODUCER);
  assert.deepEqual(lost, []);
});

test("waitReplicas 1: the master SIGKILLed right after a push loses no acknowledged push", async () => {
  const prefix = "durable";
  const config = configFor(setup, prefix, { REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT: "500ms" });
  const acknowledged: string[] = [];
  const spooled: string[] = [];
  for (let i = 0; i < 50; i++) {
    const outcome = await pushOrSpool(config, { type: "durable", source: "test", id: `d-${i}` });
    (outcome.spooled ? spooled : acknowledged).push(outcome.ids[0]!);
    if (!outcome.spooled) assert.equal(outcome.replicated, true);
  }
  // Right after the last acknowledged push: the master dies, the sentinels promote the replica.
  const masterPort = await setup.masterPort();
  const master = [setup.master, setup.replica].find((node) => node.port === masterPort)!;
  await master.kill();
  const after = await pushOrSpool(config, { type: "durable", source: "test", id: "d-after-kill" });
  assert.equal(after.spooled, true, "with the master gone the push is spooled, not lost");
  // The promoted replica is the only node left; wait for the sentinels to name it.
  const survivor = [setup.master, setup.replica].find((node) => node.port !== masterPort)!;
  const deadline = Date.now() + 20_000;
  while ((await setup.masterPort()) !== survivor.port) {
    assert.ok(Date.now() < deadline, "the sentinels promoted the replica");
    await new Promise((r) => setTimeout(r, 100));
  }
  // With no replica left, waitReplicas cannot be met: read with waitReplicas 0 to drain.
  const reader = configFor(setup, prefix);
  const consumer = startConsumer(reader);
  await consumer.stop();
  const lost = acknowledged.filter((id) => !consumer.seen.has(id));
  console.log(`waitReplicas 1 + SIGKILL: ${acknowledged.length} acknowledged, ${spooled.length + 1} spooled, ${lost.length} acknowledged lost`);
  assert.deepEqual(lost, []);
  assert.equal(countSpooled(config.paths.spool) >= 1, true, "the push after the kill waits in the spool");
});
