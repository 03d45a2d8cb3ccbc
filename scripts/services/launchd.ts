// Services as LaunchAgents (what setup renders into ~/Library/LaunchAgents/).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ServiceSpec } from "./catalog.ts";
import type { ServiceManager, ServiceState } from "./manager.ts";
import { run, runOrThrow } from "./run.ts";

const domain = () => `gui/${process.getuid?.() ?? 0}`;
const plist = (service: ServiceSpec) => join(homedir(), "Library", "LaunchAgents", `${service.launchdLabel}.plist`);
const loaded = (service: ServiceSpec) => run("launchctl", ["print", `${domain()}/${service.launchdLabel}`]).ok;

export const launchd: ServiceManager = {
  kind: "launchd",
  state(service: ServiceSpec): ServiceState {
    if (!existsSync(plist(service))) return "not installed";
    return loaded(service) ? "running" : "stopped";
  },
  async start(service) {
    if (!loaded(service)) runOrThrow("launchctl", ["bootstrap", domain(), plist(service)]);
    return `${service.name} started (launchd ${service.launchdLabel})`;
  },
  // bootout unloads it, so KeepAlive cannot bring it back; start loads it again.
  async stop(service) {
    if (loaded(service)) runOrThrow("launchctl", ["bootout", `${domain()}/${service.launchdLabel}`]);
    return `${service.name} stopped (launchd ${service.launchdLabel} unloaded)`;
  },
  async restart(service) {
    if (!loaded(service)) return this.start(service);
    runOrThrow("launchctl", ["kickstart", "-k", `${domain()}/${service.launchdLabel}`]);
    return `${service.name} restarted (launchd ${service.launchdLabel})`;
  },
};
