// Read-only views of the gateway's state in Redis, for `status`, `doctor` and `/health`.
import type { Redis } from "ioredis";
import { readDaemonState, type DaemonState } from "./daemon-state.ts";
import { CENTRAL_SESSION, LEGACY_SESSION, keysFor } from "./keys.ts";
import { listSessions, type SessionInfo } from "./sessions.ts";

export interface InboxStats {
  session: string;
  backlog: number;
  inflight: number;
  dead: number;
  overflow: number;
}

export interface GatewayState {
  sessions: SessionInfo[];
  inboxes: InboxStats[];
  /** ms since epoch of the last heartbeat a consumer received, if any. */
  lastHeartbeat?: number;
  /** The tier-4 daemon's queue, when a daemon runs. */
  daemon?: DaemonState;
}

async function scanSessionIds(redis: Redis, prefix: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const kind of ["events", "inflight", "dead"]) {
    const pattern = `${prefix}:${kind}:*`;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const key of keys) found.add(key.slice(pattern.length - 1));
    } while (cursor !== "0");
  }
  return found;
}

export async function readState(redis: Redis, prefix: string): Promise<GatewayState> {
  const keys = keysFor(prefix);
  const sessions = await listSessions(redis, prefix);
  const ids = await scanSessionIds(redis, prefix);
  for (const sid of [CENTRAL_SESSION, LEGACY_SESSION, ...sessions.map((s) => s.session)]) ids.add(sid);
  const ordered = [...ids].sort();
  const pipeline = redis.pipeline();
  for (const sid of ordered) pipeline.llen(keys.inbox(sid)).llen(keys.inflight(sid)).llen(keys.dead(sid));
  pipeline.hgetall(keys.overflow).get(keys.lastHeartbeat);
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const overflow = replies[ordered.length * 3] as Record<string, string>;
  const lastHeartbeat = replies[ordered.length * 3 + 1] as string | null;
  return {
    sessions,
    inboxes: ordered.map((session, i) => ({
      session,
      backlog: replies[3 * i] as number,
      inflight: replies[3 * i + 1] as number,
      dead: replies[3 * i + 2] as number,
      overflow: Number(overflow[session] ?? 0),
    })),
    lastHeartbeat: lastHeartbeat ? Number(lastHeartbeat) : undefined,
    daemon: await readDaemonState(redis, prefix),
  };
}
