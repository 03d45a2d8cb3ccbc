// The always-on central session with real pi processes and a real redis-server: a central pi
// SIGKILLed and restarted at once is central again and delivers; a lease left by another
// machine is taken over once it stops being refreshed; a supervised (GATEWAY_ROLE=central) pi
// takes central from a default-role one, with every event delivered once, by one consumer.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { newLease } from "../../core/sessions.ts";
import { pollUntil, startPi, tempDir, waitConnected, waitUserMessage, type RpcPi } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();
const statusOf = (pi: RpcPi) => pi.statuses().at(-1) ?? "";
const markers = (pi: RpcPi) => pi.userMessages().flatMap((t) => [...t.matchAll(/"marker":\s*"(k\d+)"/g)].map((m) => m[1]!));

test("central pi SIGKILLed and restarted within 1 s: the new pi is central, an event pushed right after is delivered within 5 s", async (t) => {
  const prefix = server.prefix();
  const home = tempDir("home");
  // The default lease TTL (30 s): the dead pi's lease is still alive when the new one starts.
  const config = { sweepInterval: "10m" };
  const first = await startPi({ redisUrl: server.url, prefix, role: "central", home, config });
  await waitConnected(first);
  await first.kill("SIGKILL");
  const second = await startPi({ redisUrl: server.url, prefix, role: "central", home, config });
  try {
    assert.match(await waitConnected(second), /^gateway · connected/);
    const pushed = Date.now();
    await pushEvent(producer, testConfig(server.url, prefix), { type: "after.restart", source: "test" });
    await waitUserMessage(second, '## Type "after.restart"', 5_000);
    const took = Date.now() - pushed;
    t.diagnostic(`delivered ${took} ms after the push`);
    assert.ok(took < 5_000, `delivered after ${took} ms`);
  } finally {
    await second.kill();
  }
});

test("a lease written as if by another machine is taken over within leaseTtl + 2 s after it stops being refreshed", async (t) => {
  const prefix = server.prefix();
  const ttl = 2_000;
  const foreign = { ...newLease(CENTRAL_SESSION, "central"), hostId: "another-machine", host: "elsewhere" };
  const key = keysFor(prefix).lease(CENTRAL_SESSION);
  const refresh = () => producer.set(key, JSON.stringify(foreign), "PX", ttl);
  await refresh();
  // The other machine refreshes its lease until our pi has started (and been demoted).
  const refresher = setInterval(() => void refresh(), ttl / 3);
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: { sweepInterval: "10m", leaseTtl: "2s" } });
  let written = 0;
  try {
    assert.match(await waitConnected(pi), /satellite, central taken/);
    clearInterval(refresher);
    await refresh();
    written = Date.now();
    await pi.waitFor("the promotion notice", (l) => l.method === "notify" && /now the central session/.test(String(l.message)), ttl + 4_000);
    const took = Date.now() - written;
    t.diagnostic(`central ${took} ms after the last refresh (lease TTL ${ttl} ms)`);
    assert.ok(took <= ttl + 2_000, `central after ${took} ms`);
    await pollUntil("the status line to show gateway", () => /^gateway · connected/.test(statusOf(pi)));
    await pushEvent(producer, testConfig(server.url, prefix), { type: "after.takeover", source: "test" });
    await waitUserMessage(pi, '## Type "after.takeover"', 5_000);
  } finally {
    clearInterval(refresher);
    await pi.kill();
  }
});

test("default-role central running, supervised central starts: it holds gateway within 5 s, the other runs as satellite; every event once, by one consumer", async (t) => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  // Batches of at most 50: formatBatch lists up to 50 events one by one, so every marker shows.
  const piConfig = { sweepInterval: "2s", leaseTtl: "3s", drainBatch: 50 };
  const byDefault = await startPi({ redisUrl: server.url, prefix, config: piConfig });
  let supervised: RpcPi | undefined;
  const sent: string[] = [];
  let pushing = true;
  const pushes = (async () => {
    for (let i = 0; pushing || i < 10; i++) {
      const marker = `k${i}`;
      await pushEvent(producer, config, { type: "handover.tick", source: "test", payload: { marker } });
      sent.push(marker);
      await sleep(150);
    }
  })();
  try {
    assert.match(await waitConnected(byDefault), /^gateway · connected/);
    await sleep(1_000);
    supervised = await startPi({ redisUrl: server.url, prefix, role: "central", config: piConfig });
    // From the moment its gateway extension is up (pi's own start-up is not the gateway's to bound).
    await supervised.waitFor("the supervised pi's first status line", (l) => l.method === "setStatus" && l.statusKey === "agent-gateway", 60_000);
    const started = Date.now();
    await pollUntil("the supervised pi to hold gateway", () => /^gateway · connected/.test(statusOf(supervised!)), 15_000);
    const took = Date.now() - started;
    await pollUntil("the default-role pi to show satellite", () => /satellite/.test(statusOf(byDefault)));
    await sleep(1_500);
    pushing = false;
    await pushes;
    const keys = keysFor(prefix);
    await pollUntil("inbox and in-flight list to empty", async () => (await producer.llen(keys.inbox(CENTRAL_SESSION))) + (await producer.llen(keys.inflight(CENTRAL_SESSION))) === 0, 30_000);
    await pollUntil("every event shown", () => new Set([...markers(byDefault), ...markers(supervised!)]).size === sent.length, 20_000);
    const shown = [...markers(byDefault), ...markers(supervised)];
    assert.equal(shown.length, sent.length, "none shown by both, none twice");
    assert.deepEqual([...new Set(shown)].sort(), [...sent].sort(), "none lost");
    t.diagnostic(`supervised pi central ${took} ms after its extension started; ${sent.length} events, each shown once`);
    assert.ok(took < 5_000, `handover after ${took} ms`);
    assert.equal(await producer.llen(keys.dead(CENTRAL_SESSION)), 0);
  } finally {
    pushing = false;
    await pushes;
    await supervised?.kill();
    await byDefault.kill();
  }
});
