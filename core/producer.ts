// The producer's entry point: push events, or spool them when Redis cannot take them now, so a
// producer never loses an event to an outage. A successful connection flushes the spool first
// (older events go first). What spools: Redis unreachable, a failover in progress (READONLY,
// LOADING … retried first for a few seconds), Redis full, and a push fewer replicas confirmed
// than redis.waitReplicas asks. What never spools: an invalid event, a TLS or auth problem.
import { Backoff } from "./backoff.ts";
import { buildEvent, type EventInput, type GatewayEvent } from "./event.ts";
import type { Config } from "./config.ts";
import { withMaxmemory } from "./memory.ts";
import { pushEvents, type PushResult } from "./push.ts";
import { connectRedis, ensureConnected, redisFailure } from "./redis.ts";
import { isTransient, RedisFullError, RedisUnreachableError } from "./redis-errors.ts";
import { confirmReplicated } from "./replication.ts";
import { appendToSpool, flushSpool, type FlushReport } from "./spool.ts";

export type ProducerConfig = Pick<
  Config,
  "redisUrl" | "redis" | "prefix" | "maxEventBytes" | "inboxCap" | "pushDedupeWindow" | "paths"
>;

export interface ProducerOptions {
  /** false: fail with the typed error (RedisUnreachableError, RedisFullError …) instead of spooling. */
  spool?: boolean;
  /** Client name shown in `CLIENT LIST`. */
  name?: string;
}

export interface ProducerOutcome {
  ids: string[];
  /** Set when Redis was reached: one result per event. */
  results?: PushResult[];
  /** With redis.waitReplicas: whether that many replicas confirmed the push (else it is also spooled). */
  replicated?: boolean;
  /** True when the events went to the spool instead (or as well, when not replicated). */
  spooled: boolean;
  /** Why the events were spooled (unreachable, full, not replicated). */
  spoolReason?: string;
  /** Spooled events delivered before these. */
  flushed?: FlushReport;
  /** The spool could not be flushed (these events were still pushed). */
  flushError?: Error;
}

/** How long a producer retries through a failover (READONLY, LOADING, a reset) before spooling. */
const FAILOVER_RETRY_MS = 5000;
const RETRY = { minMs: 100, maxMs: 1000, jitter: 0.2 };

/** One connection: flush, push, confirm. Errors come back typed. */
async function attempt(config: ProducerConfig, events: GatewayEvent[], ids: string[], name: string): Promise<ProducerOutcome> {
  const redis = connectRedis(config, { kind: "producer", name });
  try {
    await ensureConnected(redis);
    const outcome: ProducerOutcome = { ids, spooled: false };
    try {
      outcome.flushed = await flushSpool(redis, config, config.paths.spool);
    } catch (error) {
      const failure = redisFailure(redis, error);
      if (isTransient(failure)) throw failure;
      outcome.flushError = failure as Error;
    }
    outcome.results = await pushEvents(redis, config, events);
    outcome.replicated = await confirmReplicated(redis, config.redis);
    if (outcome.replicated === false) {
      // Same ids: the re-push from the spool is absorbed by the dedupe window where it landed.
      appendToSpool(config.paths.spool, events);
      outcome.spooled = true;
      outcome.spoolReason = `fewer than ${config.redis.waitReplicas} replica(s) confirmed the push within ${config.redis.waitTimeout} ms; kept in the spool until a flush is confirmed`;
    }
    return outcome;
  } catch (error) {
    const failure = redisFailure(redis, error);
    throw failure instanceof RedisFullError ? await withMaxmemory(redis, failure) : failure;
  } finally {
    redis.disconnect();
  }
}

/** Pushes one event or a batch; spools them (same ids) when Redis cannot take them now. */
export async function pushOrSpool(
  config: ProducerConfig,
  input: EventInput | GatewayEvent | readonly (EventInput | GatewayEvent)[],
  { spool = true, name = "agent-gateway-producer" }: ProducerOptions = {},
): Promise<ProducerOutcome> {
  const inputs = Array.isArray(input) ? input : [input];
  const now = Date.now();
  // Validation first: a bad event throws EventError and is never spooled.
  const events = inputs.map((one) => buildEvent(one, config.maxEventBytes, now).event);
  const ids = events.map((event) => event.id);
  const deadline = Date.now() + FAILOVER_RETRY_MS;
  const backoff = new Backoff(RETRY);
  for (;;) {
    try {
      return await attempt(config, events, ids, name);
    } catch (failure) {
      // A refused connection spools at once (Redis is down); a failover is retried a while.
      const failingOver = isTransient(failure) && !(failure instanceof RedisUnreachableError && failure.code === "ECONNREFUSED");
      const pause = backoff.next();
      if (failingOver && Date.now() + pause < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      if (!isTransient(failure) && !(failure instanceof RedisFullError)) throw failure;
      if (!spool) throw failure;
      // The push may have run before the connection dropped: the same ids make a re-push harmless.
      appendToSpool(config.paths.spool, events);
      return { ids, spooled: true, spoolReason: (failure as Error).message };
    }
  }
}
