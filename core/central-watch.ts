// A pi that asked for the central session but runs as a satellite watches the central lease and
// asks to be promoted when it may take it: an explicit claimant at once (it polls every
// min(1 s, ttl/3), so within ttl/3 + 1 s of an expiry or release; each try also asks a
// default-role holder to hand over), a default-role one only after central has stayed free for
// 2 × ttl, so it does not grab central in the gap of a supervisor's restart.
import type { Redis } from "ioredis";
import { CENTRAL_SESSION, keysFor } from "./keys.ts";
import type { Logger } from "./log.ts";
import { holderIsDead, parseLease, type Claim } from "./sessions.ts";

export interface CentralWatchOptions {
  redis: Redis;
  prefix: string;
  claim: Claim;
  /** Lease TTL, ms. */
  ttl: number;
  log: Logger;
  /** Try to take central; resolves true once this process holds it. */
  take(): Promise<boolean>;
}

export interface CentralWatch {
  stop(): void;
}

export function watchCentral(options: CentralWatchOptions): CentralWatch {
  const { redis, prefix, claim, ttl, log } = options;
  const key = keysFor(prefix).lease(CENTRAL_SESSION);
  let freeSince: number | undefined;
  let busy = false;
  let stopped = false;
  const mayTake = async (): Promise<boolean> => {
    const raw = await redis.get(key);
    if (raw !== null) {
      freeSince = undefined;
      return claim === "explicit" || holderIsDead(parseLease(CENTRAL_SESSION, raw));
    }
    freeSince ??= Date.now();
    return claim === "explicit" || Date.now() - freeSince >= 2 * ttl;
  };
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      if ((await mayTake()) && !stopped && (await options.take())) stop();
    } catch (error) {
      log.debug("watching the central lease failed (Redis unreachable?)", { error });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), Math.max(100, Math.min(1_000, Math.floor(ttl / 3))));
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return { stop };
}
