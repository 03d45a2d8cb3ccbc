// Benchmark — start-up as a user feels it (issue 16): whole processes, wall time from spawn, each
// beside `node -e 0` measured in the same interleaved rounds: `agent-gateway push` (and its peak
// RSS, beside `redis-cli LPUSH`), `status`, the tripwire check, the worker until /health answers
// 200, and a pi with the extension until the gateway says connected, beside pi alone answering
// its first RPC command. Runs the build in dist/, as the installed command does.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPi, waitConnected, type RpcPi } from "../test/harness/pi.ts";
import { freePort, launchRedis } from "../test/harness/redis.ts";
import { ratio, type BenchReport } from "./lib/report.ts";
import { median, nowMs } from "./lib/stats.ts";

const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 10);
const PI_ROUNDS = Number(process.env.BENCH_PI_ROUNDS ?? 3);
const BIN = fileURLToPath(new URL("../scripts/agent-gateway.mjs", import.meta.url));

interface Timed {
  ms: number;
  peakMiB: number;
}

/** Wall time from spawn to exit, and peak RSS from GNU time (its own fork is in both sides). */
function timed(command: string[], env: NodeJS.ProcessEnv): Timed {
  const start = nowMs();
  const result = spawnSync("/usr/bin/time", ["-f", "%M", ...command], { env, encoding: "utf8" });
  const ms = nowMs() - start;
  if (result.error) throw result.error;
  const kib = Number(result.stderr.trim().split("\n").at(-1));
  return { ms, peakMiB: kib / 1024 };
}

/** Spawn → first 200 from the worker's /health. */
async function workerReady(env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const start = nowMs();
  const child = spawn(process.execPath, [BIN, "worker", "--port", String(port)], { env, stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    for (const deadline = start + 30_000; nowMs() < deadline; ) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
      if (ok) return nowMs() - start;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error("the worker did not answer /health with 200 within 30 s");
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

/** Spawn → pi alone answers get_state, or → the extension's status says connected. */
async function piStart(redisUrl: string, withExtension: boolean): Promise<number> {
  const start = nowMs();
  let pi: RpcPi | undefined;
  try {
    pi = await startPi({ redisUrl, prefix: "bench", role: "central", ...(withExtension ? {} : { extensionArgs: [] }) });
    if (withExtension) await waitConnected(pi, 60_000);
    else await pi.send({ type: "get_state" });
    return nowMs() - start;
  } finally {
    await pi?.kill();
  }
}

export async function run(): Promise<BenchReport> {
  const server = await launchRedis();
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-bench-home-"));
  const env = { ...process.env, AGENT_GATEWAY_HOME: home, REDIS_URL: server.url, GATEWAY_PREFIX: "bench", GATEWAY_HEARTBEAT: "false" };
  const node: Timed[] = [], push: Timed[] = [], redisCli: Timed[] = [], status: Timed[] = [], tripwire: Timed[] = [];
  const worker: number[] = [], nodeForPi: number[] = [], piAlone: number[] = [], piExtension: number[] = [];
  try {
    timed([process.execPath, BIN, "push", "bench.warmup"], env); // first run pays the disk cache
    for (let round = 0; round < ROUNDS; round++) {
      node.push(timed([process.execPath, "-e", "0"], env));
      push.push(timed([process.execPath, BIN, "push", "bench.push", "--payload", `{"round":${round}}`], env));
      redisCli.push(timed(["redis-cli", "-p", String(server.port), "LPUSH", "bench:raw", "x"], env));
      status.push(timed([process.execPath, BIN, "status"], env));
      tripwire.push(timed([process.execPath, BIN, "tripwire-check"], env));
      worker.push(await workerReady(env));
    }
    for (let round = 0; round < PI_ROUNDS; round++) {
      nodeForPi.push(timed([process.execPath, "-e", "0"], env).ms);
      piAlone.push(await piStart(server.url, false));
      piExtension.push(await piStart(server.url, true));
    }
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const ms = (values: Timed[]) => median(values.map((v) => v.ms));
  const m = {
    node: ms(node), push: ms(push), pushPeakMiB: Math.max(...push.map((v) => v.peakMiB)), redisCli: ms(redisCli), nodePeakMiB: median(node.map((v) => v.peakMiB)),
    status: ms(status), tripwire: ms(tripwire), worker: median(worker), nodeForPi: median(nodeForPi), piAlone: median(piAlone), piExtension: median(piExtension),
  };
  const row = (what: string, value: number, base: number, peak?: number) => ({ process: what, "median ms": Math.round(value), "÷ node -e 0": ratio(value, base), ...(peak === undefined ? {} : { "peak RSS MiB": peak.toFixed(1) }) });
  const piExtra = m.piExtension - m.piAlone;
  return {
    name: "cli-latency",
    method: `Whole processes, wall time from spawn, ${ROUNDS} interleaved rounds (medians; peak RSS: the highest of the rounds, GNU time): node -e 0 as the baseline, the CLI from dist/ against a throwaway redis-server; the worker until GET /health answers 200; pi (RPC mode, fake model) ${PI_ROUNDS} rounds, with the extension until its status says connected, alone until it answers get_state.`,
    rows: [
      row("node -e 0 (baseline)", m.node, m.node, m.nodePeakMiB),
      row("redis-cli LPUSH (no Node)", m.redisCli, m.node),
      row("agent-gateway push", m.push, m.node, m.pushPeakMiB),
      row("agent-gateway status", m.status, m.node),
      row("agent-gateway tripwire-check", m.tripwire, m.node),
      row("agent-gateway worker → /health 200", m.worker, m.node),
      row("pi alone → first RPC answer", m.piAlone, m.nodeForPi),
      row("pi + extension → gateway connected", m.piExtension, m.nodeForPi),
    ],
    checks: [
      { target: "push median ≤ 1.6× node -e 0", measured: ratio(m.push, m.node), pass: m.push <= 1.6 * m.node },
      { target: "push peak RSS ≤ 60 MiB", measured: `${m.pushPeakMiB.toFixed(1)} MiB`, pass: m.pushPeakMiB <= 60 },
      { target: "status median ≤ 2× node -e 0", measured: ratio(m.status, m.node), pass: m.status <= 2 * m.node },
      { target: "worker /health 200 within 5× node -e 0", measured: ratio(m.worker, m.node), pass: m.worker <= 5 * m.node },
      { target: "tripwire check ≤ 2× node -e 0", measured: ratio(m.tripwire, m.node), pass: m.tripwire <= 2 * m.node },
      { target: "pi + extension to connected ≤ pi alone + 3× node -e 0", measured: `+${Math.round(piExtra)} ms = ${ratio(piExtra, m.nodeForPi)} node`, pass: piExtra <= 3 * m.nodeForPi },
    ],
    figures: { medians: m, rounds: { node, push, redisCli, status, tripwire, worker, nodeForPi, piAlone, piExtension } },
  };
}
