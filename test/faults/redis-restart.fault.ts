// Fault 2: Redis with AOF is SIGKILLed and restarted twice mid-stream. Producers (pushOrSpool)
// spool while it is down and flush after; the consumer's drain loop (a child process) keeps
// going across both restarts. Nothing may be lost.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { countSpooled } from "../../core/spool.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startConsumer } from "./lib/consumer.ts";
import { readDelivered, report, tally, until } from "./lib/tally.ts";

const PRODUCERS = 4;
const EVENTS_PER_PRODUCER = 1_000;
const RESTARTS = 2;
const DOWN_MS = 3_000;

const server = await startRedis({ aof: true });
const dir = mkdtempSync(join(tmpdir(), "agent-gateway-fault-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("fault: Redis (AOF) killed and restarted twice mid-stream — producers spool and flush, nothing lost", async (t) => {
  const base = testConfig(server.url, server.prefix(), { inboxCap: 0 });
  const config = { ...base, paths: { ...base.paths, spool: join(dir, "spool.jsonl") } };
  const keys = keysFor(config.prefix);
  const deliveredFile = join(dir, "delivered.txt");
  const consumer = await startConsumer(server.url, config.prefix, deliveredFile);

  const sent: string[] = [];
  let spooled = 0;
  let producing = true;
  const produced = Promise.all(
    Array.from({ length: PRODUCERS }, async (_, p) => {
      for (let i = 0; i < EVENTS_PER_PRODUCER; i++) {
        const outcome = await pushOrSpool(config, { type: "fault.tick", source: `producer-${p}`, payload: { p, i } });
        sent.push(...outcome.ids);
        if (outcome.spooled) spooled += outcome.ids.length;
        if (i % 10 === 9) await sleep(150); // paced: the stream must outlast both restarts
      }
    }),
  ).finally(() => (producing = false));

  for (let restart = 0; restart < RESTARTS; restart++) {
    await sleep(1_500 + Math.floor(Math.random() * 1_500));
    assert.ok(producing, "the restart happens mid-stream");
    await server.kill();
    await sleep(DOWN_MS);
    await server.start();
  }
  await produced;
  // The last producer calls may have spooled after the final restart: one empty push flushes.
  await pushOrSpool(config, []);
  assert.equal(countSpooled(config.paths.spool), 0, "the spool is empty");

  const probe = server.client();
  await until("inbox and in-flight list to empty", async () => {
    const [inbox, inflight] = await Promise.all([probe.llen(keys.inbox(CENTRAL_SESSION)), probe.llen(keys.inflight(CENTRAL_SESSION))]);
    return inbox === 0 && inflight === 0 && new Set(readDelivered(deliveredFile)).size >= sent.length;
  });
  await consumer.kill();
  assert.equal(await probe.llen(keys.dead(CENTRAL_SESSION)), 0, "no valid event was dead-lettered");
  assert.ok(spooled > 0, "some events were spooled while Redis was down");
  report(t, "Redis kill+restart ×2 (AOF)", tally(sent, readDelivered(deliveredFile)), `${spooled} spooled while down, then flushed`);
});
