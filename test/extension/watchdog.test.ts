// The central session's watchdog in a real pi. Tier 2 (a heartbeat source has reported in this
// Redis before, then the worker stopped): with a 2 s threshold, exactly one alarm; a heartbeat
// clears it and re-arms it. Tier 1 (no heartbeat source ever): never an alarm.
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { pollUntil, startPi, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();

test("watchdog with a 2 s threshold: exactly one alarm while silent, reset by a heartbeat", async () => {
  const prefix = server.prefix();
  await server.client().set(keysFor(prefix).lastHeartbeat, String(Date.now() - 60_000));
  const pi = await startPi({
    redisUrl: server.url,
    prefix,
    config: { sweepInterval: "10m", watchdog: { threshold: "2s", checkEvery: "200ms" } },
  });
  const alarms = () => pi.notifications().filter((n) => n.notifyType === "error" && /watchdog: no heartbeat/.test(n.message));
  const lastStatus = () => pi.statuses().at(-1) ?? "";
  const producer = connectRedis(server.url, { kind: "producer" });
  try {
    await waitConnected(pi);
    await pollUntil("the first alarm", () => alarms().length === 1);
    await pollUntil("the status line to show the alarm", () => /watchdog alarm/.test(lastStatus()));
    // Silence for two more thresholds: still one alarm (nothing to await for an absence).
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(alarms().length, 1, "one alarm, not one per check");

    await ensureConnected(producer);
    await pushEvent(producer, testConfig(server.url, prefix), { type: "cron.heartbeat", source: "scheduler" });
    await waitUserMessage(pi, "## Heartbeat");
    await pollUntil("the status to drop the alarm", () => !/watchdog alarm/.test(lastStatus()));
    assert.equal(alarms().length, 1);
    // Re-armed: the next silence past the threshold raises a new alarm.
    await pollUntil("a second alarm after the next silence", () => alarms().length === 2);
  } finally {
    producer.disconnect();
    await pi.kill();
  }
});

test("tier 1 (no heartbeat ever received in this Redis): no watchdog alarm, even with a 1 s threshold", async () => {
  const prefix = server.prefix();
  const pi = await startPi({ redisUrl: server.url, prefix, config: { sweepInterval: "10m", watchdog: { threshold: "1s", checkEvery: "100ms" } } });
  try {
    await waitConnected(pi);
    // Three thresholds of silence (nothing to await for an absence).
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(pi.notifications().filter((n) => /watchdog/.test(n.message)), []);
    assert.doesNotMatch(pi.statuses().at(-1) ?? "", /watchdog alarm/);
  } finally {
    await pi.kill();
  }
});

test("tier 2 (config says a heartbeat source is installed) with the worker stopped before any heartbeat: one alarm", async () => {
  const prefix = server.prefix();
  const pi = await startPi({
    redisUrl: server.url,
    prefix,
    config: { sweepInterval: "10m", watchdog: { expectHeartbeats: true, threshold: "1s", checkEvery: "100ms" } },
  });
  try {
    await waitConnected(pi);
    await pollUntil("the watchdog alarm", () => pi.notifications().some((n) => n.notifyType === "error" && /watchdog: no heartbeat/.test(n.message)));
    assert.equal(pi.notifications().filter((n) => /watchdog: no heartbeat/.test(n.message)).length, 1);
  } finally {
    await pi.kill();
  }
});
