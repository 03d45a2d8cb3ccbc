// Each Lua script against a real redis-server: push, drain, ack, dead-letter, lease, release.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent, pushEvents, pushInBatches } from "../../core/push.ts";
import { holdLease, listSessions, newLease, releaseLease } from "../../core/sessions.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

function setup(overrides = {}) {
  const config = testConfig(server.url, server.prefix(), overrides);
  return { config, keys: keysFor(config.prefix) };
}

test("push: an event with no origin lands in the central inbox and wakes it", async () => {
  const { config, keys } = setup();
  const sub = server.client();
  const woke = new Promise((resolve) => sub.on("message", resolve));
  await sub.subscribe(keys.notify(CENTRAL_SESSION));
  const result = await pushEvent(redis, config, { type: "build.done", source: "ci" });
  assert.equal(result.delivered, 1);
  assert.match(result.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.deepEqual(await woke, keys.notify(CENTRAL_SESSION));
  const [raw] = await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(JSON.parse(raw!).type, "build.done");
});

test("push: an origin with a live lease gets the event too; an expired one does not", async () => {
  const { config, keys } = setup();
  const lease = newLease("pid-4242", "satellite");
  assert.equal(await holdLease(redis, config.prefix, { lease, ttl: 60_000 }), undefined);
  const live = await pushEvent(redis, config, { type: "job.done", source: "sh", originSession: "pid-4242" });
  assert.equal(live.delivered, 2);
  assert.equal(await redis.llen(keys.inbox("pid-4242")), 1);
  await releaseLease(redis, config.prefix, lease);
  const gone = await pushEvent(redis, config, { type: "job.done", source: "sh", originSession: "pid-4242" });
  assert.equal(gone.delivered, 1);
  assert.equal(await redis.llen(keys.inbox("pid-4242")), 1);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 2);
});

test("push: the same id pushed twice is delivered once", async () => {
  const { config, keys } = setup();
  const first = await pushEvent(redis, config, { id: "once", type: "t", source: "s" });
  const second = await pushEvent(redis, config, { id: "once", type: "t", source: "s" });
  assert.deepEqual([first.duplicate, second.duplicate], [false, true]);
  const batch = await pushEvents(redis, config, [
    { id: "twin", type: "t", source: "s" },
    { id: "twin", type: "t", source: "s" },
  ]);
  assert.deepEqual(batch.map((r) => r.delivered), [1, 0]);
  const again = await pushEvents(redis, config, ["once", "new", "twin"].map((id) => ({ id, type: "t", source: "s" })));
  assert.deepEqual(again.map((r) => r.duplicate), [true, false, true], "a batch sees ids pushed before it");
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 3);
});

// A lone event and a batch take different dedupe paths in the script (HSETNX vs HMGET + HSET).
for (const form of ["alone", "in a batch"] as const) {
  test(`push: an id is remembered for at least one dedupe window, and forgotten after two (${form})`, async (t) => {
    const window = 60_000;
    const { config } = setup({ pushDedupeWindow: window });
    // The last millisecond of a window, in the future so Redis keeps the hashes meanwhile.
    const endOfWindow = (Math.floor(Date.now() / window) + 2) * window - 1;
    mock.timers.enable({ apis: ["Date"], now: endOfWindow });
    t.after(() => mock.timers.reset());
    let fresh = 0;
    const push = async () => {
      const late = { id: "late", type: "t", source: "s" };
      if (form === "alone") return (await pushEvent(redis, config, late)).duplicate;
      const [result] = await pushEvents(redis, config, [late, { id: `fresh-${fresh++}`, type: "t", source: "s" }]);
      return result!.duplicate;
    };
    assert.equal(await push(), false);
    mock.timers.setTime(endOfWindow + 1);
    assert.equal(await push(), true, "1 ms later, in the next window");
    mock.timers.setTime(endOfWindow + window);
    assert.equal(await push(), true, "one full window later");
    mock.timers.setTime(endOfWindow + window + 1);
    assert.equal(await push(), false, "two windows on");
  });
}

test("push: a batch is validated as a whole before anything is written", async () => {
  const { config, keys } = setup();
  await assert.rejects(
    pushEvents(redis, config, [{ type: "ok", source: "s" }, { type: "", source: "s" }]),
    /invalid event: type/,
  );
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 0);
});

