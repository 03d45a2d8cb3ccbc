// Benchmark 3 — backlog drain: 100 000 queued events, as a consumer finds them after downtime.
// Ours (issue 17.1): core's Consumer drains the whole storm in chunks, keeps it in the session's
// history, formats ONE prompt and, once the (recording) injector says pi took it, acknowledges
// it all. Beside it, the previous figure: one prompt per batch (drainBatch → formatBatch →
// ackBatch in a loop). Baseline in the same run: the seed's LRANGE 0 -1 + DEL of the same backlog.
import { Consumer, type PreparedPrompt } from "../core/delivery.ts";
import { ackBatch, drainBatch } from "../core/drain.ts";
import { formatBatch, FORMAT_DEFAULTS } from "../core/format.ts";
import { Heartbeats } from "../core/heartbeat-intake.ts";
import { listHistory } from "../core/history.ts";
import { CENTRAL_SESSION, keysFor } from "../core/keys.ts";
import { createLogger } from "../core/log.ts";
import { pushEvents } from "../core/push.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";
import { holdLease, newLease } from "../core/sessions.ts";
import type { Config } from "../core/config.ts";
import { launchRedis } from "../test/harness/redis.ts";
import { testConfig } from "../test/harness/settings.ts";
import { nowMs } from "./lib/stats.ts";
import { ratio, type BenchReport } from "./lib/report.ts";

const BACKLOG = 100_000;

/** Samples RSS every 10 ms while `body` runs; returns its time and the peak over the start. */
async function measured(body: () => Promise<void>): Promise<{ seconds: number; peakRssMiB: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const start = nowMs();
  await body();
  const seconds = (nowMs() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { seconds, peakRssMiB: (peak - before) / 2 ** 20 };
}

export async function run(): Promise<BenchReport> {
  const server = await launchRedis();
  const redis = connectRedis(server.url, { kind: "consumer", name: "bench-drain" });
  try {
    await ensureConnected(redis);
    const config: Config = testConfig(server.url, "bench");
    const keys = keysFor(config.prefix);
    const inbox = keys.inbox(CENTRAL_SESSION);
    const types = ["build.done", "deploy.done", "alert", "cron.heartbeat", "mail.received"];
    const fill = async () => {
      for (let i = 0; i < BACKLOG; i += 1000) {
        const inputs = Array.from({ length: 1000 }, (_, k) => ({ type: types[(i + k) % types.length]!, source: `bench-${(i + k) % 7}`, payload: { n: i + k, text: "x".repeat(100) } }));
        await pushEvents(redis, { ...config, pushDedupeWindow: 0 }, inputs);
      }
    };

    await fill();
    global.gc?.();
    const seed = await measured(async () => {
      await redis.lrange(inbox, 0, -1);
      await redis.del(inbox);
    });

    // Before issue 17: one prompt per drained batch.
    await fill();
    global.gc?.();
    let batchPrompts = 0;
    let batchDrained = 0;
    const perBatch = await measured(async () => {
      for (;;) {
        const batch = await drainBatch(redis, config, CENTRAL_SESSION);
        if (batch.entries.length === 0) break;
        if (formatBatch(batch.entries.map((e) => e.event), { redelivered: batch.redelivered }).prompt) batchPrompts++;
        batchDrained += batch.entries.length;
        await ackBatch(redis, config, batch);
      }
    });

    // Now: the consumer loop, a storm becoming one prompt.
    await fill();
    global.gc?.();
    const log = createLogger({ kind: "bench", level: "error" });
    const lease = newLease(CENTRAL_SESSION, "central");
    await holdLease(redis, config.prefix, { lease, ttl: 600_000 });
    const prompts: PreparedPrompt[] = [];
    let consumer: Consumer | undefined;
    const storm = await measured(
      () =>
        new Promise<void>((done) => {
          consumer = new Consumer({
            redis,
            config,
            session: () => ({ session: CENTRAL_SESSION, owner: lease.owner }),
            heartbeats: new Heartbeats({ ...config, heartbeat: { ...config.heartbeat, enabled: false } }, log, () => {}),
            injector: {
              hasRoom: () => true,
              send: (prepared, handover) => {
                prompts.push(prepared);
                void handover.taken();
              },
            },
            log,
            onChange: (state) => {
              if (state === "idle" && consumer!.report().delivered >= BACKLOG) done();
            },
          });
          consumer.wake("bench");
        }),
    );
    consumer!.stop();
    const stormDrained = consumer!.report().delivered;
    const maxPrompt = Math.max(...prompts.map((p) => p.prompt.length));
    const kept = (await listHistory(redis, config, CENTRAL_SESSION, { limit: 1 })).kept;
    const heartbeats = BACKLOG / types.length;
    const row = (drain: string, m: { seconds: number; peakRssMiB: number }, n: number | string, max: number | string) => ({
      drain,
      seconds: m.seconds,
      "events/s": Math.round(BACKLOG / m.seconds),
      "time ÷ seed": ratio(m.seconds, seed.seconds),
      "peak RSS over start (MiB)": m.peakRssMiB,
      prompts: n,
      "max prompt (chars)": max,
    });
    return {
      name: "backlog-drain",
      method: `${BACKLOG} queued events (~200 B each, 5 types incl. heartbeats, 7 sources). Storm: core's Consumer drains it all in chunks onto one in-flight batch, writes the history, formats one prompt, acks once the injector reports it taken. Per batch (before issue 17): drainBatch → formatBatch → ackBatch per batch of ${config.drainBatch}. Baseline: the seed's LRANGE 0 -1 + DEL (no validation, no prompt, no crash safety).`,
      rows: [
        row("seed: LRANGE 0 -1 + DEL", seed, "-", "-"),
        row("before: one prompt per batch", perBatch, batchPrompts, "-"),
        row("storm: one prompt (+ history)", storm, prompts.length, maxPrompt),
      ],
      checks: [
        { target: "every event drained", measured: `${stormDrained}/${BACKLOG}`, pass: stormDrained === BACKLOG && batchDrained === BACKLOG },
        { target: "≤ 3 prompts", measured: `${prompts.length} (before: ${batchPrompts})`, pass: prompts.length <= 3 },
        { target: "≤ 8 × the seed's LRANGE+DEL", measured: ratio(storm.seconds, seed.seconds), pass: storm.seconds <= 8 * seed.seconds },
        { target: "peak RSS ≤ 100 MiB over start", measured: `${storm.peakRssMiB.toFixed(1)} MiB`, pass: storm.peakRssMiB <= 100 },
        { target: `each prompt ≤ ${FORMAT_DEFAULTS.maxPromptChars} chars`, measured: `max ${maxPrompt}`, pass: maxPrompt <= FORMAT_DEFAULTS.maxPromptChars },
        { target: "every non-heartbeat event in the history", measured: `${kept}/${BACKLOG - heartbeats}`, pass: kept === BACKLOG - heartbeats },
      ],
      figures: { backlog: BACKLOG, seed, perBatch, storm, prompts: prompts.length, batchPrompts, maxPrompt, kept },
    };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
