// `agent-gateway service status|start|stop|restart [name|all]`: the gateway's services under
// whichever manager setup installed them with (systemd, launchd or the nohup fallback), e.g. to
// restart the worker after editing config.json.
import { EXIT } from "../../core/config.ts";
import { readInstallState } from "../doctor/install-state.ts";
import { configFrom, parse, UsageError, type Command } from "../cli-kit.ts";
import { SERVICES, type ServiceSpec } from "../services/catalog.ts";
import { fallback } from "../services/fallback.ts";
import { launchd } from "../services/launchd.ts";
import type { ServiceManager } from "../services/manager.ts";
import { systemd } from "../services/systemd.ts";

const ACTIONS = ["status", "start", "stop", "restart"] as const;
type Action = (typeof ACTIONS)[number];

const usage = `Usage: agent-gateway service status|start|stop|restart [${SERVICES.map((s) => s.name).join("|")}|all]

Controls the services setup installed (tier 2 and up), under the manager it used: systemd user
units, LaunchAgents, or the nohup fallback (recorded in <home>/setup-state). Without a name:
all of them. \`stop\` stops for good: nothing restarts the service until \`start\` (or setup).
After editing config.json: agent-gateway service restart worker

Exit codes: 0 ok (status: every installed service running), 1 a service is stopped or an action failed.`;

function managerFor(kind: string | undefined, home: string): ServiceManager {
  if (kind === "systemd") return systemd;
  if (kind === "launchd") return launchd;
  return fallback(home);
}

export const command: Command = {
  summary: "status, start, stop or restart the worker, central pi, tripwire and daemon",
  usage,
  async run(args, io) {
    const { positionals } = parse(args, {});
    const [action, name = "all", ...extra] = positionals as [string?, string?, ...string[]];
    if (!action || !ACTIONS.includes(action as Action)) throw new UsageError(`the first argument is one of ${ACTIONS.join(", ")}`);
    if (extra.length) throw new UsageError(`one service name at most, not ${[name, ...extra].join(" ")}`);
    const config = configFrom(io);
    const install = readInstallState(config.home);
    if (!install.services) {
      io.stderr("agent-gateway service: no services are installed here (setup tier 2 installs them): ./setup.sh 2");
      return EXIT.config;
    }
    const manager = managerFor(install.services, config.home);
    const chosen: ServiceSpec[] = name === "all" ? SERVICES.filter((s) => installedHere(s, install.tier)) : SERVICES.filter((s) => s.name === name);
    if (!chosen.length) throw new UsageError(`unknown service "${name}": ${SERVICES.map((s) => s.name).join(", ")} or all`);
    let failed = false;
    for (const service of chosen) {
      const state = manager.state(service);
      if (action === "status") {
        if (state === "not installed" && name === "all") continue;
        io.stdout(`${service.name.padEnd(9)} ${state} (${manager.kind})`);
        if (state !== "running") failed = true;
        continue;
      }
      if (state === "not installed") continue;
      try {
        io.stdout(await manager[action as Exclude<Action, "status">](service));
      } catch (error) {
        io.stderr(`agent-gateway service ${action} ${service.name}: ${(error as Error).message}`);
        failed = true;
      }
    }
    return failed ? EXIT.failure : EXIT.ok;
  },
};

/** `all` means what setup installs at this tier: from tier 4 the daemon replaces the tmux central pi. */
function installedHere(service: ServiceSpec, tier: number): boolean {
  if (service.name === "daemon") return tier >= 4;
  if (service.name === "central") return tier < 4;
  return true;
}
