// Services with no service manager (containers, AGENT_GATEWAY_SERVICES=fallback): each runs
// under keep-running.sh in its own process group, its pid in <home>/run/<name>.pid, its output
// in <home>/logs/<name>.out. Stopping ends the whole group, supervisor included, so nothing
// brings it back; nothing brings it back after a reboot either (run setup again then). The
// central pi has its own script (a tmux session).
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TMUX_SESSION } from "../doctor/install-state.ts";
import { KEEP_RUNNING, type ServiceSpec } from "./catalog.ts";
import type { ServiceManager } from "./manager.ts";
import { run, runOrThrow } from "./run.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, service: string): Promise<void> {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    if (!alive(-pid) && !alive(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${service} (process group ${pid}) did not stop within 15 s: kill -KILL -- -${pid}`);
}

export function fallback(home: string): ServiceManager {
  const pidFile = (service: ServiceSpec) => join(home, "run", `${service.name}.pid`);
  const pidOf = (service: ServiceSpec): number | undefined => {
    const file = pidFile(service);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  };
  const script = (service: ServiceSpec) => ("script" in service.fallback ? service.fallback.script : undefined);

  const manager: ServiceManager = {
    kind: "fallback",
    state(service) {
      if (script(service)) return run("tmux", ["has-session", "-t", `=${TMUX_SESSION}`]).ok ? "running" : "stopped";
      return pidOf(service) ? "running" : "stopped";
    },
    async start(service) {
      const own = script(service);
      if (own) return `${service.name} ${runOrThrow(own, ["ensure"])} (fallback: tmux session ${TMUX_SESSION})`;
      const running = pidOf(service);
      if (running) return `${service.name} running (pid ${running}, fallback)`;
      if (!("argv" in service.fallback)) throw new Error(`${service.name} has no fallback command`);
      const log = join(home, "logs", `${service.name}.out`);
      mkdirSync(join(home, "run"), { recursive: true });
      mkdirSync(join(home, "logs"), { recursive: true });
      const out = openSync(log, "a");
      // detached: its own process group, so stop ends keep-running.sh and its child together.
      const child = spawn(KEEP_RUNNING, service.fallback.argv, { detached: true, stdio: ["ignore", out, out] });
      closeSync(out);
      child.unref();
      writeFileSync(pidFile(service), `${child.pid}\n`);
      return `${service.name} started (pid ${child.pid}, fallback; output in ${log})`;
    },
    async stop(service) {
      const own = script(service);
      if (own) return `${service.name} ${runOrThrow(own, ["stop"])} (fallback: tmux session ${TMUX_SESSION})`;
      const pid = pidOf(service);
      rmSync(pidFile(service), { force: true });
      if (!pid) return `${service.name} was not running (fallback)`;
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        process.kill(pid, "SIGTERM");
      }
      await waitGone(pid, service.name);
      return `${service.name} stopped (pid ${pid}, fallback)`;
    },
    async restart(service) {
      await manager.stop(service);
      return (await manager.start(service)).replace(" started ", " restarted ");
    },
  };
  return manager;
}
