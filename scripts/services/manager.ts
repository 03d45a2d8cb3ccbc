// One service manager's view of a service: what `agent-gateway service` asks of systemd, launchd
// or the nohup fallback. Each action answers with one line a person can act on.
import type { ServiceSpec } from "./catalog.ts";

export type ServiceState = "running" | "stopped" | "not installed";

export interface ServiceManager {
  /** "systemd", "launchd" or "fallback", for messages. */
  kind: string;
  state(service: ServiceSpec): ServiceState;
  start(service: ServiceSpec): Promise<string>;
  /** Stops it for good: the manager does not bring it back until the next start. */
  stop(service: ServiceSpec): Promise<string>;
  restart(service: ServiceSpec): Promise<string>;
}
