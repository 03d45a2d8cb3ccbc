// Services as systemd user units (what setup renders into ~/.config/systemd/user/).
import type { ServiceSpec } from "./catalog.ts";
import type { ServiceManager, ServiceState } from "./manager.ts";
import { run, runOrThrow } from "./run.ts";

const systemctl = (...args: string[]) => runOrThrow("systemctl", ["--user", ...args]);

export const systemd: ServiceManager = {
  kind: "systemd",
  state(service: ServiceSpec): ServiceState {
    if (!run("systemctl", ["--user", "cat", service.systemdUnit]).ok) return "not installed";
    return run("systemctl", ["--user", "is-active", "--quiet", service.systemdUnit]).ok ? "running" : "stopped";
  },
  async start(service) {
    systemctl("start", service.systemdUnit);
    return `${service.name} started (systemd ${service.systemdUnit})`;
  },
  async stop(service) {
    systemctl("stop", service.systemdUnit);
    return `${service.name} stopped (systemd ${service.systemdUnit}; it starts again at the next login or \`agent-gateway service start ${service.name}\`)`;
  },
  async restart(service) {
    systemctl("restart", service.systemdUnit);
    return `${service.name} restarted (systemd ${service.systemdUnit})`;
  },
};
