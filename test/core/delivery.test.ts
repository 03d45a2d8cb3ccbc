// Delivery guarantees of the drain protocol, with real producer processes: every id exactly
// once in per-producer order under concurrency, and a consumer crash between drain and ack
// loses nothing. A naive LRANGE-then-DEL drain, kept here only, shows the test can fail.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { Redis } from "ioredis";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

const PRODUCERS = 4;
const PER_PRODUCER = 5000;

function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

function startProducers(prefix: string): Promise<unknown[]> {
  return Promise.all(
    Array.from({ length: PRODUCERS }, async (_, i) => {
      const child = spawn(process.execPath, ["--import", "tsx", fixture("producer.ts"), server.url, prefix, `p${i}`, String(PER_PRODUCER)], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      const [code] = await once(child, "exit");
      assert.equal(code, 0, `producer p${i} failed`);
    }),
  );
}

type Drain = (redis: Redis, prefix: string) => Promise<string[]>;

/** Drains until the producers are done and the inbox is empty; returns ids in arrival order. */
async function consumeWhileProducing(prefix: string, drain: Drain): Promise<string[]> {
  let producing = true;
  const producers = startProducers(prefix).finally(() => (producing = false));
  const seen: string[] = [];
  const keys = keysFor(prefix);
  while (producing || (await redis.llen(keys.inbox(CENTRAL_SESSION))) > 0) {
    seen.push(...(await drain(redis, prefix)));
  }
  await producers;
  return seen;
}

const atomicDrain: Drain = async (redis, prefix) => {
  const config = testConfig(server.url, prefix, { drainBatch: 7 });
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  await ackBatch(redis, config, batch);
  return batch.entries.map((e) => e.event.id);
};

// The seed's drain: read everything, then delete the list. Anything pushed in between is lost.
const naiveDrain: Drain = async (redis, prefix) => {
  const inbox = keysFor(prefix).inbox(CENTRAL_SESSION);
  const raws = await redis.lrange(inbox, 0, -1);
  await redis.del(inbox);
  return raws.reverse().map((raw) => JSON.parse(raw).id as string);
};

test(`${PRODUCERS} producers x ${PER_PRODUCER} events, continuous small-batch drain: each id once, in per-producer order`, { timeout: 120_000 }, async () => {
  const prefix = server.prefix();
  const seen = await consumeWhileProducing(prefix, atomicDrain);
  assert.equal(await redis.llen(keysFor(prefix).dead(CENTRAL_SESSION)), 0, "nothing dead-lettered");
  assert.equal(new Set(seen).size, seen.length, "no duplicates");
  assert.equal(seen.length, PRODUCERS * PER_PRODUCER, "none lost");
  const last = new Map<string, number>();
  for (const id of seen) {
    const [producer, seq] = id.split("-") as [string, string];
    assert.ok(Number(seq) > (last.get(producer) ?? -1), `${id} arrived out of order`);
    last.set(producer, Number(seq));
  }
});

test("the same load through a naive LRANGE-then-DEL drain loses events (the test can fail)", { timeout: 120_000 }, async () => {
  const seen = await consumeWhileProducing(server.prefix(), naiveDrain);
  assert.ok(seen.length < PRODUCERS * PER_PRODUCER, `naive drain delivered all ${seen.length}; expected losses`);
});

test("a consumer killed between drain and ack loses nothing: the batch comes back once", { timeout: 60_000 }, async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { drainBatch: 3 });
  const keys = keysFor(prefix);
  await pushEvents(redis, config, ["a", "b", "c", "d"].map((id) => ({ id, type: "t", source: "s" })));

  const consumer = spawn(process.execPath, ["--import", "tsx", fixture("paused-consumer.ts"), server.url, prefix, CENTRAL_SESSION, "3"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(consumer.stdout!, "data")) as [Buffer];
  const drained = JSON.parse(line.toString()) as string[];
  assert.deepEqual(drained, ["a", "b", "c"]);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 3, "the batch is in flight at the kill");
  consumer.kill("SIGKILL");
  await once(consumer, "exit");

  const redelivered = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.equal(redelivered.redelivered, true);
  assert.deepEqual(redelivered.entries.map((e) => e.event.id), ["a", "b", "c"]);
  await ackBatch(redis, config, redelivered);
  const rest = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual([rest.redelivered, rest.entries.map((e) => e.event.id)], [false, ["d"]]);
  await ackBatch(redis, config, rest);
  assert.equal((await drainBatch(redis, config, CENTRAL_SESSION)).entries.length, 0);
});
