// Benchmark 4 — idle cost: two real pi processes (RPC mode, fake LLM) side by side for 60 s, one
// with the gateway extension connected to Redis, one without it (the baseline, same run, same
// load). CPU% over the window and RSS (mean of 1 s samples) from /proc.
import { setTimeout as sleep } from "node:timers/promises";
import { startPi, waitConnected, type RpcPi } from "../test/harness/pi.ts";
import { launchRedis } from "../test/harness/redis.ts";
import { cpuSeconds, rssMiB } from "./lib/proc.ts";
import type { BenchReport } from "./lib/report.ts";

const WINDOW_S = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const SETTLE_MS = 5_000;

interface Cost {
  cpuPercent: number;
  /** Lowest 1 s sample: the settled footprint. A fresh pi returns ~30 MiB of start-up garbage
   * at some point in its first minute; the mean depends on when, the settled value does not. */
  rssSettledMiB: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
}

export async function run(): Promise<BenchReport> {
  const server = await launchRedis();
  const pis: RpcPi[] = [];
  try {
    const withExtension = await startPi({ redisUrl: server.url, prefix: "bench", role: "central" });
    pis.push(withExtension);
    const without = await startPi({ redisUrl: server.url, prefix: "bench", extensionArgs: [] });
    pis.push(without);
    await waitConnected(withExtension, 60_000);
    await Promise.all(pis.map((pi) => pi.send({ type: "get_state" })));
    await sleep(SETTLE_MS); // start-up work (loading, first drain) is not idle cost

    const pids = pis.map((pi) => pi.child.pid!);
    const cpuStart = pids.map(cpuSeconds);
    const samples: number[][] = pids.map(() => []);
    const start = Date.now();
    while (Date.now() - start < WINDOW_S * 1000) {
      await sleep(1000);
      pids.forEach((pid, i) => {
        samples[i]!.push(rssMiB(pid));
      });
    }
    const elapsed = (Date.now() - start) / 1000;
    const [ours, base] = pids.map((pid, i): Cost => ({
      cpuPercent: (100 * (cpuSeconds(pid) - cpuStart[i]!)) / elapsed,
      rssSettledMiB: Math.min(...samples[i]!),
      rssMeanMiB: samples[i]!.reduce((a, b) => a + b, 0) / samples[i]!.length,
      rssMaxMiB: Math.max(...samples[i]!),
    })) as [Cost, Cost];
    const extraCpu = ours.cpuPercent - base.cpuPercent;
    const extraRss = ours.rssSettledMiB - base.rssSettledMiB;
    return {
      name: "idle-cost",
      method: `Two idle pi processes side by side for ${WINDOW_S} s after a ${SETTLE_MS / 1000} s settle: with the gateway extension (connected, subscribed, lease kept) and without it. CPU% = CPU seconds / wall seconds; RSS sampled every second; "settled" = the lowest sample.`,
      rows: [
        { pi: "without the extension (baseline)", "CPU %": base.cpuPercent, "RSS settled MiB": base.rssSettledMiB, "RSS mean MiB": base.rssMeanMiB, "RSS max MiB": base.rssMaxMiB },
        { pi: "with the gateway extension", "CPU %": ours.cpuPercent, "RSS settled MiB": ours.rssSettledMiB, "RSS mean MiB": ours.rssMeanMiB, "RSS max MiB": ours.rssMaxMiB },
        { pi: "difference", "CPU %": extraCpu, "RSS settled MiB": extraRss, "RSS mean MiB": ours.rssMeanMiB - base.rssMeanMiB, "RSS max MiB": ours.rssMaxMiB - base.rssMaxMiB },
      ],
      checks: [
        { target: "extension adds < 1% CPU while idle", measured: `${extraCpu.toFixed(2)} points`, pass: extraCpu < 1 },
        { target: "extension adds < 15 MB RSS (settled)", measured: `${extraRss.toFixed(1)} MiB`, pass: extraRss * 1.048576 < 15 },
      ],
      figures: { windowSeconds: elapsed, ours, base, samples },
    };
  } finally {
    for (const pi of pis) await pi.kill();
    await server.stop();
  }
}
