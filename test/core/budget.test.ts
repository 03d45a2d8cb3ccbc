// Budgets (issue 17 items 2 and 4): the pure decisions (core/budget.ts), the sliding-hour script
// (core/lua/budget-take.lua) against a real redis-server, and the consumer loop (core/delivery.ts)
// with a recording injector in place of pi and an injected clock: a source over budget.perSource
// waits and joins the next prompt, automatedPerHour holds even urgent events, the daily budget
// stops heartbeat prompts and holds events until local midnight (the clock is advanced, no
// sleeps), urgent events pass unless budget.hard, budget.exhausted is pushed once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nextLocalMidnight, sourcesOf, splitForDaily, type Clock } from "../../core/budget.ts";
import type { Config } from "../../core/config.ts";
import type { ConsumerState } from "../../core/delivery.ts";
import type { GatewayEvent } from "../../core/event.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { runScript } from "../../core/lua/index.ts";
import { pushEvent, pushEvents } from "../../core/push.ts";
import { noUsage, recordSpend } from "../../core/spend.ts";
import { recordingConsumer } from "../harness/consumer.ts";
import { pollUntil } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();
const HOUR = 3_600_000;

const event = (over: Partial<GatewayEvent>): GatewayEvent => ({ id: "x", type: "t", source: "s", payload: {}, ts: 0, ...over });

test("budget: the next local midnight, on ordinary and DST days", () => {
  assert.equal(nextLocalMidnight(Date.parse("2026-03-10T23:59:00Z"), "UTC"), Date.parse("2026-03-11T00:00:00Z"));
  assert.equal(nextLocalMidnight(Date.parse("2026-03-11T00:00:00Z"), "UTC"), Date.parse("2026-03-12T00:00:00Z"));
  // Berlin: 29 March 2026 has 23 hours, 25 October 25.
  assert.equal(nextLocalMidnight(Date.parse("2026-03-29T12:00:00Z"), "Europe/Berlin"), Date.parse("2026-03-29T22:00:00Z"));
  assert.equal(nextLocalMidnight(Date.parse("2026-10-25T12:00:00Z"), "Europe/Berlin"), Date.parse("2026-10-25T23:00:00Z"));
  assert.equal(nextLocalMidnight(Date.parse("2026-06-01T21:30:00Z"), "America/New_York"), Date.parse("2026-06-02T04:00:00Z"));
});

test("budget: past the daily budget heartbeats are taken in without a prompt, urgent runs unless hard, the rest waits", () => {
  const budget = testConfig(server.url, "x").budget;
  const entries = [event({ id: "beat", type: "cron.heartbeat" }), event({ id: "urgent", priority: "urgent" }), event({ id: "normal" })].map((e) => ({ event: e }));
  const ids = (list: { event: GatewayEvent }[]) => list.map((e) => e.event.id);
  const soft = splitForDaily(entries, budget, true);
  assert.deepEqual([ids(soft.now), ids(soft.held), soft.heartbeatPrompts], [["beat", "urgent"], ["normal"], false]);
  const hard = splitForDaily(entries, { ...budget, hard: true }, true);
  assert.deepEqual([ids(hard.now), ids(hard.held)], [["beat"], ["urgent", "normal"]]);
  assert.deepEqual(ids(splitForDaily(entries, budget, false).now), ["beat", "urgent", "normal"]);
  const sources = sourcesOf([event({ source: "a" }), event({ source: "a", priority: "urgent" }), event({ source: "b" })], budget);
  assert.deepEqual(sources, [{ source: "a", bypass: true }, { source: "b", bypass: false }]);
  assert.deepEqual(sourcesOf([event({ source: "a", priority: "urgent" })], { ...budget, urgentBypassesPerSource: false }), [{ source: "a", bypass: false }]);
});

