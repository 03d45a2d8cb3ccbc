// Who holds the central session (tier 2 and up): the pi inside the tmux session, or in tier 4
// the daemon. A tmux session that exists while another process (a user's own pi, a stale lease
// from another machine) or nobody holds `gateway` is the failure doctor must not call ok.
import { spawnSync } from "node:child_process";
import { hostId } from "../../core/host.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { withProducer } from "../../core/redis.ts";
import { parseLease, type Holder } from "../../core/sessions.ts";
import { result, type CheckResult, type DoctorContext } from "./check.ts";
import { TMUX_SESSION } from "./install-state.ts";
import { restartHint } from "./worker.ts";

/** The pids from `pid` up to init (ps works on Linux and macOS). */
function ancestors(pid: number, env: NodeJS.ProcessEnv): number[] {
  const chain: number[] = [];
  for (let current = pid; current > 1 && chain.length < 64; ) {
    chain.push(current);
    const ps = spawnSync("ps", ["-o", "ppid=", "-p", String(current)], { encoding: "utf8", env, timeout: 5_000 });
    const parent = Number(ps.stdout?.trim());
    if (ps.status !== 0 || !Number.isInteger(parent) || parent === current) break;
    current = parent;
  }
  return chain;
}

function tmuxPanePids(env: NodeJS.ProcessEnv): number[] {
  const panes = spawnSync("tmux", ["list-panes", "-t", `=${TMUX_SESSION}`, "-F", "#{pane_pid}"], { encoding: "utf8", env, timeout: 10_000 });
  return panes.status === 0 ? panes.stdout.split("\n").map(Number).filter((n) => n > 0) : [];
}

function describe(holder: Holder): string {
  return holder.pid > 0 ? `pid ${holder.pid} on ${holder.host}${holder.supervised ? " (supervised)" : ""}` : "an unreadable lease";
}

export async function centralHolderCheck(ctx: DoctorContext): Promise<CheckResult> {
  const tier4 = ctx.install.tier >= 4;
  const expected = tier4 ? "the daemon" : `the pi in tmux session "${TMUX_SESSION}"`;
  let raw: string | null;
  try {
    raw = await withProducer(ctx.config, "agent-gateway-doctor", (redis) => redis.get(keysFor(ctx.config.prefix).lease(CENTRAL_SESSION)));
  } catch {
    return result("central holder", "skip", "Redis unreachable (see the redis line)");
  }
  const restart = tier4 ? `${ctx.install.repo ?? "."}/setup.sh 4 starts the daemon again` : restartHint(ctx, "central");
  if (!raw) return result("central holder", "fail", `nobody holds the central session; events wait in its inbox`, restart);
  const holder = parseLease(CENTRAL_SESSION, raw);
  const elsewhere = holder.hostId !== hostId();
  let ours: boolean;
  if (elsewhere) ours = false;
  else if (tier4) ours = holder.supervised || holder.claim === "explicit";
  else {
    const panes = tmuxPanePids(ctx.env);
    ours = panes.length > 0 && ancestors(holder.pid, ctx.env).some((pid) => panes.includes(pid));
  }
  if (ours) return result("central holder", "ok", `${expected} holds the central session (${describe(holder)})`);
  const who = elsewhere ? `${describe(holder)}, another machine` : describe(holder);
  return result(
    "central holder",
    "fail",
    `the central session is held by ${who}, not ${expected}`,
    `stop that process (a pi started without GATEWAY_ROLE gives central up to the supervised one by itself); a lease from another machine expires ${Math.round(ctx.config.leaseTtl / 1000)} s after it stops refreshing; then ${restart}`,
  );
}
