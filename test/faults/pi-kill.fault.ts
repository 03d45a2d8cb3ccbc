// Fault 1 with a real pi: 4 producers push while the central pi (RPC mode, fake LLM, the gateway
// extension) is SIGKILLed and restarted 5 times at random moments. Delivered = the event shows
// up in a user message pi took into its session (read from pi's own RPC output). Nothing may
// be lost; a batch pi took just before a kill comes again (counted as duplicated).
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
const EVENTS_PER_PRODUCER = 1_000;
const KILLS = 5;
// Batches of 50 are listed one by one in the prompt (formatBatch lists up to 50), so every
// delivered event's marker is visible in what pi took.
const PI_CONFIG = { leaseTtl: "3s", drainBatch: 50, inboxCap: 0, sweepInterval: "2s" };

const server = await startRedis();

test("fault: a real pi SIGKILLed 5 times while 4 producers push — nothing lost", async (t) => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { inboxCap: 0 });
  const keys = keysFor(prefix);
  const home = tempDir("pi-kill-home");
  const probe = server.client();
  const producers = Array.from({ length: PRODUCERS }, (_, p) => connectRedis(server.url, { kind: "producer", name: `producer-${p}` }));
  t.after(() => producers.forEach((p) => p.disconnect()));
  await Promise.all(producers.map(ensureConnected));

  const pis: RpcPi[] = [];
  const launch = async () => {
    const pi = await startPi({ redisUrl: server.url, prefix, role: "central", home, config: PI_CONFIG });
    pis.push(pi);
    await waitConnected(pi, 60_000);
    return pi;
  };

  let pi = await launch();
  const sent: string[] = [];
  let producing = true;
  const produced = Promise.all(
    producers.map(async (redis, p) => {
      for (let i = 0; i < EVENTS_PER_PRODUCER; i++) {
        const marker = `m${p}x${i}`;
        await pushEvent(redis, config, { type: "fault.tick", source: `producer-${p}`, payload: { marker } });
        sent.push(marker);
        if (i % 10 === 9) await sleep(600); // paced so the stream spans the kills and restarts
      }
    }),
  ).finally(() => (producing = false));

  const moments: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const moment = 300 + Math.floor(Math.random() * 2_000);
    moments.push(moment);
    await sleep(moment);
    await pi.kill();
    // A supervisor restarts it; the new pi takes the central session once the dead one's lease lapses.
    await until("the killed pi's lease to lapse", async () => (await probe.exists(keys.lease(CENTRAL_SESSION))) === 0, 30_000);
    pi = await launch();
  }
  const killedWhileProducing = producing;
  await produced;
  await until(
    "inbox and in-flight list to empty",
    async () => (await probe.llen(keys.inbox(CENTRAL_SESSION))) === 0 && (await probe.llen(keys.inflight(CENTRAL_SESSION))) === 0,
    180_000,
  );
  await pi.kill();

  const delivered = pis.flatMap((one) => one.userMessages()).flatMap((text) => [...text.matchAll(/"marker":\s*"(m\d+x\d+)"/g)].map((m) => m[1]!));
  assert.equal(await probe.llen(keys.dead(CENTRAL_SESSION)), 0, "no valid event was dead-lettered");
  report(t, "real pi SIGKILL ×5", tally(sent, delivered), `${pis.length} pi processes; kills after ${moments.join(", ")} ms; last kill ${killedWhileProducing ? "while" : "after"} producers were running`);
});
