// Session registry: each running session holds a lease (role, pid, host, start time) with a
// TTL and refreshes it; a crashed session's lease expires by itself, and with it the session
// stops receiving events addressed to it. Members of the sessions set with no lease
// (seed-era or crashed) are pruned.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { keysFor } from "./keys.ts";
import { runScript } from "./scripts.ts";

export type Role = "central" | "satellite";

export interface Lease {
  session: string;
  role: Role;
  pid: number;
  host: string;
  started: number;
  /** Unique per process: two processes never hold one session id. */
  owner: string;
}

export interface LeaseHandle {
  lease: Lease;
  ttl: number;
}

export function newLease(session: string, role: Role): Lease {
  return { session, role, pid: process.pid, host: hostname(), started: Date.now(), owner: randomUUID() };
}

/** Takes or refreshes the lease. Returns the other holder's lease when someone else holds it. */
export async function holdLease(redis: Redis, prefix: string, handle: LeaseHandle): Promise<Lease | undefined> {
  const keys = keysFor(prefix);
  const { lease, ttl } = handle;
  const holder = (await runScript(
    redis,
    "lease",
    [keys.lease(lease.session), keys.sessions],
    [lease.session, lease.owner, JSON.stringify(lease), ttl],
  )) as string | null;
  return holder ? (JSON.parse(holder) as Lease) : undefined;
}

/** Drops the lease if this process holds it. Never touches the inbox. */
export async function releaseLease(redis: Redis, prefix: string, lease: Lease): Promise<boolean> {
  const keys = keysFor(prefix);
  return (await runScript(redis, "release", [keys.lease(lease.session), keys.sessions], [lease.session, lease.owner])) === 1;
}

export interface SessionInfo {
  session: string;
  lease?: Lease;
  /** ms left on the lease. */
  leaseLeft?: number;
}

/** Registered sessions with their leases; members whose lease is gone are pruned. */
export async function listSessions(redis: Redis, prefix: string): Promise<SessionInfo[]> {
  const keys = keysFor(prefix);
  const members = (await redis.smembers(keys.sessions)).sort();
  if (members.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const sid of members) pipeline.get(keys.lease(sid)).pttl(keys.lease(sid));
  const replies = (await pipeline.exec()) ?? [];
  const live: SessionInfo[] = [];
  const stale: string[] = [];
  members.forEach((session, i) => {
    const raw = replies[2 * i]?.[1] as string | null;
    if (!raw) {
      stale.push(session);
      return;
    }
    live.push({ session, lease: JSON.parse(raw) as Lease, leaseLeft: replies[2 * i + 1]?.[1] as number });
  });
  if (stale.length > 0) await redis.srem(keys.sessions, ...stale);
  return live;
}
