// What setup.sh recorded about this install (<home>/setup-state, key=value lines): the tier,
// the service manager in use, the project path. Absent before the first setup: tier 1 assumed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const TMUX_SESSION = "agent-gateway";

export interface InstallState {
  /** 0 when setup never ran here. */
  tier: number;
  services?: "launchd" | "systemd" | "fallback";
  repo?: string;
}

export function readInstallState(home: string): InstallState {
  const file = join(home, "setup-state");
  if (!existsSync(file)) return { tier: 0 };
  const values = new Map<string, string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  const services = values.get("services");
  return {
    tier: Number(values.get("tier")) || 0,
    services: services === "launchd" || services === "systemd" || services === "fallback" ? services : undefined,
    repo: values.get("repo"),
  };
}
