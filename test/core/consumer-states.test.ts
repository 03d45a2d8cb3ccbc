// The consumer loop's states and transitions (core/delivery.ts), against a real redis-server,
// with a recording injector in place of pi: empty drain, taken → ack, not taken → retry and
// redelivery, no room, pause, a drain refused to a consumer that lost the lease, finish.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Consumer, type ConsumerState, type Handover, type PreparedPrompt } from "../../core/delivery.ts";
import { Heartbeats } from "../../core/heartbeat-intake.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { pushEvent } from "../../core/push.ts";
import { holdLease, newLease } from "../../core/sessions.ts";
import { pollUntil } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();
const log = createLogger({ kind: "test", level: "error" });

async function setup(room = () => true) {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const lease = newLease(CENTRAL_SESSION, "central");
  await holdLease(redis, prefix, { lease, ttl: 60_000 });
  const sent: { prepared: PreparedPrompt; handover: Handover }[] = [];
  const states: ConsumerState[] = [];
  const consumer = new Consumer({
    redis,
    config,
    session: () => ({ session: CENTRAL_SESSION, owner: lease.owner }),
    heartbeats: new Heartbeats(config, log, () => {}),
    injector: { hasRoom: room, send: (prepared, handover) => void sent.push({ prepared, handover }) },
    log,
    onChange: (state) => states.push(state),
  });
  return { prefix, config, keys: keysFor(prefix), lease, sent, states, consumer };
}

test("consumer: empty drain is idle → draining → idle", async () => {
  const { consumer, states } = await setup();
  consumer.wake("test");
  await pollUntil("back to idle", () => states.at(-1) === "idle");
  assert.deepEqual(states, ["draining", "idle"]);
});

test("consumer: a batch is handed over, taken, acknowledged, and the loop drains again", async () => {
  const { consumer, states, sent, config, keys } = await setup();
  await pushEvent(redis, config, { id: "e1", type: "a.b", source: "test" });
  consumer.wake("test");
  await pollUntil("the prompt handed over", () => sent.length === 1);
  assert.equal(consumer.state, "handedOver");
  assert.match(sent[0]!.prepared.prompt, /a\.b/);
  await sent[0]!.handover.taken();
  await pollUntil("idle again", () => states.at(-1) === "idle");
  assert.deepEqual(states, ["draining", "handedOver", "acknowledging", "idle", "draining", "idle"]);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0);
  assert.equal(consumer.report().delivered, 1);
});

test("consumer: not taken → retrying; the same batch comes back redelivered", async () => {
  const { consumer, states, sent, config } = await setup();
  await pushEvent(redis, config, { id: "e2", type: "not.taken", source: "test" });
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  sent[0]!.handover.notTaken("pi was away");
  assert.equal(consumer.state, "retrying");
  await pollUntil("handed over again after the back-off", () => sent.length === 2, 5_000);
  assert.equal(sent[1]!.prepared.redelivered, true);
  assert.deepEqual(states.slice(0, 5), ["draining", "handedOver", "retrying", "idle", "draining"]);
  consumer.stop();
});

test("consumer: no room or paused → stays idle; resume drains", async () => {
  let room = false;
  const { consumer, states, sent, config } = await setup(() => room);
  await pushEvent(redis, config, { id: "e3", type: "waits", source: "test" });
  consumer.wake("test");
  assert.deepEqual(states, []);
  room = true;
  consumer.pause();
  consumer.wake("test");
  assert.equal(consumer.state, "idle");
  consumer.resume();
  await pollUntil("handed over", () => sent.length === 1);
  consumer.stop();
  assert.equal(consumer.state, "stopped");
});

test("consumer: a drain refused (the lease is another's) goes idle without retrying; the batch waits in Redis", async () => {
  const { consumer, states, sent, config, keys, prefix } = await setup();
  await redis.del(keys.lease(CENTRAL_SESSION));
  await holdLease(redis, prefix, { lease: newLease(CENTRAL_SESSION, "central"), ttl: 60_000 });
  await pushEvent(redis, config, { id: "e4", type: "kept", source: "test" });
  consumer.wake("test");
  await pollUntil("idle", () => states.at(-1) === "idle");
  assert.deepEqual(states, ["draining", "idle"]);
  assert.equal(sent.length, 0);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 1);
  assert.match(consumer.report().lastError ?? "", /does not hold its lease/);
});

test("consumer: finish() waits for the batch pi has to be acknowledged, then stops", async () => {
  const { consumer, sent, config, keys } = await setup();
  await pushEvent(redis, config, { id: "e5", type: "finish", source: "test" });
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  const finished = consumer.finish(5_000);
  await sent[0]!.handover.taken();
  await finished;
  assert.equal(consumer.state, "stopped");
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0);
});
