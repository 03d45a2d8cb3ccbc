// The seed's shell commands keep working byte for byte: redis-cli LPUSH + PUBLISH on
// agent:events:main reach the central session; malformed raw entries become dead letters with
// a reason while valid neighbours are delivered.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

const cli = (...args: string[]) => execFileSync("redis-cli", ["-p", String(server.port), ...args], { encoding: "utf8" });
const SEED_EVENT = '{"id":"test","type":"test","source":"manual","payload":{},"ts":0}';

test("the seed's redis-cli LPUSH + PUBLISH drain as one valid event, and twice as two", async () => {
  // The seed's key names are the default prefix "agent".
  const config = testConfig(server.url, "agent");
  const sub = server.client();
  await sub.subscribe("agent:notify:main");
  for (const round of [1, 2]) {
    const woke = new Promise((resolve) => sub.once("message", resolve));
    cli("LPUSH", "agent:events:main", SEED_EVENT);
    cli("PUBLISH", "agent:notify:main", "test");
    await woke;
    const batch = await drainBatch(redis, config, CENTRAL_SESSION);
    assert.deepEqual(batch.entries.map((e) => e.event), [{ id: "test", type: "test", source: "manual", payload: {}, ts: 0 }], `round ${round}`);
    assert.deepEqual(batch.deadLettered, []);
    await ackBatch(redis, config, batch);
  }
});

test("malformed raw entries land in dead letters with a reason; valid neighbours are delivered", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { maxEventBytes: 1024 });
  const keys = keysFor(prefix);
  const valid = (id: string) => JSON.stringify({ id, type: "t", source: "s", payload: {}, ts: 1 });
  const bad: [string, RegExp][] = [
    ["{not json", /not JSON/],
    [JSON.stringify({ id: "x", type: 5, source: "s", payload: {}, ts: 1 }), /type/],
    [JSON.stringify({ id: "x", type: "t", source: "s", payload: "str", ts: 1 }), /payload/],
    [JSON.stringify({ id: "x", type: "t", source: "s", payload: {} }), /ts/],
    [JSON.stringify({ id: "x", type: "t", source: "s", payload: { big: "y".repeat(2000) }, ts: 1 }), /oversize/],
    [JSON.stringify({ id: "x", type: "t", source: "s", payload: {}, ts: 1, v: 2 }), /schema version 2/],
    [JSON.stringify({ id: "x", type: "t", source: "s", payload: {}, ts: 1, extra: true }), /extra/],
  ];
  // LPUSH order: first argument is pushed first, so it is the oldest.
  await redis.lpush(keys.inbox("main"), valid("before"), ...bad.map(([raw]) => raw), valid("after"));
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  assert.deepEqual(batch.entries.map((e) => e.event.id), ["before", "after"]);
  const dead = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((d) => JSON.parse(d)).reverse();
  assert.equal(dead.length, bad.length);
  bad.forEach(([raw, reason], i) => {
    assert.equal(dead[i].raw, raw);
    assert.match(dead[i].reason, reason);
  });
});
