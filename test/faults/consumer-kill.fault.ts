// Fault 1: 4 producers × 10 000 events while the consumer's drain loop (a child process) is
// SIGKILLed and restarted 5 times at random moments. Nothing may be lost; duplicates (a batch
// delivered but killed before its ack) are counted and reported.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startConsumer } from "./lib/consumer.ts";
import { readDelivered, report, tally, until } from "./lib/tally.ts";

const PRODUCERS = 4;
const EVENTS_PER_PRODUCER = 10_000;
const KILLS = 5;

const server = await startRedis();
const dir = mkdtempSync(join(tmpdir(), "agent-gateway-fault-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("fault: consumer SIGKILLed 5 times while 4 producers push 10 000 events each — nothing lost", async (t) => {
  // No inbox cap: while the consumer restarts the backlog may pass the default cap, and this
  // scenario is about crashes, not overflow.
  const config = testConfig(server.url, server.prefix(), { inboxCap: 0 });
  const keys = keysFor(config.prefix);
  const deliveredFile = join(dir, "delivered.txt");
  const probe = server.client();
  const producers = Array.from({ length: PRODUCERS }, (_, p) => connectRedis(server.url, { kind: "producer", name: `producer-${p}` }));
  t.after(() => {
    for (const p of producers) p.disconnect();
  });
  await Promise.all(producers.map(ensureConnected));

  const sent: string[] = [];
  let producing = true;
  // Paced (a pause every 25 events) so the stream spans the kills instead of finishing first.
  const produced = Promise.all(
    producers.map(async (redis, p) => {
      for (let i = 0; i < EVENTS_PER_PRODUCER; i++) {
        sent.push((await pushEvent(redis, config, { type: "fault.tick", source: `producer-${p}`, payload: { p, i } })).id);
        if (i % 25 === 24) await sleep(20);
      }
    }),
  ).finally(() => (producing = false));

  let consumer = await startConsumer(server.url, config.prefix, deliveredFile);
  const pids = [consumer.pid];
  const moments: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const moment = 200 + Math.floor(Math.random() * 1800);
    moments.push(moment);
    await sleep(moment);
    await consumer.kill();
    consumer = await startConsumer(server.url, config.prefix, deliveredFile);
    pids.push(consumer.pid);
  }
  const killedWhileProducing = producing;
  await produced;
  await until("inbox and in-flight list to empty", async () => {
    const [inbox, inflight] = await Promise.all([probe.llen(keys.inbox(CENTRAL_SESSION)), probe.llen(keys.inflight(CENTRAL_SESSION))]);
    return inbox === 0 && inflight === 0;
  });
  await consumer.kill();

  assert.equal(new Set(pids).size, KILLS + 1, "the consumer ran as 6 distinct processes");
  assert.equal(await probe.llen(keys.dead(CENTRAL_SESSION)), 0, "no valid event was dead-lettered");
  const result = tally(sent, readDelivered(deliveredFile));
  report(t, "consumer SIGKILL ×5", result, `kills after ${moments.join(", ")} ms; last kill ${killedWhileProducing ? "while" : "after"} producers were running`);
  assert.equal(result.sent, PRODUCERS * EVENTS_PER_PRODUCER);
});
