// The status line: one short string for pi's footer, e.g.
// "gateway · connected · backlog 3", "gateway · connected · 2 held (chain too deep: /gateway drain)", "pid-4242 (satellite) · reconnecting · paused · watchdog alarm",
// "gateway · connected · daily budget reached, waiting until 00:00".
import type { LinkState as RedisLink } from "./connection.ts";

export const STATUS_KEY = "agent-gateway";

/** The Redis link, plus "registering": connected, the lease not yet taken. */
export type LinkState = RedisLink | "registering";

export interface StatusFacts {
  session: string;
  role: "central" | "satellite";
  link: LinkState;
  backlog: number;
  /** Held by the runaway breaker until a human run or /gateway drain. */
  held: number;
  paused: boolean;
  /** A budget holds events: why, until when. */
  budget?: string;
  alarm: boolean;
  /** Set when the session asked to be central but another process holds it. */
  demoted: boolean;
}

export function statusText(f: StatusFacts): string {
  const who = f.role === "central" ? f.session : `${f.session} (satellite${f.demoted ? ", central taken" : ""})`;
  const parts = [who, f.link];
  if (f.backlog > 0) parts.push(`backlog ${f.backlog}`);
  if (f.held > 0) parts.push(`${f.held} held (chain too deep: /gateway drain)`);
  if (f.paused) parts.push("paused");
  if (f.budget) parts.push(f.budget);
  if (f.alarm) parts.push("watchdog alarm");
  return parts.join(" · ");
}
