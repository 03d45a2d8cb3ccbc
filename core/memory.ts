// Redis memory settings the gateway depends on: an evicting maxmemory-policy deletes waiting
// events (allkeys-*) or leases and dedupe entries (volatile-*) without an error to anyone.
// Read from INFO memory; an ACL user that may not run INFO gets "unknown", never a failure.
import type { Redis } from "ioredis";
import type { Logger } from "./log.ts";
import { formatBytes, RedisFullError } from "./redis-errors.ts";

export interface MemorySettings {
  /** Bytes; 0 = no limit; undefined when INFO is not allowed. */
  maxmemory?: number;
  /** e.g. "noeviction", "allkeys-lru"; undefined when INFO is not allowed. */
  policy?: string;
}

const FIX = 'redis-cli CONFIG SET maxmemory-policy noeviction && redis-cli CONFIG REWRITE (managed Redis: set the parameter group\'s maxmemory-policy to noeviction)';

export async function readMemory(redis: Redis): Promise<MemorySettings> {
  let info: string;
  try {
    info = await redis.info("memory");
  } catch {
    return {};
  }
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
  const max = field("maxmemory");
  return { maxmemory: max === undefined ? undefined : Number(max), policy: field("maxmemory_policy") };
}

/** The warning for an evicting policy, with the fix; undefined when nothing is evicted. */
export function evictionWarning({ maxmemory, policy }: MemorySettings): { warning: string; fix: string } | undefined {
  if (!policy || policy === "noeviction") return undefined;
  const limit = maxmemory ? ` at maxmemory ${formatBytes(maxmemory)}` : " once maxmemory is set";
  const lost = policy.startsWith("allkeys-")
    ? "whole inboxes can be evicted: events vanish with no error"
    : "leases and dedupe entries (keys with a TTL) can be evicted: a session loses its registration, a repeated id is delivered twice";
  return { warning: `maxmemory-policy ${policy}${limit}: ${lost}`, fix: FIX };
}

/** Called once at start by long-lived consumers: logs the eviction warning if there is one. */
export async function warnOnEvictingPolicy(redis: Redis, log: Logger): Promise<void> {
  const evicting = evictionWarning(await readMemory(redis));
  if (evicting) log.warn(`Redis ${evicting.warning}; fix: ${evicting.fix}`);
}

/** The full error with the configured maxmemory in its message (when INFO is allowed). */
export async function withMaxmemory(redis: Redis, full: RedisFullError): Promise<RedisFullError> {
  const { maxmemory } = await readMemory(redis).catch(() => ({}) as MemorySettings);
  return maxmemory ? new RedisFullError(full.where, full.reply, maxmemory) : full;
}