test("push: a batch larger than one LPUSH call lands whole, in order, in both inboxes", async () => {
  const { config, keys } = setup();
  await holdLease(redis, config.prefix, { lease: newLease("pid-77", "satellite"), ttl: 60_000 });
  const ids = Array.from({ length: 2500 }, (_, n) => `big-${n}`);
  const results = await pushEvents(redis, config, ids.map((id) => ({ id, type: "t", source: "s", originSession: "pid-77" })));
  assert.ok(results.every((r) => r.delivered === 2));
  for (const sid of [CENTRAL_SESSION, "pid-77"]) {
    const stored = (await redis.lrange(keys.inbox(sid), 0, -1)).map((r) => JSON.parse(r).id);
    assert.deepEqual(stored.reverse(), ids, `${sid}: oldest at the right, in push order`);
  }
});

test("push: a batch of 150 000 events lands whole (no argument list too long for the stack)", async () => {
  const { config, keys } = setup({ inboxCap: 0 });
  const results = await pushEvents(redis, config, Array.from({ length: 150_000 }, () => ({ type: "t", source: "s" })));
  assert.equal(results.filter((r) => r.delivered === 1).length, 150_000);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 150_000);
  await redis.del(keys.inbox(CENTRAL_SESSION));
});

test("push in batches: events land in the order given, each batch confirmed in turn", async () => {
  const { config, keys } = setup();
  await holdLease(redis, config.prefix, { lease: newLease("pid-78", "satellite"), ttl: 60_000 });
  const ids = Array.from({ length: 250 }, (_, n) => `bulk-${n}`);
  const confirmed: string[][] = [];
  const results = await pushInBatches(
    redis,
    config,
    ids.map((id) => ({ id, type: "t", source: "s", originSession: "pid-78" })),
    { batchSize: 100, onBatch: (batch) => confirmed.push(batch.map((r) => r.id)) },
  );
  assert.deepEqual(confirmed.map((batch) => batch.length), [100, 100, 50]);
  assert.deepEqual(confirmed.flat(), ids);
  assert.deepEqual(results.map((r) => [r.id, r.delivered]), ids.map((id) => [id, 2]));
  for (const sid of [CENTRAL_SESSION, "pid-78"]) {
    const stored = (await redis.lrange(keys.inbox(sid), 0, -1)).map((r) => JSON.parse(r).id);
    assert.deepEqual(stored.reverse(), ids, `${sid}: oldest at the right, in push order`);
  }
});

test("push in batches: an invalid event fails its batch once the batches before it are confirmed", async () => {
  const { config, keys } = setup();
  const inputs = Array.from({ length: 350 }, (_, n) => ({ id: `v-${n}`, type: n === 180 ? "" : "t", source: "s" }));
  let confirmed = 0;
  const push = pushInBatches(redis, config, inputs, { batchSize: 100, onBatch: (batch) => (confirmed += batch.length) });
  await assert.rejects(push, /invalid event: type/);
  assert.equal(confirmed, 100, "onBatch saw the batch before the bad one");
  const stored = (await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r).id);
  assert.deepEqual(stored.reverse(), inputs.slice(0, 100).map((e) => e.id), "nothing from the bad batch on");
});

test("push: past the inbox cap the oldest entries move to dead letters as overflow", async () => {
  const { config, keys } = setup({ inboxCap: 3 });
  await pushEvents(redis, config, [1, 2, 3, 4, 5].map((n) => ({ id: `e${n}`, type: "t", source: "s" })));
  const kept = (await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r).id);
  assert.deepEqual(kept, ["e5", "e4", "e3"]);
  const dead = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r));
  assert.deepEqual(dead.map((d) => [d.reason, JSON.parse(d.raw).id]), [["overflow", "e2"], ["overflow", "e1"]]);
  assert.equal(await redis.hget(keys.overflow, CENTRAL_SESSION), "2");
});

test("drain: takes the oldest first, bounded by count, parking them in flight", async () => {
  const { config, keys } = setup({ drainBatch: 2 });
  await pushEvents(redis, config, ["a", "b", "c"].map((id) => ({ id, type: "t", source: "s" })));
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(batch.entries.map((e) => e.event.id), ["a", "b"]);
  assert.equal(batch.redelivered, false);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 2);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 1);
});

test("drain: bounded by bytes, but always takes at least one entry", async () => {
  const { config } = setup({ drainBatchBytes: 1024 });
  const big = "x".repeat(2000);
  await pushEvents(redis, config, [
    { id: "big", type: "t", source: "s", payload: { big } },
    { id: "small", type: "t", source: "s" },
  ]);
  const first = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(first.entries.map((e) => e.event.id), ["big"]);
  await ackBatch(redis, config, first);
  const second = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(second.entries.map((e) => e.event.id), ["small"]);
});

