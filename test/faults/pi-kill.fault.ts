// Fault 1 with a real pi (issue 13): 4 producers × 2 000 events while the central pi
// (GATEWAY_ROLE=central, RPC mode, fake LLM) is SIGKILLed and restarted 5 times at random
// moments, each restart within 1 s as a supervisor does it, while the dead pi's lease is still
// alive. Each new pi must take central over at once (dead holder on this machine); delivered =
// the event shows up in a user message a central pi took. Nothing may be lost; a batch taken
// just before a kill comes again (counted as duplicated).
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { startPi, tempDir, waitConnected, type RpcPi } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { report, tally, until } from "./lib/tally.ts";

const PRODUCERS = 4;
const EVENTS_PER_PRODUCER = 2_000;
const KILLS = 5;
// The default-sized lease (10 s) outlives every restart gap: only the takeover makes them central.
// This fault is about takeover, not storms: one prompt per batch of 50, every event listed, so
// the tally can find each id in what pi took (a storm would summarise the backlog behind a restart).
const PI_CONFIG = { leaseTtl: "10s", drainBatch: 50, inboxCap: 0, sweepInterval: "2s", storm: { maxEvents: 50, listed: 50 } };

const server = await startRedis();

test("fault: the central pi SIGKILLed 5 times and restarted within 1 s while 4 producers push 2 000 events each — nothing lost, all by a central pi", async (t) => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { inboxCap: 0 });
  const keys = keysFor(prefix);
  const home = tempDir("central-restart-home");
  const probe = server.client();
  const producers = Array.from({ length: PRODUCERS }, (_, p) => connectRedis(server.url, { kind: "producer", name: `producer-${p}` }));
  t.after(() => {
    for (const p of producers) p.disconnect();
  });
  await Promise.all(producers.map(ensureConnected));

  const pis: RpcPi[] = [];
  const restartGaps: number[] = [];
  const launch = async () => {
    const pi = await startPi({ redisUrl: server.url, prefix, role: "central", home, config: PI_CONFIG });
    pis.push(pi);
    assert.match(await waitConnected(pi, 60_000), /^gateway · connected/, "every restarted pi is the central session");
    return pi;
  };

  let pi = await launch();
  const sent: string[] = [];
  const produced = Promise.all(
    producers.map(async (redis, p) => {
      for (let i = 0; i < EVENTS_PER_PRODUCER; i++) {
        const marker = `m${p}x${i}`;
        await pushEvent(redis, config, { type: "fault.tick", source: `producer-${p}`, payload: { marker } });
        sent.push(marker);
        if (i % 20 === 19) await sleep(300); // paced so the stream spans the kills and restarts
      }
    }),
  );

  const moments: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const moment = 500 + Math.floor(Math.random() * 3_000);
    moments.push(moment);
    await sleep(moment);
    await pi.kill("SIGKILL");
    const gap = Math.floor(Math.random() * 1_000);
    restartGaps.push(gap);
    await sleep(gap);
    pi = await launch();
  }
  await produced;
  await until(
    "inbox and in-flight list to empty",
    async () => (await probe.llen(keys.inbox(CENTRAL_SESSION))) === 0 && (await probe.llen(keys.inflight(CENTRAL_SESSION))) === 0,
    300_000,
  );
  await pi.kill();

  const delivered = pis.flatMap((one) => one.userMessages()).flatMap((text) => [...text.matchAll(/"marker":\s*"(m\d+x\d+)"/g)].map((m) => m[1]!));
  assert.equal(await probe.llen(keys.dead(CENTRAL_SESSION)), 0, "no valid event was dead-lettered");
  for (const one of pis) assert.ok(!one.statuses().some((s) => /satellite/.test(s)), "no pi ran as a satellite");
  report(t, "central pi SIGKILL ×5, restart ≤ 1 s", tally(sent, delivered), `${pis.length} pi processes; kills after ${moments.join(", ")} ms; restarted after ${restartGaps.join(", ")} ms`);
});
