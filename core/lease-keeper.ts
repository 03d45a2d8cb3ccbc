// Keeps a session's lease alive: takes it once (at once from a dead holder on this machine, and
// only if the lease is still the one read), refreshes it every ttl/3 on an unref'd timer (never
// keeps a process alive), and takes it again as soon as the Redis client reconnects (a Redis
// restart may have lost it). A default-role holder hears when an explicit claimant asks for the
// session. Used by the pi extension and the daemon.
import type { Redis } from "ioredis";
import type { Logger } from "./log.ts";
import { claimLease, holderIsDead, newLease, releaseLease, type Claim, type Holder, type Lease, type Role } from "./sessions.ts";

export interface LeaseKeeperOptions {
  redis: Redis;
  prefix: string;
  session: string;
  role: Role;
  /** How the session was asked for; default "explicit". */
  claim?: Claim;
  /** Lease TTL, ms. */
  ttl: number;
  log: Logger;
  /** Another live process took the session id after we held it (e.g. while Redis was away). */
  onConflict?(holder: Lease): void;
  /** An explicit claimant asks this default-role holder to hand the session over (once). */
  onHandoverAsked?(): void;
}

export interface LeaseKeeper {
  lease: Lease;
  /** Refreshes now (e.g. on a "handover" notify) instead of at the next tick. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** The session id is held by another live process; `holder` is its lease. */
export class LeaseConflictError extends Error {
  override name = "LeaseConflictError";
  constructor(readonly holder: Holder) {
    super(
      holder.pid > 0
        ? `session ${holder.session} is held by pid ${holder.pid} on ${holder.host} (since ${new Date(holder.started).toISOString()})`
        : `session ${holder.session} is held by an unreadable lease (taken over when it expires)`,
    );
  }
}

/** Takes the lease (rejects with LeaseConflictError when another live process holds it) and keeps it. */
export async function startLeaseKeeper(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
  const { redis, prefix, session, role, ttl, log } = options;
  const lease = newLease(session, role, options.claim ?? "explicit");
  const handle = { lease, ttl };
  let first = await claimLease(redis, prefix, handle);
  if (!first.held && holderIsDead(first.holder)) {
    log.warn("taking over the lease of a dead process on this machine", { session, pid: first.holder.pid });
    first = await claimLease(redis, prefix, handle, first.holder.raw);
  }
  if (!first.held) throw new LeaseConflictError(first.holder);
  log.info("lease taken", { session, role, claim: lease.claim, ttl });

  let conflicted = false;
  let asked = false;
  const refresh = async () => {
    try {
      const result = await claimLease(redis, prefix, handle);
      if (!result.held && !conflicted) {
        conflicted = true;
        log.warn("lease held by another process", { session, holder: result.holder });
        options.onConflict?.(result.holder);
      } else if (result.held && conflicted) {
        conflicted = false;
        log.info("lease taken back", { session });
      }
      if (result.held && result.handoverAsked && !asked) {
        asked = true;
        log.info("an explicit claimant asks for this session", { session });
        options.onHandoverAsked?.();
      }
    } catch (error) {
      log.debug("lease refresh failed (Redis unreachable?)", { session, error });
    }
  };
  const timer = setInterval(refresh, Math.max(100, Math.floor(ttl / 3)));
  timer.unref();
  const onReady = () => void refresh();
  redis.on("ready", onReady);
  if (first.handoverAsked) void refresh();

  return {
    lease,
    refresh,
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
