// The local heartbeat scheduler (no Inngest) at a 1 s interval against a real Redis: heartbeats
// arrive; two workers sharing one Redis never fire a slot twice; a worker restarted after
// missing 5 slots fires ONE catch-up run, then carries on with the schedule.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Redis } from "ioredis";
import type { Config } from "../../core/config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { heartbeatSchedule } from "../../worker/schedule.ts";
import { startLocalScheduler, type LocalScheduler } from "../../worker/scheduler.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const log = createLogger({ kind: "worker" });
const opened: { redis: Redis; scheduler: LocalScheduler }[] = [];
test.afterEach(async () => {
  for (const { redis, scheduler } of opened.splice(0)) {
    await scheduler.stop();
    redis.disconnect();
  }
});

function everySecond(): Config {
  const base = testConfig(server.url, server.prefix());
  return { ...base, heartbeat: { ...base.heartbeat, interval: 1000 } };
}

/** One "worker": its own Redis connection and scheduler, as a separate process would have. */
async function startScheduler(config: Config, logger = log) {
  const redis = connectRedis(server.url, { kind: "consumer" });
  await ensureConnected(redis);
  const scheduler = startLocalScheduler(heartbeatSchedule(config), { redis, settings: config }, logger);
  const entry = { redis, scheduler };
  opened.push(entry);
  return {
    scheduler,
    async stop() {
      opened.splice(opened.indexOf(entry), 1);
      await scheduler.stop();
      redis.disconnect();
    },
  };
}

type Beat = { id: string; ts: number; payload: { slot: string; worker: string; catchUp?: boolean; missedSlots?: number } };
const plain = server.client();

async function heartbeats(config: Config): Promise<Beat[]> {
  const raw = await plain.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1);
  return raw.map((r) => JSON.parse(r) as Beat).reverse(); // oldest first
}

async function waitFor(config: Config, done: (beats: Beat[]) => boolean, what: string): Promise<Beat[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const beats = await heartbeats(config);
    if (done(beats)) return beats;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}; have ${JSON.stringify(beats.map((b) => b.payload))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("local scheduler, 1 s interval: cron.heartbeat events arrive, one per slot, on whole seconds", async () => {
  const config = everySecond();
  assert.equal(heartbeatSchedule(config).pattern, "*/1 * * * * *");
  await startScheduler(config);
  const beats = await waitFor(config, (b) => b.length >= 3, "three heartbeats");
  const slots = beats.map((b) => Date.parse(b.payload.slot));
  assert.ok(slots.every((s) => s % 1000 === 0), `slots on whole seconds: ${slots}`);
  assert.equal(new Set(slots).size, slots.length);
  assert.ok(beats.every((b) => b.payload.catchUp === undefined), "a first start has nothing to catch up");
});

test("local scheduler: two workers at once never double-fire a slot", async () => {
  const config = everySecond();
  const fired: string[] = [];
  const counting = createLogger({ kind: "worker", echo: (line) => line.includes('"heartbeat fired"') && fired.push(line) });
  const [one, two] = await Promise.all([startScheduler(config, counting), startScheduler(config, counting)]);
  await waitFor(config, (b) => b.length >= 6, "six heartbeats");
  await Promise.all([one.stop(), two.stop()]);
  const slots = (await heartbeats(config)).map((b) => b.payload.slot);
  assert.equal(new Set(slots).size, slots.length, `a slot fired twice: ${slots}`);
  // The slot lock stops the loser before it pushes (the push-side id would only hide a second push).
  assert.equal(fired.length, slots.length, fired.join("\n"));
  const dead = await plain.llen(keysFor(config.prefix).dead(CENTRAL_SESSION));
  assert.equal(dead, 0);
});

test("local scheduler: restarted after missing 5 slots, it fires one catch-up run, not five", async () => {
  const config = everySecond();
  const first = await startScheduler(config);
  const [beat] = await waitFor(config, (b) => b.length >= 1, "the first heartbeat");
  await first.stop();
  const lastSlot = Date.parse(beat!.payload.slot);
  const before = (await heartbeats(config)).length;
  // The downtime itself: nothing to await but the clock. Slots lastSlot+1s … +5s go by unfired.
  await new Promise((r) => setTimeout(r, lastSlot + 5_500 - Date.now()));
  await startScheduler(config);
  const beats = await waitFor(
    config,
    (b) => b.slice(before).some((x) => !x.payload.catchUp),
    "the first regular heartbeat after the restart",
  );
  const catchUps = beats.slice(before).filter((b) => b.payload.catchUp);
  assert.equal(catchUps.length, 1, `one catch-up run: ${JSON.stringify(beats.map((b) => b.payload))}`);
  assert.ok(catchUps[0]!.payload.missedSlots! >= 5, `missed ${catchUps[0]!.payload.missedSlots}`);
  assert.ok(Date.parse(catchUps[0]!.payload.slot) >= lastSlot + 5_000);
});
