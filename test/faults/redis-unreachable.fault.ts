// Fault 4: Redis unreachable for longer than every timeout (connect 3 s, ready 6 s, producer
// command 5 s, consumer command 15 s, consumer backoff cap 5 s), first refused (server gone), then silent (server frozen, as behind a
// dead network). No call may hang; the same clients and the same consumer process recover
// without a restart once Redis is back, and nothing is lost.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { countSpooled } from "../../core/spool.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startConsumer } from "./lib/consumer.ts";
import { readDelivered, report, tally, until } from "./lib/tally.ts";

/** Longer than every timeout the gateway has (the longest: a consumer's 15 s command timeout). */
const OUTAGE_MS = 20_000;
/** A call that has not settled by then counts as hung (just above that longest timeout). */
const HANG_MS = 17_000;

const server = await startRedis({ aof: true });
const dir = mkdtempSync(join(tmpdir(), "agent-gateway-fault-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Settles within `ms`, or reports the call as hung. */
async function settlesWithin<T>(ms: number, call: Promise<T>): Promise<{ hung: boolean; value?: T; error?: unknown }> {
  const timeout = sleep(ms).then(() => ({ hung: true }));
  const settled = call.then(
    (value) => ({ hung: false, value }),
    (error: unknown) => ({ hung: false, error }),
  );
  return Promise.race([settled, timeout]);
}

async function redisPid(): Promise<number> {
  const probe = connectRedis(server.url, { kind: "producer" });
  try {
    await ensureConnected(probe);
    return Number(/process_id:(\d+)/.exec(await probe.info("server"))![1]);
  } finally {
    probe.disconnect();
  }
}

for (const mode of ["refused", "frozen"] as const) {
  const name = `fault: Redis ${mode === "refused" ? "gone (connections refused)" : "frozen (no replies, like a dead network)"} for ${OUTAGE_MS / 1000} s — nothing hangs, everything recovers without a restart`;
  test(name, async (t) => {
    const base = testConfig(server.url, server.prefix(), { inboxCap: 0 });
    const config = { ...base, paths: { ...base.paths, spool: join(dir, `spool-${mode}.jsonl`) } };
    const keys = keysFor(config.prefix);
    const deliveredFile = join(dir, `delivered-${mode}.txt`);
    const consumerProcess = await startConsumer(server.url, config.prefix, deliveredFile);
    const consumer = connectRedis(server.url, { kind: "consumer", name: "fault-probe" });
    t.after(() => consumer.disconnect());
    await ensureConnected(consumer);

    const sent: string[] = [];
    const push = async (n: number, phase: string) => {
      for (let i = 0; i < n; i++) {
        const outcome = await settlesWithin(HANG_MS, pushOrSpool(config, { type: "fault.tick", source: phase, payload: { i } }));
        assert.ok(!outcome.hung, `pushOrSpool hung during ${phase}`);
        assert.equal(outcome.error, undefined, `pushOrSpool failed during ${phase}: ${outcome.error}`);
        sent.push(...outcome.value!.ids);
      }
    };
    await push(20, "before");

    const pid = mode === "frozen" ? await redisPid() : 0;
    if (mode === "refused") await server.kill();
    else process.kill(pid, "SIGSTOP");
    const outageEnds = Date.now() + OUTAGE_MS;
    try {
      // A consumer call and producer calls at once, each bounded, while Redis stays away.
      const [drained] = await Promise.all([settlesWithin(HANG_MS, drainBatch(consumer, config, CENTRAL_SESSION)), push(2, "outage")]);
      assert.ok(!drained.hung, "drainBatch hung while Redis was unreachable");
      assert.ok(drained.error, "drainBatch reports the outage as an error");
      assert.ok(Date.now() < outageEnds, "the calls settled while Redis was still unreachable");
      await sleep(Math.max(0, outageEnds - Date.now()));
      assert.ok(countSpooled(config.paths.spool) >= 2, "the producer spooled during the outage");
    } finally {
      if (mode === "refused") await server.start();
      else process.kill(pid, "SIGCONT");
    }

    // The same client object comes back by itself.
    await until("the consumer client to reconnect", () => consumer.status === "ready", 30_000);
    assert.ok(Array.isArray(await consumer.ping().then(() => [])));
    await push(20, "after");
    assert.equal(countSpooled(config.paths.spool), 0, "the spool was flushed by the next push");
    // Delivered (appended) before acknowledged: wait for both, and for the inbox to empty. Distinct
    // ids: a duplicate (a batch redelivered after the outage) must not stand in for a missing one.
    await until(
      "every event to reach the consumer process and be acknowledged",
      async () => {
        const [inbox, inflight] = await Promise.all([consumer.llen(keys.inbox(CENTRAL_SESSION)), consumer.llen(keys.inflight(CENTRAL_SESSION))]);
        return inbox === 0 && inflight === 0 && new Set(readDelivered(deliveredFile)).size >= sent.length;
      },
      60_000,
    );
    await consumerProcess.kill();
    report(t, `Redis ${mode} for ${OUTAGE_MS / 1000} s`, tally(sent, readDelivered(deliveredFile)), `consumer pid ${consumerProcess.pid} never restarted`);
  });
}
