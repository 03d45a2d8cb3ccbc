// Keeps a session's lease alive: takes it once, refreshes it every ttl/3 on an unref'd timer
// (never keeps a process alive), and takes it again as soon as the Redis client reconnects (a
// Redis restart may have lost it). Used by the pi extension and the daemon.
import type { Redis } from "ioredis";
import type { Logger } from "./log.ts";
import { holdLease, newLease, releaseLease, type Lease, type Role } from "./sessions.ts";

export interface LeaseKeeperOptions {
  redis: Redis;
  prefix: string;
  session: string;
  role: Role;
  /** Lease TTL, ms. */
  ttl: number;
  log: Logger;
  /** Another live process took the session id after we held it (e.g. while Redis was away). */
  onConflict?(holder: Lease): void;
}

export interface LeaseKeeper {
  lease: Lease;
  stop(): Promise<void>;
}

/** The session id is held by another live process; `holder` is its lease. */
export class LeaseConflictError extends Error {
  override name = "LeaseConflictError";
  constructor(readonly holder: Lease) {
    super(`session ${holder.session} is held by pid ${holder.pid} on ${holder.host} (since ${new Date(holder.started).toISOString()})`);
  }
}

/** Takes the lease (rejects with LeaseConflictError when another process holds it) and keeps it. */
export async function startLeaseKeeper(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
  const { redis, prefix, session, role, ttl, log } = options;
  const lease = newLease(session, role);
  const first = await holdLease(redis, prefix, { lease, ttl });
  if (first) throw new LeaseConflictError(first);
  log.info("lease taken", { session, role, ttl });

  let conflicted = false;
  const refresh = async () => {
    try {
      const holder = await holdLease(redis, prefix, { lease, ttl });
      if (holder && !conflicted) {
        conflicted = true;
        log.warn("lease held by another process", { session, holder });
        options.onConflict?.(holder);
      } else if (!holder && conflicted) {
        conflicted = false;
        log.info("lease taken back", { session });
      }
    } catch (error) {
      log.debug("lease refresh failed (Redis unreachable?)", { session, error });
    }
  };
  const timer = setInterval(refresh, Math.max(100, Math.floor(ttl / 3)));
  timer.unref();
  const onReady = () => void refresh();
  redis.on("ready", onReady);

  return {
    lease,
    async stop() {
      clearInterval(timer);
      redis.off("ready", onReady);
      try {
        await releaseLease(redis, prefix, lease);
      } catch (error) {
        log.debug("lease release failed; it expires by itself", { session, error });
      }
    },
  };
}
