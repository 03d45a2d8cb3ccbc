// Read-only views of the gateway's state in Redis, for `status`, `doctor` and `/health`.
import type { Redis } from "ioredis";
import { replyCode } from "./redis-errors.ts";
import { readDaemonState, type DaemonState } from "./daemon-state.ts";
import { CENTRAL_SESSION, LEGACY_SESSION, keysFor } from "./keys.ts";
import { readMemory, type MemorySettings } from "./memory.ts";
import { scanKeys } from "./scan.ts";
import { listSessions, type SessionInfo } from "./sessions.ts";

export interface InboxStats {
  session: string;
  backlog: number;
  inflight: number;
  dead: number;
  overflow: number;
  /** ts (ms) of the oldest event waiting or in flight; absent when none or unreadable. */
  oldestTs?: number;
}

export interface Persistence {
  /** undefined when INFO is not allowed (an ACL user). */
  aof?: boolean;
  /** RDB snapshots configured; undefined when CONFIG is not allowed (managed Redis). */
  rdb?: boolean;
  /** "aof", "rdb", "aof+rdb", "none" or "unknown". */
  mode: string;
}

export interface GatewayState {
  sessions: SessionInfo[];
  inboxes: InboxStats[];
  /** ms since epoch of the last heartbeat a consumer received, if any. */
  lastHeartbeat?: number;
  /** How Redis keeps the inboxes across a restart. */
  persistence: Persistence;
  /** maxmemory and its policy (fields undefined when INFO is not allowed). */
  memory: MemorySettings;
  /** The tier-4 daemon's queue, when a daemon runs. */
  daemon?: DaemonState;
}

async function scanSessionIds(redis: Redis, prefix: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const kind of ["events", "inflight", "dead"]) {
    const pattern = `${prefix}:${kind}:*`;
    for (const key of await scanKeys(redis, pattern)) found.add(key.slice(pattern.length - 1));
  }
  return found;
}

/** The event time of a raw entry, when it is an event with a real ts (the seed's "ts":0 is not). */
function entryTs(raw: string | null): number | undefined {
  if (!raw) return undefined;
  try {
    const ts = (JSON.parse(raw) as { ts?: unknown }).ts;
    return typeof ts === "number" && ts > 0 ? ts : undefined;
  } catch {
    return undefined;
  }
}

/** Persistence as far as this user may read it: INFO or CONFIG denied leaves a field unknown. */
export async function readPersistence(redis: Redis): Promise<Persistence> {
  let aof: boolean | undefined;
  try {
    aof = /^aof_enabled:1\s*$/m.test(await redis.info("persistence"));
  } catch (error) {
    if (!replyCode(error)) throw error;
  }
  let rdb: boolean | undefined;
  try {
    const [, save] = (await redis.config("GET", "save")) as [string, string];
    rdb = save.trim() !== "";
  } catch (error) {
    if (!replyCode(error)) throw error;
    rdb = undefined;
  }
  const mode = aof === undefined ? "unknown" : aof && rdb ? "aof+rdb" : aof ? "aof" : rdb ? "rdb" : rdb === false ? "none" : "unknown";
  return { aof, rdb, mode };
}

export async function readState(redis: Redis, prefix: string): Promise<GatewayState> {
  const keys = keysFor(prefix);
  const sessions = await listSessions(redis, prefix);
  const ids = await scanSessionIds(redis, prefix);
  for (const sid of [CENTRAL_SESSION, LEGACY_SESSION, ...sessions.map((s) => s.session)]) ids.add(sid);
  const ordered = [...ids].sort();
  const pipeline = redis.pipeline();
  // Per inbox: lengths, then its oldest entries (inbox: rightmost; in-flight: leftmost).
  const stride = 5;
  for (const sid of ordered) {
    pipeline.llen(keys.inbox(sid)).llen(keys.inflight(sid)).llen(keys.dead(sid));
    pipeline.lindex(keys.inbox(sid), -1).lindex(keys.inflight(sid), 0);
  }
  pipeline.hgetall(keys.overflow).get(keys.lastHeartbeat);
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const overflow = replies[ordered.length * stride] as Record<string, string>;
  const lastHeartbeat = replies[ordered.length * stride + 1] as string | null;
  return {
    sessions,
    inboxes: ordered.map((session, i) => {
      const at = (k: number) => replies[stride * i + k];
      const times = [entryTs(at(3) as string | null), entryTs(at(4) as string | null)].filter((t) => t !== undefined);
      return {
        session,
        backlog: at(0) as number,
        inflight: at(1) as number,
        dead: at(2) as number,
        overflow: Number(overflow[session] ?? 0),
        oldestTs: times.length ? Math.min(...times) : undefined,
      };
    }),
    lastHeartbeat: lastHeartbeat ? Number(lastHeartbeat) : undefined,
    persistence: await readPersistence(redis),
    memory: await readMemory(redis),
    daemon: await readDaemonState(redis, prefix),
  };
}
