// The requeue script against a real redis-server: dead letters go back to the inbox in one
// step, oldest first, waking the session; an entry requeued twice at once moves once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { listDead, requeueDead } from "../../core/dead.ts";
import { drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

test("requeue: overflowed events go back to the inbox oldest first, wake the session, and drain again", async () => {
  const config = testConfig(server.url, server.prefix(), { inboxCap: 2 });
  const keys = keysFor(config.prefix);
  await pushEvents(redis, config, ["e1", "e2", "e3", "e4"].map((id) => ({ id, type: "t", source: "s" })));
  const sub = server.client();
  const woke = new Promise((resolve) => sub.on("message", (_channel, body) => resolve(body)));
  await sub.subscribe(keys.notify(CENTRAL_SESSION));
  const dead = await listDead(redis, config.prefix, CENTRAL_SESSION);
  assert.deepEqual(dead.map((d) => d.id), ["e1", "e2"]);
  assert.equal(await requeueDead(redis, config.prefix, CENTRAL_SESSION, dead), 2);
  assert.equal(await woke, "requeue");
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 0);
  const batch = await drainBatch(redis, { ...config, drainBatch: 10 }, CENTRAL_SESSION);
  assert.deepEqual(batch.entries.map((e) => e.event.id), ["e3", "e4", "e1", "e2"]);
});

test("requeue: the same dead letters requeued twice at once move once", async () => {
  const config = testConfig(server.url, server.prefix(), { inboxCap: 1 });
  const keys = keysFor(config.prefix);
  await pushEvents(redis, config, ["a", "b", "c"].map((id) => ({ id, type: "t", source: "s" })));
  const dead = await listDead(redis, config.prefix, CENTRAL_SESSION);
  const moved = await Promise.all([
    requeueDead(redis, config.prefix, CENTRAL_SESSION, dead),
    requeueDead(redis, config.prefix, CENTRAL_SESSION, dead),
  ]);
  assert.deepEqual(moved.sort(), [0, 2]);
  const ids = (await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id);
  assert.deepEqual(ids.sort(), ["a", "b", "c"]);
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 0);
});
