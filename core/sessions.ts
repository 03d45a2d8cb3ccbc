// Session registry: each running session holds a lease (role, pid, host identity, start time,
// how it claimed) with a TTL and refreshes it; a crashed session's lease expires by itself, and
// with it the session stops receiving events addressed to it. Members of the sessions set with
// no lease (seed-era or crashed) are pruned. A lease value that is not JSON or lacks its fields
// reads as held by an unknown process on another machine: taken over only at expiry.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { hostId, pidAlive } from "./host.ts";
import { keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export type Role = "central" | "satellite";

/**
 * How a session was asked for: "explicit" (GATEWAY_ROLE=central, a service, the daemon) outranks
 * "default" (central only by the config default) and takes the session over from it.
 */
export type Claim = "explicit" | "default";

export interface Lease {
  session: string;
  role: Role;
  pid: number;
  /** hostname(), for people; `hostId` decides "same machine". */
  host: string;
  hostId: string;
  started: number;
  /** Unique per process: two processes never hold one session id. */
  owner: string;
  claim: Claim;
  /** Started by a supervisor that restarts it (keep-running, launchd, systemd). */
  supervised: boolean;
}

/** Another holder's lease as read, with its exact stored value (for an atomic takeover). */
export type Holder = Lease & { raw: string };

export interface LeaseHandle {
  lease: Lease;
  ttl: number;
}

export function newLease(session: string, role: Role, claim: Claim = "explicit", supervised = process.env.GATEWAY_SUPERVISED === "1"): Lease {
  return { session, role, pid: process.pid, host: hostname(), hostId: hostId(), started: Date.now(), owner: randomUUID(), claim, supervised };
}

/** Reads a stored lease value; anything unreadable is an unknown holder on another machine. */
export function parseLease(session: string, raw: string): Holder {
  let value: Partial<Lease> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object") value = parsed as Partial<Lease>;
  } catch {
    // unreadable: the defaults below
  }
  const known = typeof value.pid === "number" && typeof value.hostId === "string" && value.hostId !== "";
  return {
    session,
    role: value.role === "satellite" ? "satellite" : "central",
    pid: known ? value.pid! : 0,
    host: typeof value.host === "string" ? value.host : "unknown host",
    hostId: known ? value.hostId! : "",
    started: typeof value.started === "number" ? value.started : 0,
    owner: typeof value.owner === "string" ? value.owner : "",
    claim: value.claim === "default" ? "default" : "explicit",
    supervised: value.supervised === true,
    raw,
  };
}

/** A holder on this machine whose process is gone: its lease may be taken over at once. */
export function holderIsDead(holder: Lease): boolean {
  return holder.hostId === hostId() && holder.pid > 0 && !pidAlive(holder.pid);
}

export type LeaseResult = { held: true; handoverAsked: boolean } | { held: false; holder: Holder };

/**
 * Takes or refreshes the lease. `replace`: the other holder's exact value, taken over only if
 * it is still the lease (a dead holder). An explicit claim finding a default-role holder asks it
 * to hand over.
 */
export async function claimLease(redis: Redis, prefix: string, handle: LeaseHandle, replace = ""): Promise<LeaseResult> {
  const keys = keysFor(prefix);
  const { lease, ttl } = handle;
  const reply = (await runScript(
    redis,
    "lease",
    [keys.lease(lease.session), keys.sessions, keys.handover(lease.session)],
    [lease.session, lease.owner, JSON.stringify(lease), ttl, replace, lease.claim, keys.notify(lease.session)],
  )) as string | null;
  if (!reply) return { held: true, handoverAsked: false };
  if (reply === "handover") return { held: true, handoverAsked: true };
  return { held: false, holder: parseLease(lease.session, reply) };
}

/** Takes or refreshes the lease. Returns the other holder's lease when someone else holds it. */
export async function holdLease(redis: Redis, prefix: string, handle: LeaseHandle): Promise<Holder | undefined> {
  const result = await claimLease(redis, prefix, handle);
  return result.held ? undefined : result.holder;
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
    const { raw: _stored, ...lease } = parseLease(session, raw);
    live.push({ session, lease, leaseLeft: replies[2 * i + 1]?.[1] as number });
  });
  if (stale.length > 0) await redis.srem(keys.sessions, ...stale);
  return live;
}
