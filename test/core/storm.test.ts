// A storm is one prompt (issue 17.1), against a real redis-server with a recording injector in
// place of pi: a backlog bigger than one batch is drained whole into ONE prompt (urgent events
// and the first ones listed, the rest summarised by type and source), acknowledged together
// only once taken, redelivered whole when not; every event kept in the bounded history.
import assert from "node:assert/strict";
import { test } from "node:test";
import { releaseHeld } from "../../core/chain.ts";
import { findInHistory, listHistory, recordHistory } from "../../core/history.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { formatStorm } from "../../core/storm.ts";
import type { Config } from "../../core/config.ts";
import { recordingConsumer } from "../harness/consumer.ts";
import { pollUntil } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { parseEntry } from "../../core/event.ts";

const server = await startRedis();
const redis = await server.consumer();

async function setup(overrides: Partial<Config> = {}) {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { pushDedupeWindow: 0, ...overrides });
  const { consumer, sent, lease } = await recordingConsumer(redis, config);
  return { config, keys: keysFor(prefix), lease, sent, consumer };
}

async function flood(config: Config, count: number, urgentEvery = 0): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const inputs = Array.from({ length: Math.min(1000, count - i) }, (_, k) => {
      const n = i + k;
      return { id: `s${n}`, type: n % 2 ? "build.done" : "deploy.done", source: `ci-${n % 3}`, payload: { n }, priority: urgentEvery && n % urgentEvery === 0 ? ("urgent" as const) : undefined };
    });
    await pushEvents(redis, config, inputs);
  }
}

test("storm: 12 000 queued events become one prompt, acknowledged together once taken", async () => {
  const { config, keys, sent, consumer } = await setup();
  await flood(config, 12_000, 5_000);
  consumer.wake("test");
  await pollUntil("the storm handed over", () => sent.length === 1);
  const { prepared, handover } = sent[0]!;
  assert.equal(prepared.events, 12_000);
  assert.equal(prepared.urgent, true);
  assert.ok(prepared.prompt.length <= 16_000, `prompt of ${prepared.prompt.length} chars`);
  assert.match(prepared.prompt, /12000 background events drained at once/);
  assert.match(prepared.prompt, /id: "s5000" · priority: urgent/, "an urgent event late in the storm is listed");
  assert.match(prepared.prompt, /By type:\n- "build\.done" ×59\d\d/);
  assert.match(prepared.prompt, /By source:\n- "ci-\d" ×3\d\d\d/);
  assert.match(prepared.prompt, /gateway_events/);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 12_000, "in flight until pi takes it");
  await handover.taken();
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 0);
  assert.equal(consumer.report().delivered, 12_000);
  const page = await listHistory(redis, config, CENTRAL_SESSION, { limit: 20_000 });
  assert.deepEqual(page.entries.map((e) => e.event.id), Array.from({ length: 12_000 }, (_, n) => `s${n}`));
  consumer.stop();
});

test("storm: not taken → the whole storm is redelivered as one prompt", async () => {
  const { config, sent, consumer } = await setup();
  await flood(config, 3_000);
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  sent[0]!.handover.notTaken("pi was away");
  await pollUntil("handed over again", () => sent.length === 2, 5_000);
  assert.equal(sent[1]!.prepared.events, 3_000);
  assert.equal(sent[1]!.prepared.redelivered, true);
  consumer.stop();
});

test("history: a batch redelivered after pi died before the ack is kept once", async () => {
  const { config, lease, sent, consumer } = await setup();
  await flood(config, 300);
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  consumer.stop(); // pi dies: the batch is never acknowledged
  const { consumer: again, sent: restarted } = await recordingConsumer(redis, config, {}, lease);
  again.wake("test");
  await pollUntil("redelivered", () => restarted.length === 1);
  await restarted[0]!.handover.taken();
  assert.equal(restarted[0]!.prepared.redelivered, true);
  assert.equal(restarted[0]!.prepared.events, 300);
  const page = await listHistory(redis, config, CENTRAL_SESSION, { limit: 1_000 });
  assert.equal(page.kept, 300, "each event once in the history");
  assert.deepEqual(page.entries.map((e) => e.event.id), Array.from({ length: 300 }, (_, n) => `s${n}`));
  again.stop();
});

