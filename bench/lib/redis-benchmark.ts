// Runs Debian's `redis-benchmark` against the bench's server and returns requests per second.
import { spawnSync } from "node:child_process";

export interface RedisBenchmarkOptions {
  port: number;
  test: string;
  requests: number;
  /** Value size in bytes (`-d`), set to the size of a real event so the baseline is fair. */
  dataSize: number;
  pipeline?: number;
}

export function redisBenchmarkRps({ port, test, requests, dataSize, pipeline = 1 }: RedisBenchmarkOptions): number {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-t", test, "-c", "1", "-n", String(requests), "-d", String(dataSize), "-P", String(pipeline), "--csv"];
  const run = spawnSync("redis-benchmark", args, { encoding: "utf8" });
  if (run.error || run.status !== 0) {
    throw new Error(`redis-benchmark failed (${run.error?.message ?? `exit ${run.status}`}): is the redis-tools package installed? ${run.stderr}`);
  }
  // CSV: a header, then "LPUSH","38461.54",...
  const line = run.stdout.split("\n").find((l) => l.startsWith(`"${test.toUpperCase()}"`));
  const rps = Number(line?.split(",")[1]?.replaceAll('"', ""));
  if (!Number.isFinite(rps)) throw new Error(`could not read redis-benchmark output: ${run.stdout}`);
  return rps;
}