test("drain: an unacknowledged batch comes back marked redelivered, and only it", async () => {
  const { config } = setup();
  await pushEvent(redis, config, { id: "first", type: "t", source: "s" });
  await drainBatch(redis, config, CENTRAL_SESSION);
  await pushEvent(redis, config, { id: "second", type: "t", source: "s" });
  const again = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.equal(again.redelivered, true);
  assert.deepEqual(again.entries.map((e) => e.event.id), ["first"]);
  await ackBatch(redis, config, again);
  const next = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual([next.redelivered, next.entries.map((e) => e.event.id)], [false, ["second"]]);
});

test("drain: the central session also drains the legacy main inbox; satellites do not", async () => {
  const { config, keys } = setup();
  await redis.lpush(keys.inbox("main"), JSON.stringify({ id: "legacy", type: "t", source: "s", payload: {}, ts: 0 }));
  const satellite = await drainBatch(redis, config, "pid-1");
  assert.equal(satellite.entries.length, 0);
  const central = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(central.entries.map((e) => e.event.id), ["legacy"]);
});

test("ack: clears the batch; an acknowledged id left in flight is dead-lettered, not redelivered", async () => {
  const { config, keys } = setup();
  await pushEvent(redis, config, { id: "acked", type: "t", source: "s" });
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.equal(await ackBatch(redis, config, batch), 1);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0);
  // Simulate the entry reappearing in flight (e.g. an ack applied twice by two processes).
  await redis.rpush(keys.inflight(CENTRAL_SESSION), batch.entries[0]!.raw);
  const again = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.equal(again.entries.length, 0);
  const [dead] = await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1);
  assert.match(JSON.parse(dead!).reason, /already acknowledged/);
});

test("ack: a reused id pushed fresh after an ack is still delivered", async () => {
  const { config, keys } = setup({ pushDedupeWindow: 0 });
  const raw = JSON.stringify({ id: "test", type: "test", source: "manual", payload: {}, ts: 0 });
  await redis.lpush(keys.inbox("main"), raw);
  await ackBatch(redis, config, await drainBatch(redis, config, CENTRAL_SESSION));
  await redis.lpush(keys.inbox("main"), raw);
  const second = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(second.entries.map((e) => e.event.id), ["test"]);
});

test("dead-letter: invalid entries move out of flight with their reason; neighbours stay", async () => {
  const { config, keys } = setup();
  const good = JSON.stringify({ id: "good", type: "t", source: "s", payload: {}, ts: 1 });
  await redis.lpush(keys.inbox(CENTRAL_SESSION), "not json", good, JSON.stringify({ id: 1 }));
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(batch.entries.map((e) => e.event.id), ["good"]);
  assert.equal(batch.deadLettered.length, 2);
  assert.deepEqual(await redis.lrange(keys.inflight(CENTRAL_SESSION), 0, -1), [good]);
  const dead = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((d) => JSON.parse(d));
  assert.deepEqual(dead.map((d) => d.raw).sort(), ["not json", '{"id":1}']);
  assert.ok(dead.every((d) => typeof d.reason === "string" && d.at > 0));
});

test("lease: a second owner cannot take a held session id; release keeps the inbox", async () => {
  const { config, keys } = setup();
  const mine = newLease(CENTRAL_SESSION, "central");
  const theirs = newLease(CENTRAL_SESSION, "central");
  assert.equal(await holdLease(redis, config.prefix, { lease: mine, ttl: 60_000 }), undefined);
  assert.equal(await holdLease(redis, config.prefix, { lease: mine, ttl: 60_000 }), undefined, "refresh");
  assert.equal((await holdLease(redis, config.prefix, { lease: theirs, ttl: 60_000 }))?.owner, mine.owner);
  assert.equal(await releaseLease(redis, config.prefix, theirs), false);
  await pushEvent(redis, config, { type: "t", source: "s" });
  assert.equal(await releaseLease(redis, config.prefix, mine), true);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 1);
  assert.equal(await redis.sismember(keys.sessions, CENTRAL_SESSION), 0);
});

test("sessions: members without a lease are pruned from the registry", async () => {
  const { config, keys } = setup();
  await redis.sadd(keys.sessions, "pid-999", "main");
  await holdLease(redis, config.prefix, { lease: newLease("pid-1", "satellite"), ttl: 60_000 });
  const live = await listSessions(redis, config.prefix);
  assert.deepEqual(live.map((s) => s.session), ["pid-1"]);
  assert.deepEqual(await redis.smembers(keys.sessions), ["pid-1"]);
});
