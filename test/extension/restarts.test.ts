// Nothing lost, nothing twice, across a Redis restart (AOF) under a running pi and a pi
// SIGKILLed between taking a batch and acknowledging it (held there by a test-only extension), with real processes.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { fixture, pollUntil, startPi, tempDir, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis({ aof: true });
// A long sweep: deliveries below must come from notify / reconnect wake-ups.
const QUIET = { sweepInterval: "10m", leaseTtl: "2s" };

async function push(prefix: string, input: Parameters<typeof pushEvent>[2]) {
  const redis = connectRedis(server.url, { kind: "producer" });
  try {
    await ensureConnected(redis);
    return await pushEvent(redis, testConfig(server.url, prefix), input);
  } finally {
    redis.disconnect();
  }
}

const count = (messages: string[], fragment: string) => messages.filter((m) => m.includes(fragment)).length;

test("Redis restarted (AOF) while pi runs: an event pushed right after is delivered by the reconnect, each event once", async () => {
  const prefix = server.prefix();
  const pi = await startPi({ redisUrl: server.url, prefix, config: QUIET });
  try {
    await waitConnected(pi);
    await push(prefix, { id: "before-restart", type: "before.restart", source: "test" });
    await waitUserMessage(pi, '## Type "before.restart"');
    await pollUntil("the first batch acknowledged", async () => (await server.client().llen(keysFor(prefix).inflight(CENTRAL_SESSION))) === 0);

    await server.kill();
    await pi.waitFor("the status to show the link lost", (l) => l.method === "setStatus" && /reconnecting/.test(String(l.statusText)));
    await server.start();
    // Right after the restart; its PUBLISH may well reach no subscriber yet.
    await push(prefix, { id: "after-restart", type: "after.restart", source: "test" });
    await waitUserMessage(pi, '## Type "after.restart"', 30_000);
    await pollUntil("the second batch acknowledged", async () => (await server.client().llen(keysFor(prefix).inflight(CENTRAL_SESSION))) === 0);
    await pi.waitFor("the run to end", (l) => l.type === "agent_end" && count(pi.userMessages(), '## Type "after.restart"') === 1);
    assert.equal(count(pi.userMessages(), '## Type "before.restart"'), 1);
    assert.equal(count(pi.userMessages(), '## Type "after.restart"'), 1);
  } finally {
    await pi.kill();
  }
});

test("pi SIGKILLed after pi took a batch and before the ack: the restarted central session receives it once", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  const seam = join(tempDir("seam"), "taken.txt");
  // The hold-ack fixture holds pi inside its message_end handler: taken, never acknowledged.
  const first = await startPi({ redisUrl: server.url, prefix, config: QUIET, fixtures: [fixture("hold-ack.ts")], env: { HOLD_ACK_FILE: seam } });
  try {
    await waitConnected(first);
    await push(prefix, { id: "kill-me", type: "survives.kill", source: "test", payload: { n: 1 } });
    await pollUntil("the fixture to report the taken batch", () => existsSync(seam));
    assert.match(readFileSync(seam, "utf8"), /## Type "survives\.kill"/, "pi took the batch into its session");
  } finally {
    await first.kill("SIGKILL");
  }
  const redis = server.client();
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 1, "the batch is parked in flight, unacknowledged");
  await pollUntil("the dead session's lease to expire", async () => (await redis.exists(keys.lease(CENTRAL_SESSION))) === 0);

  const second = await startPi({ redisUrl: server.url, prefix, config: QUIET });
  try {
    assert.match(await waitConnected(second), /^gateway · connected/);
    const again = JSON.stringify(await waitUserMessage(second, '## Type "survives.kill"'));
    assert.match(again, /redelivered/);
    await pollUntil("the redelivered batch acknowledged", async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0);
    await second.waitFor("the run to end", (l) => l.type === "agent_end");
    assert.equal(count(second.userMessages(), '## Type "survives.kill"'), 1, "received once");
  } finally {
    await second.kill();
  }
});

test("Redis down when pi starts: pi works on, a warning shows, and what waited is drained once Redis is back", async () => {
  const prefix = server.prefix();
  await push(prefix, { id: "waited", type: "waited.for.redis", source: "test" });
  await server.kill();
  const pi = await startPi({ redisUrl: server.url, prefix, config: QUIET });
  try {
    await pi.waitFor("the unreachable warning", (l) => l.method === "notify" && /Redis unreachable/.test(String(l.message)));
    await pi.prompt("still working?");
    await pi.waitFor("pi's own reply", (l) => l.type === "agent_end");
    await server.start();
    await waitConnected(pi, 30_000);
    await waitUserMessage(pi, '## Type "waited.for.redis"', 30_000);
    await pollUntil("the batch acknowledged", async () => (await server.client().llen(keysFor(prefix).inflight(CENTRAL_SESSION))) === 0);
    assert.equal(count(pi.userMessages(), '## Type "waited.for.redis"'), 1);
  } finally {
    await pi.kill();
  }
});