test("budget-take script: per source and all sources over a sliding hour, urgent bypasses only per source", async () => {
  const keys = keysFor(server.prefix());
  const take = (now: number, id: string, global: number, perSource: number, sources: [string, 0 | 1][]) =>
    runScript(redis, "budgetTake", [keys.budgetRuns, ...sources.map(([s]) => keys.budgetSource(s))], [now, HOUR, global, perSource, id, ...sources.map(([, b]) => b)]);
  const t0 = 1_000_000;
  assert.deepEqual(await take(t0, "r1", 0, 2, [["a", 0]]), [1]);
  assert.deepEqual(await take(t0 + 10, "r2", 0, 2, [["a", 0]]), [1]);
  assert.deepEqual(await take(t0 + 20, "r3", 0, 2, [["a", 0]]), [0, "perSource", t0 + HOUR], "a is at 2: free when r1 leaves the hour");
  assert.deepEqual(await take(t0 + 30, "r4", 0, 2, [["a", 1]]), [1], "urgent bypasses the per-source budget");
  assert.deepEqual(await take(t0 + 40, "r5", 0, 2, [["a", 0], ["b", 0]]), [1], "b is under budget: a's events ride along");
  assert.equal(await redis.zcard(keys.budgetSource("a")), 3, "counted for the urgent bypass, not for riding along");
  assert.deepEqual(await take(t0 + HOUR + 1, "r6", 0, 2, [["a", 0]]), [0, "perSource", t0 + 10 + HOUR], "r1 left the hour; r2 and r4 still count");

  const g = keysFor(server.prefix());
  const takeGlobal = (now: number, id: string, urgent: 0 | 1) =>
    runScript(redis, "budgetTake", [g.budgetRuns, g.budgetSource("c")], [now, HOUR, 2, 0, id, urgent]);
  assert.deepEqual(await takeGlobal(t0, "g1", 0), [1]);
  assert.deepEqual(await takeGlobal(t0 + 5, "g2", 0), [1]);
  assert.deepEqual(await takeGlobal(t0 + 6, "g3", 1), [0, "automatedPerHour", t0 + HOUR], "urgent never bypasses the global budget");
  assert.ok((await redis.pttl(g.budgetRuns)) <= HOUR, "windows expire");
});

/** A clock the test moves; timers fire when it passes them. */
function fakeClock(start: number): Clock & { advance(ms: number): void; timers(): number } {
  let now = start;
  let timers: { at: number; fire: () => void }[] = [];
  return {
    now: () => now,
    setTimer(fire, ms) {
      const timer = { at: now + ms, fire };
      timers.push(timer);
      return () => (timers = timers.filter((t) => t !== timer));
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fire();
    },
    timers: () => timers.length,
  };
}

async function setup(budget: Partial<Config["budget"]>, start: number) {
  const prefix = server.prefix();
  const base = testConfig(server.url, prefix);
  const config = testConfig(server.url, prefix, {
    budget: { ...base.budget, ...budget, daily: { ...base.budget.daily, ...budget.daily } },
    heartbeat: { ...base.heartbeat, timezone: "UTC" },
  });
  const states: ConsumerState[] = [];
  const exhausted: unknown[] = [];
  const clock = fakeClock(start);
  const { consumer, sent } = await recordingConsumer(redis, config, {
    onChange: (state) => states.push(state),
    onBudgetExhausted: (e) => exhausted.push(e),
    clock,
  });
  const keys = keysFor(prefix);
  const push = (e: Parameters<typeof pushEvent>[2]) => pushEvent(redis, config, e);
  /** Takes the newest prompt once it is handed over; resolves after the ack. */
  const take = async (count: number) => {
    await pollUntil(`prompt ${count} handed over`, () => sent.length === count);
    await sent[count - 1]!.handover.taken();
    return sent[count - 1]!.prepared.prompt;
  };
  const waiting = () => pollUntil("the consumer waits for the budget", () => consumer.state === "waiting");
  return { config, keys, consumer, sent, states, exhausted, clock, push, take, waiting };
}

test("consumer: a source over budget.perSource waits in flight, joins another source's run, and runs again after the hour", async () => {
  const t0 = Date.parse("2026-03-10T10:00:00Z");
  const { consumer, sent, keys, clock, push, take, waiting } = await setup({ perSource: 2 }, t0);
  for (const n of [1, 2]) {
    await push({ id: `a${n}`, type: "flood", source: "a" });
    consumer.wake("test");
    await take(n);
  }
  await push({ id: "a3", type: "flood", source: "a" });
  consumer.wake("test");
  await waiting();
  assert.equal(sent.length, 2, "a's third event starts no run");
  assert.equal(consumer.report().budget?.reason, "perSource");
  assert.equal(consumer.report().budget?.until, t0 + 3_600_000);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 1, "held in flight, not acknowledged");

  await push({ id: "b1", type: "other", source: "b" });
  consumer.wake("test");
  const joined = await take(3);
  assert.match(joined, /a3/, "the held event joins b's run");
  assert.match(joined, /b1/);
  await pollUntil("idle", () => consumer.state === "idle");

  await push({ id: "a4", type: "flood", source: "a" });
  consumer.wake("test");
  await waiting();
  clock.advance(3_600_000);
  assert.match(await take(4), /a4/, "the hour passed: a runs again");
  assert.equal(clock.timers(), 0);
  consumer.stop();
});

