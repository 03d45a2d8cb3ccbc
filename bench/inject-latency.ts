// Benchmark 1 — push→inject latency: from pushEvent resolving to a real pi (RPC mode, fake LLM,
// the gateway extension loaded) emitting the user message that carries the event, one event
// at a time with pi idle. Baseline in the same run: a Redis PING round trip before each push.
import { messageText, startPi, waitConnected } from "../test/harness/pi.ts";
import { launchRedis } from "../test/harness/redis.ts";
import { testConfig } from "../test/harness/settings.ts";
import { pushEvent } from "../core/push.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";
import { nowMs, percentile } from "./lib/stats.ts";
import { watchLines } from "./lib/pi-lines.ts";
import type { BenchReport } from "./lib/report.ts";

const EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 2_000);
const WARMUP = 20;
/** After a run ends the extension holds new batches until pi reports idle (checked every 25 ms; a
 * follow-up queued inside agent_end would be stranded). Measure the idle path: wait past it. */
const SETTLE_MS = 60;

export async function run(): Promise<BenchReport> {
  const server = await launchRedis();
  const redis = connectRedis(server.url, { kind: "producer", name: "bench-latency" });
  const pi = await startPi({ redisUrl: server.url, prefix: "bench", role: "central" });
  try {
    await ensureConnected(redis);
    await waitConnected(pi, 60_000);
    const settings = testConfig(server.url, "bench");
    const lines = watchLines(pi.child);
    const isUser = (l: Record<string, unknown>, marker: string) =>
      l.type === "message_start" && (l.message as { role?: string })?.role === "user" && messageText(l.message).includes(marker);
    const latencies: number[] = [];
    const pings: number[] = [];
    const rpcPrompts: number[] = [];
    for (let i = -WARMUP; i < EVENTS; i++) {
      const pingStart = nowMs();
      await redis.ping();
      const ping = nowMs() - pingStart;
      const marker = `latency-${i}-${Math.random().toString(36).slice(2)}`;
      const taken = lines.next((l) => isUser(l, marker));
      const idle = lines.next((l) => l.type === "agent_end");
      await pushEvent(redis, settings, { type: "bench.latency", source: "bench", payload: { marker } });
      const pushed = nowMs();
      const latency = (await taken) - pushed;
      await idle;
      await new Promise((r) => setTimeout(r, SETTLE_MS)); // the next event finds pi idle
      if (i >= 0) {
        latencies.push(latency);
        pings.push(ping);
      }
      if (i % 4 === 0) {
        // pi's own prompt path for comparison: an RPC prompt written to stdin → its user message_start.
        const direct = `direct-${i}`;
        const seen = lines.next((l) => isUser(l, direct));
        const ended = lines.next((l) => l.type === "agent_end");
        const sentAt = nowMs();
        pi.child.stdin!.write(JSON.stringify({ type: "prompt", message: direct }) + "\n");
        const took = (await seen) - sentAt;
        await ended;
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        if (i >= 0) rpcPrompts.push(took);
      }
    }
    const l = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: Math.max(...latencies) };
    const p = { p50: percentile(pings, 0.5), p99: percentile(pings, 0.99), max: Math.max(...pings) };
    const r = { p50: percentile(rpcPrompts, 0.5), p99: percentile(rpcPrompts, 0.99), max: Math.max(...rpcPrompts) };
    const early = latencies.slice(0, 250);
    const limit = 5 * p.p99 + 1;
    return {
      name: "inject-latency",
      method: `${EVENTS} events (after ${WARMUP} warm-up), one at a time with pi idle (${SETTLE_MS} ms after the previous run ended): pushEvent resolved → pi's RPC output shows the user message_start carrying the event (includes pi's stdout pipe). Baselines: one ioredis PING before each push; pi's own RPC prompt path (prompt written to its stdin → user message_start), every 4th step. pi keeps every message in its session, so later events meet a longer session.`,
      rows: [
        { measure: "Redis PING round trip (baseline)", "p50 ms": p.p50, "p99 ms": p.p99, "max ms": p.max },
        { measure: "pi's own RPC prompt → user message_start (every 4th)", "p50 ms": r.p50, "p99 ms": r.p99, "max ms": r.max },
        { measure: "push → inject into a real pi", "p50 ms": l.p50, "p99 ms": l.p99, "max ms": l.max },
        { measure: "  … first 250 events only (short session)", "p50 ms": percentile(early, 0.5), "p99 ms": percentile(early, 0.99), "max ms": Math.max(...early) },
        { measure: "ratio push→inject ÷ PING", "p50 ms": `${(l.p50 / p.p50).toFixed(1)}×`, "p99 ms": `${(l.p99 / p.p99).toFixed(1)}×`, "max ms": `${(l.max / p.max).toFixed(1)}×` },
      ],
      checks: [{ target: "p99 ≤ 5× PING p99 + 1 ms", measured: `${l.p99.toFixed(2)} ms vs limit ${limit.toFixed(2)} ms`, pass: l.p99 <= limit }],
      figures: { events: EVENTS, latency: l, ping: p, rpcPrompt: r, latencies, pings, rpcPrompts },
    };
  } finally {
    await pi.kill();
    redis.disconnect();
    await server.stop();
  }
}
