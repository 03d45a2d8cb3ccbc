// The machine a benchmark ran on, recorded with every result: cores, Node, Redis, load.
import { spawnSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  redis: string;
  /** 1-minute load average when the result was written (other work shares the machine). */
  load1: number;
  summary: string;
}

export function machine(): Machine {
  const cores = cpus().length;
  const cpu = cpus()[0]?.model.trim() ?? "unknown";
  const redis = /v=(\S+)/.exec(spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "unknown";
  const load1 = Number(loadavg()[0]!.toFixed(2));
  const memoryGiB = Number((totalmem() / 2 ** 30).toFixed(1));
  return {
    cores,
    cpu,
    memoryGiB,
    node: process.version,
    redis,
    load1,
    summary: `${cores} cores (${cpu}), ${memoryGiB} GiB, Node ${process.version}, Redis ${redis}, load ${load1}`,
  };
}