test("consumer: budget.automatedPerHour holds even urgent events; wakes meanwhile touch no Redis", async () => {
  const t0 = Date.parse("2026-03-10T10:00:00Z");
  const { consumer, sent, states, clock, push, take, waiting } = await setup({ automatedPerHour: 1, perSource: 5 }, t0);
  await push({ id: "n1", type: "t", source: "a" });
  consumer.wake("test");
  await take(1);
  await push({ id: "u1", type: "t", source: "b", priority: "urgent" });
  consumer.wake("test");
  await waiting();
  assert.equal(consumer.report().budget?.reason, "automatedPerHour");
  const transitions = states.length;
  for (let i = 0; i < 50; i++) consumer.wake("notify");
  assert.equal(states.length, transitions, "no drain while only time can lift the budget");
  assert.equal(sent.length, 1);
  clock.advance(3_600_000);
  assert.match(await take(2), /u1/);
  consumer.stop();
});

test("consumer: the daily budget stops heartbeat prompts and holds events until local midnight; urgent passes; budget.exhausted once", async () => {
  const beforeMidnight = Date.parse("2026-03-10T23:58:00Z");
  const { consumer, config, keys, sent, exhausted, clock, push, take, waiting } = await setup({ daily: { tokens: 100, cost: 0 } }, beforeMidnight);
  await recordSpend(redis, config.prefix, "automated", { ...noUsage(), runs: 1, input: 90, output: 20 }, beforeMidnight, "UTC");
  await pushEvents(redis, config, [
    { id: "beat", type: "cron.heartbeat", source: "scheduler" },
    { id: "held1", type: "build.done", source: "ci" },
  ]);
  consumer.wake("test");
  const notice = await take(1);
  assert.match(notice, /budget\.exhausted/, "the urgent budget.exhausted event is delivered");
  assert.doesNotMatch(notice, /held1|HEARTBEAT/);
  assert.ok(await redis.get(keys.lastHeartbeat), "the heartbeat was taken in (the watchdog sees it)");
  await waiting();
  assert.equal(consumer.report().budget?.reason, "daily");
  assert.equal(consumer.report().budget?.until, Date.parse("2026-03-11T00:00:00Z"));

  await push({ id: "urgent1", type: "disk.full", source: "mon", priority: "urgent" });
  consumer.wake("notify");
  const urgent = await take(2);
  assert.match(urgent, /urgent1/);
  assert.doesNotMatch(urgent, /held1/, "the held events do not ride along past the daily budget");
  await push({ id: "held2", type: "build.done", source: "ci" });
  await push({ id: "beat2", type: "cron.heartbeat", source: "scheduler" });
  consumer.wake("notify");
  await pollUntil("the second heartbeat taken in", async () => (await redis.lrange(keys.inflight(CENTRAL_SESSION), 0, -1)).every((raw) => !raw.includes("beat2")));
  await waiting();
  assert.equal(sent.length, 2);
  assert.equal(exhausted.length, 1, "one notice");

  clock.advance(2 * 60_000);
  const morning = await take(3);
  assert.match(morning, /held1/);
  assert.match(morning, /held2/, "held events coalesced into one prompt after midnight");
  await pollUntil("everything acknowledged", async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0);
  const pushed = await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(pushed.length, 0);
  assert.equal(exhausted.length, 1);
  consumer.stop();
});

test("consumer: budget.hard holds urgent events too; /gateway resume lifts the daily budget for today", async () => {
  const noon = Date.parse("2026-03-10T12:00:00Z");
  const { consumer, config, sent, push, take, waiting } = await setup({ daily: { tokens: 0, cost: 0.5 }, hard: true }, noon);
  await recordSpend(redis, config.prefix, "automated", { ...noUsage(), runs: 1, cost: 0.75 }, noon, "UTC");
  await push({ id: "urgent1", type: "disk.full", source: "mon", priority: "urgent" });
  consumer.wake("test");
  await waiting();
  assert.equal(sent.length, 0, "neither the urgent event nor budget.exhausted runs past a hard budget");
  consumer.resume();
  const prompt = await take(1);
  assert.match(prompt, /urgent1/);
  assert.match(prompt, /budget\.exhausted/);
  consumer.stop();
});
