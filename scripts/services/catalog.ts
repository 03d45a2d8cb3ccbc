// The gateway's long-running services and how each one is known to each service manager. A new
// service (e.g. a file watcher) is one more entry here; `agent-gateway service` and setup's
// restart after a config change pick it up from this list.
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../core/package-root.ts";

export interface ServiceSpec {
  name: string;
  /** systemd user unit that runs (or, for a timer, schedules) it. */
  systemdUnit: string;
  /** launchd label (the plist is ~/Library/LaunchAgents/<label>.plist). */
  launchdLabel: string;
  /** No service manager: the command keep-running.sh restarts on failure, or a script of its own. */
  fallback: { argv: string[] } | { script: string };
  /** Reads config.json at start: setup restarts it after changing the config. */
  readsConfig: boolean;
}

const BIN = join(PACKAGE_ROOT, "scripts", "agent-gateway.mjs");
const cli = (...args: string[]) => ({ argv: [process.execPath, BIN, ...args] });

export const SERVICES: ServiceSpec[] = [
  { name: "worker", systemdUnit: "agent-gateway-worker.service", launchdLabel: "dev.agent-gateway.worker", fallback: cli("worker"), readsConfig: true },
  {
    name: "central",
    systemdUnit: "agent-gateway-central.service",
    launchdLabel: "dev.agent-gateway.central",
    fallback: { script: join(PACKAGE_ROOT, "scripts", "central-session.sh") },
    readsConfig: false,
  },
  {
    name: "tripwire",
    systemdUnit: "agent-gateway-tripwire.timer",
    launchdLabel: "dev.agent-gateway.tripwire",
    fallback: cli("tripwire-check", "--every", "5m"),
    readsConfig: true,
  },
  { name: "daemon", systemdUnit: "agent-gateway-daemon.service", launchdLabel: "dev.agent-gateway.daemon", fallback: cli("daemon"), readsConfig: true },
];

export const KEEP_RUNNING = join(PACKAGE_ROOT, "scripts", "keep-running.sh");