test("runaway breaker: a held event is not acknowledged with its batch, so once released it is delivered even through a crash redelivery", async () => {
  const { config, keys, lease, sent, consumer } = await setup({ budget: { ...testConfig(server.url, "x").budget, maxChainDepth: 2 } });
  await pushEvents(redis, config, [
    { id: "fine", type: "t", source: "s" },
    { id: "runaway", type: "t", source: "s", chain: 3 },
  ]);
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  await sent[0]!.handover.taken();
  await pollUntil("acknowledged", async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0);
  assert.ok(await redis.zscore(keys.acked(CENTRAL_SESSION), "fine"), "the delivered event is remembered as acknowledged");
  assert.equal(await redis.zscore(keys.acked(CENTRAL_SESSION), "runaway"), null, "the held one is not");
  assert.equal(await releaseHeld(redis, config.prefix, CENTRAL_SESSION), 1);
  consumer.wake("released");
  await pollUntil("the released event handed over", () => sent.length === 2);
  consumer.stop(); // pi dies before taking it
  const { consumer: again, sent: restarted } = await recordingConsumer(redis, config, {}, lease);
  again.wake("test");
  await pollUntil("redelivered", () => restarted.length === 1);
  assert.match(restarted[0]!.prepared.prompt, /runaway/);
  assert.deepEqual(await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1), [], "not dead-lettered as already acknowledged");
  again.stop();
});

test("storm: storm.maxEvents bounds one prompt; the rest is the next prompt", async () => {
  const { config, sent, consumer } = await setup({ storm: { maxEvents: 1_000, listed: 50 } });
  await flood(config, 1_500);
  consumer.wake("test");
  await pollUntil("handed over", () => sent.length === 1);
  assert.equal(sent[0]!.prepared.events, 1_000);
  await sent[0]!.handover.taken();
  await pollUntil("the rest handed over", () => sent.length === 2);
  assert.equal(sent[1]!.prepared.events, 500);
  consumer.stop();
});

test("history: bounded by count, oldest dropped first and counted; paged and filtered; get by id", async () => {
  const config = testConfig(server.url, server.prefix(), { history: { maxEvents: 100, maxAge: 60_000 } });
  const entries = Array.from({ length: 150 }, (_, n) => {
    const raw = Buffer.from(JSON.stringify({ id: `h${n}`, type: n % 2 ? "odd" : "even", source: "t", ts: 1_000 + n, payload: { n } }));
    const parsed = parseEntry(raw.toString(), config.maxEventBytes);
    assert.ok(parsed.ok);
    return { event: parsed.event, raw };
  });
  assert.equal(await recordHistory(redis, config, "s1", entries), 50);
  const first = await listHistory(redis, config, "s1", { type: "odd", limit: 20 });
  assert.deepEqual(first.entries.map((e) => e.event.id), Array.from({ length: 20 }, (_, k) => `h${51 + 2 * k}`));
  assert.equal(first.dropped, 50);
  assert.equal(first.kept, 100);
  assert.ok(first.next);
  const second = await listHistory(redis, config, "s1", { type: "odd", limit: 40, cursor: first.next });
  assert.equal(second.entries.length, 30);
  assert.equal(second.next, undefined);
  const since = await listHistory(redis, config, "s1", { since: 1_140, limit: 100 });
  assert.equal(since.entries.length, 10);
  assert.equal((await findInHistory(redis, config, "s1", "h120"))?.payload.n, 120);
  assert.equal(await findInHistory(redis, config, "s1", "h10"), undefined, "dropped by the bound");
  const next = { event: { ...entries[149]!.event, id: "h150" }, raw: Buffer.from(JSON.stringify({ id: "h150", type: "odd", source: "t", ts: 1_150, payload: {} })) };
  await recordHistory(redis, config, "s1", [...entries.slice(100), next], true);
  const ids = (await listHistory(redis, config, "s1", { limit: 200 })).entries.map((e) => e.event.id);
  assert.deepEqual(ids.slice(-3), ["h148", "h149", "h150"], "a redelivered batch adds only what it did not hold");
  assert.ok((await redis.pttl(keysFor(config.prefix).history("s1"))) > 0, "the history expires with its age bound");
});

test("formatStorm: stays within maxPromptChars for a storm of many types and sources", () => {
  const events = Array.from({ length: 5_000 }, (_, n) => ({ id: `f${n}`, type: `type-${n % 40}`, source: `src-${n % 70}`, ts: 1_700_000_000_000 + n * 1000, payload: { text: "x".repeat(300) } }));
  const { prompt, summarised } = formatStorm(events, { maxPromptChars: 16_000 });
  assert.ok(prompt.length <= 16_000, `prompt of ${prompt.length} chars`);
  assert.match(prompt, /- 25 more, \d+ events together/);
  assert.ok(summarised >= 4_950);
});
