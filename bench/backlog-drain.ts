// Benchmark 3 — backlog drain: 100 000 queued events drained, validated, formatted into prompts
// and acknowledged (drainBatch → formatBatch → ackBatch), as a consumer does after downtime.
// Baseline in the same run: the seed's drain of the same backlog (LRANGE 0 -1, then DEL).
import { ackBatch, drainBatch } from "../core/drain.ts";
import { formatBatch, FORMAT_DEFAULTS } from "../core/format.ts";
import { CENTRAL_SESSION, keysFor } from "../core/keys.ts";
import { pushEvents } from "../core/push.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";
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
    // The default cap (10 000) would dead-letter most of a 100 000 backlog as overflow.
    const config: Config = testConfig(server.url, "bench", { inboxCap: 0 });
    const inbox = keysFor(config.prefix).inbox(CENTRAL_SESSION);
    const types = ["build.done", "deploy.done", "alert", "cron.heartbeat", "mail.received"];
    const fill = async () => {
      for (let i = 0; i < BACKLOG; i += 1000) {
        const inputs = Array.from({ length: 1000 }, (_, k) => ({ type: types[(i + k) % types.length]!, source: "bench", payload: { n: i + k, text: "x".repeat(100) } }));
        await pushEvents(redis, { ...config, pushDedupeWindow: 0 }, inputs);
      }
    };

    await fill();
    global.gc?.();
    const seed = await measured(async () => {
      await redis.lrange(inbox, 0, -1);
      await redis.del(inbox);
    });

    await fill();
    global.gc?.();
    let prompts = 0;
    let drained = 0;
    let maxPrompt = 0;
    let maxBatch = 0;
    const ours = await measured(async () => {
      for (;;) {
        const batch = await drainBatch(redis, config, CENTRAL_SESSION);
        if (batch.entries.length === 0) break;
        const { prompt } = formatBatch(batch.entries.map((e) => e.event), { redelivered: batch.redelivered });
        if (prompt) prompts++;
        maxPrompt = Math.max(maxPrompt, prompt.length);
        maxBatch = Math.max(maxBatch, batch.entries.length);
        drained += batch.entries.length;
        await ackBatch(redis, config, batch);
      }
    });
    const batches = Math.ceil(BACKLOG / config.drainBatch);
    return {
      name: "backlog-drain",
      method: `${BACKLOG} queued events (~190 B each, 5 types incl. heartbeats) drained in batches of ${config.drainBatch} / ${config.drainBatchBytes} B, each validated, formatted into one prompt and acknowledged; baseline: the seed's LRANGE 0 -1 + DEL of the same backlog (no validation, no prompt, no crash safety).`,
      rows: [
        { drain: "seed: LRANGE 0 -1 + DEL", seconds: seed.seconds, "events/s": Math.round(BACKLOG / seed.seconds), "time ÷ seed": "1.00×", "peak RSS over start (MiB)": seed.peakRssMiB, "RSS ÷ seed": "1.00×", prompts: "-", "max prompt (chars)": "-" },
        { drain: "ours: drain → format → ack", seconds: ours.seconds, "events/s": Math.round(drained / ours.seconds), "time ÷ seed": ratio(ours.seconds, seed.seconds), "peak RSS over start (MiB)": ours.peakRssMiB, "RSS ÷ seed": ratio(ours.peakRssMiB, seed.peakRssMiB), prompts, "max prompt (chars)": maxPrompt },
      ],
      checks: [
        { target: "every event drained", measured: `${drained}/${BACKLOG}`, pass: drained === BACKLOG },
        { target: "≤ one prompt per drained batch", measured: `${prompts} prompts for ${batches} batches (max ${maxBatch} events each)`, pass: prompts <= batches },
        { target: `each prompt ≤ ${FORMAT_DEFAULTS.maxPromptChars} chars`, measured: `max ${maxPrompt}`, pass: maxPrompt <= FORMAT_DEFAULTS.maxPromptChars },
      ],
      figures: { backlog: BACKLOG, seed, ours, prompts, drained, maxPrompt, maxBatch, batches },
    };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
