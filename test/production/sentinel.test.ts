// Sentinel (master, replica, three sentinels on loopback): a REDIS_URL at a replica is retried
// then spooled; with waitReplicas a master killed right after a push loses no acknowledged push.
// (The failover under load, 2 × 1 000 pushes, is test/faults/sentinel-failover.fault.ts.)
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../core/config.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { countSpooled } from "../../core/spool.ts";
import { configFor, startConsumer } from "../harness/sentinel-clients.ts";
import { startSentinel } from "../harness/topologies.ts";

const setup = await startSentinel();

test("REDIS_URL at a replica (READONLY): the push is retried for a few seconds, then spooled with the reason", async () => {
  const config = loadConfig({
    AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-sentinel-home-")),
    REDIS_URL: `redis://127.0.0.1:${setup.replica.port}`,
  });
  const started = Date.now();
  const outcome = await pushOrSpool(config, { type: "readonly", source: "test" });
  assert.equal(outcome.spooled, true);
  assert.match(outcome.spoolReason ?? "", /READONLY/);
  assert.ok(Date.now() - started >= 3000, "retried through what may be a failover before spooling");
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
