// The status line: one short string for pi's footer, e.g.
// "gateway · connected · backlog 3", "pid-4242 (satellite) · reconnecting · paused · watchdog alarm".
import type { LinkState as RedisLink } from "./connection.ts";

export const STATUS_KEY = "agent-gateway";

/** The Redis link, plus "registering": connected, the lease not yet taken. */
export type LinkState = RedisLink | "registering";

export interface StatusFacts {
  session: string;
  role: "central" | "satellite";
  link: LinkState;
  backlog: number;
  paused: boolean;
  alarm: boolean;
  /** Set when the session asked to be central but another process holds it. */
  demoted: boolean;
}

export function statusText(f: StatusFacts): string {
  const who = f.role === "central" ? f.session : `${f.session} (satellite${f.demoted ? ", central taken" : ""})`;
  const parts = [who, f.link];
  if (f.backlog > 0) parts.push(`backlog ${f.backlog}`);
  if (f.paused) parts.push("paused");
  if (f.alarm) parts.push("watchdog alarm");
  return parts.join(" · ");
}
