// Seed versus ours under concurrent producers: the seed's drain (LRANGE 0 -1, then DEL, two
// awaited commands) loses every event pushed between the two; ours (drainBatch → ackBatch, one
// Lua script each) loses none. Same producers, same push, same server, same run.
import type { Redis } from "ioredis";
import { ackBatch, drainBatch } from "../core/drain.ts";
import { parseEntry } from "../core/event.ts";
import { CENTRAL_SESSION, keysFor } from "../core/keys.ts";
import { pushEvent } from "../core/push.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";
import type { Config } from "../core/config.ts";
import { launchRedis } from "../test/harness/redis.ts";
import { testConfig } from "../test/harness/settings.ts";
import { nowMs } from "./lib/stats.ts";
import type { BenchReport } from "./lib/report.ts";

const PRODUCERS = 4;
const EVENTS_PER_PRODUCER = 5_000;

interface Outcome {
  sent: number;
  delivered: number;
  duplicated: number;
  lost: number;
  seconds: number;
}

type Consumer = (redis: Redis, config: Config) => Promise<string[]>;

/** The seed's drain, kept here only as the baseline. */
const seedDrain: Consumer = async (redis, config) => {
  const inbox = keysFor(config.prefix).inbox(CENTRAL_SESSION);
  const raws = await redis.lrange(inbox, 0, -1);
  await redis.del(inbox);
  return raws.reverse().flatMap((raw) => {
    const parsed = parseEntry(raw);
    return parsed.ok ? [parsed.event.id] : [];
  });
};

const ourDrain: Consumer = async (redis, config) => {
  const batch = await drainBatch(redis, config, CENTRAL_SESSION);
  await ackBatch(redis, config, batch);
  return batch.entries.map((e) => e.event.id);
};

async function race(url: string, config: Config, consume: Consumer): Promise<Outcome> {
  const consumer = connectRedis(url, { kind: "consumer" });
  const producers = Array.from({ length: PRODUCERS }, () => connectRedis(url, { kind: "producer" }));
  await Promise.all([consumer, ...producers].map(ensureConnected));
  const sent = new Set<string>();
  const seen = new Map<string, number>();
  const start = nowMs();
  let producing = true;
  const produced = Promise.all(
    producers.map(async (redis, p) => {
      for (let i = 0; i < EVENTS_PER_PRODUCER; i++) {
        sent.add((await pushEvent(redis, config, { type: "bench.race", source: `producer-${p}`, payload: { i } })).id);
      }
    }),
  ).finally(() => (producing = false));
  // Keep draining while producers run, then until the inbox is empty.
  for (;;) {
    const stillProducing = producing;
    const ids = await consume(consumer, config);
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    if (!stillProducing && ids.length === 0) break;
  }
  await produced;
  const seconds = (nowMs() - start) / 1000;
  for (const c of [consumer, ...producers]) c.disconnect();
  const delivered = [...sent].filter((id) => seen.has(id)).length;
  const duplicated = [...seen.values()].reduce((n, count) => n + count - 1, 0);
  return { sent: sent.size, delivered, duplicated, lost: sent.size - delivered, seconds };
}

export async function run(): Promise<BenchReport> {
  const server = await launchRedis();
  try {
    const config = (prefix: string): Config => testConfig(server.url, prefix, { inboxCap: 0 });
    const seed = await race(server.url, config("seed"), seedDrain);
    const ours = await race(server.url, config("ours"), ourDrain);
    const row = (name: string, o: Outcome) => ({
      drain: name,
      sent: o.sent,
      delivered: o.delivered,
      duplicated: o.duplicated,
      lost: o.lost,
      "lost %": Number(((100 * o.lost) / o.sent).toFixed(2)),
      "events/s": Math.round(o.sent / o.seconds),
    });
    return {
      name: "seed-vs-ours",
      method: `${PRODUCERS} producers × ${EVENTS_PER_PRODUCER} events pushed concurrently while one consumer drains: the seed's LRANGE 0 -1 then DEL (baseline) vs ours (drain script → ack script).`,
      rows: [row("seed: LRANGE + DEL", seed), row("ours: drainBatch + ackBatch", ours)],
      checks: [
        { target: "ours loses no event", measured: `${ours.lost} lost of ${ours.sent}`, pass: ours.lost === 0 },
        { target: "ours delivers none twice", measured: `${ours.duplicated} duplicated`, pass: ours.duplicated === 0 },
      ],
      figures: { seed, ours },
    };
  } finally {
    await server.stop();
  }
}
