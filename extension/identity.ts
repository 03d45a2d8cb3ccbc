// Which session this pi process is: GATEWAY_ROLE (or the configured default role) picks central
// (`gateway`) or satellite (`pid-<pid>`). The id is exported as GATEWAY_SESSION so the processes
// pi starts (its bash tool, `agent-gateway push`) report back to this session by default.
import type { Config } from "../core/config.ts";
import { CENTRAL_SESSION } from "../core/keys.ts";
import type { Claim, Role } from "../core/sessions.ts";

export interface Identity {
  role: Role;
  session: string;
}

/**
 * An explicit GATEWAY_ROLE=central (what setup's tmux session and services start) outranks a pi
 * that is central only by config.role: it takes central over from it.
 */
export function centralClaim(env: NodeJS.ProcessEnv = process.env): Claim {
  return env.GATEWAY_ROLE === "central" ? "explicit" : "default";
}

export function satelliteId(pid = process.pid): string {
  return `pid-${pid}`;
}

/** The identity asked for. An inherited GATEWAY_SESSION (pi started from another pi) is ignored. */
export function requestedIdentity(config: Pick<Config, "role">, pid = process.pid): Identity {
  return config.role === "central" ? { role: "central", session: CENTRAL_SESSION } : { role: "satellite", session: satelliteId(pid) };
}

export function exportIdentity(identity: Identity): void {
  process.env.GATEWAY_SESSION = identity.session;
}
