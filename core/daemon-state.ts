// The daemon's published state: what it runs and what waits in its queue. The daemon writes
// it to Redis (with a TTL, so a dead daemon's state disappears by itself); `status` reads it.
import type { Redis } from "ioredis";
import { keysFor } from "./keys.ts";

export interface DaemonQueueItem {
  id: string;
  /** "human" | "event" | "heartbeat" */
  kind: string;
  source: string;
  replyTo: string;
  queuedAt: number;
}

export interface DaemonState {
  pid: number;
  host: string;
  started: number;
  updated: number;
  sessionFile?: string;
  channels: string[];
  running?: DaemonQueueItem & { startedAt: number };
  waiting: DaemonQueueItem[];
}

export async function writeDaemonState(redis: Redis, prefix: string, state: DaemonState, ttl: number): Promise<void> {
  await redis.set(keysFor(prefix).daemonState, JSON.stringify(state), "PX", ttl);
}

export async function readDaemonState(redis: Redis, prefix: string): Promise<DaemonState | undefined> {
  const raw = await redis.get(keysFor(prefix).daemonState);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as DaemonState;
  } catch {
    return undefined;
  }
}
