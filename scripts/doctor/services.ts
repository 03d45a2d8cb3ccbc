// The always-on parts (tier 2 and up): the central tmux session, who holds the central lease
// (central.ts), and the services that keep the worker, the central session and the tripwire
// check running (or the fallback in use).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pidAlive } from "../../core/host.ts";
import { centralHolderCheck } from "./central.ts";
import { result, notInTier, type Check, type CheckResult, type DoctorContext } from "./check.ts";
import { TMUX_SESSION } from "./install-state.ts";
import { restartHint } from "./worker.ts";

const run = (command: string, args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(command, args, { encoding: "utf8", env, timeout: 10_000 });

function tmuxCheck(ctx: DoctorContext): CheckResult {
  const panes = run("tmux", ["list-panes", "-t", `=${TMUX_SESSION}`, "-F", "#{pane_dead}"], ctx.env);
  if (panes.error) return result("tmux", "fail", "tmux is not installed", "apt-get install -y tmux (or brew install tmux), then ./setup.sh 2");
  if (panes.status !== 0) return result("tmux", "fail", `no tmux session "${TMUX_SESSION}" (the central pi)`, restartHint(ctx, "central"));
  const dead = panes.stdout.trim().split("\n")[0];
  return dead === "1"
    ? result("tmux", "fail", `tmux session "${TMUX_SESSION}" exists but its pi exited`, `tmux kill-session -t ${TMUX_SESSION}, then ${restartHint(ctx, "central")}`)
    : result("tmux", "ok", `session "${TMUX_SESSION}" is running (attach: tmux attach -t ${TMUX_SESSION})`);
}

/** The pid in a fallback service's pid file while that process runs. */
function runningPid(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(file, "utf8").trim());
  } catch {
    return undefined;
  }
  return pidAlive(pid) ? pid : undefined;
}

function serviceCheck(ctx: DoctorContext): CheckResult {
  const { install, env } = ctx;
  const redo = `${install.repo ?? "."}/setup.sh ${install.tier}`;
  if (install.services === "systemd") {
    const units = ["agent-gateway-worker.service", "agent-gateway-central.service", "agent-gateway-tripwire.timer"];
    const down = units.filter((unit) => run("systemctl", ["--user", "is-active", "--quiet", unit], env).status !== 0);
    return down.length
      ? result("services", "fail", `not active: ${down.join(", ")}`, `systemctl --user enable --now ${down.join(" ")}`)
      : result("services", "ok", `systemd user units active: ${units.join(", ")}`);
  }
  if (install.services === "launchd") {
    const domain = `gui/${process.getuid?.() ?? ""}`;
    const labels = ["worker", "central", "tripwire"].map((n) => `dev.agent-gateway.${n}`);
    const missing = labels.filter((label) => run("launchctl", ["print", `${domain}/${label}`], env).status !== 0);
    return missing.length
      ? result("services", "fail", `LaunchAgents not loaded: ${missing.join(", ")}`, redo)
      : result("services", "ok", `LaunchAgents loaded: ${labels.join(", ")}`);
  }
  const run_ = join(ctx.config.home, "run");
  const worker = runningPid(join(run_, "worker.pid"));
  const tripwire = runningPid(join(run_, "tripwire.pid"));
  if (!worker || !tripwire) {
    const down = [worker ? "" : "worker", tripwire ? "" : "tripwire loop"].filter(Boolean).join(" and ");
    return result("services", "fail", `fallback (no service manager): ${down} not running`, redo);
  }
  return result(
    "services",
    "warn",
    `fallback in use (no systemd user session): worker pid ${worker}, tripwire loop pid ${tripwire}; restarted on failure, not after a reboot`,
    `after a reboot run ${redo}; for real services enable a systemd user session (loginctl enable-linger $USER) and run it again`,
  );
}

export const serviceChecks: Check = async (ctx) => {
  const { tier } = ctx.install;
  if (tier < 2) return [notInTier("tmux", tier, 2), notInTier("central holder", tier, 2), notInTier("services", tier, 2)];
  // Tier 4: the daemon is the central session; no tmux pi.
  const tmux = tier >= 4 ? result("tmux", "skip", "tier 4: the daemon is the central session") : tmuxCheck(ctx);
  const holder = tmux.status === "fail" ? result("central holder", "skip", "no central pi to check (see the tmux line)") : await centralHolderCheck(ctx);
  return [tmux, holder, serviceCheck(ctx)];
};
