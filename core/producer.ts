// The producer's entry point: push events, or spool them when Redis is unreachable, so a
// producer never loses an event to an outage. A successful connection flushes the spool first
// (older events go first). Only "Redis unreachable" spools: an invalid event is an error.
import { buildEvent, type EventInput, type GatewayEvent } from "./event.ts";
import type { Config } from "./config.ts";
import { pushEvents, type PushResult } from "./push.ts";
import { asUnreachable, connectRedis, ensureConnected, isUnreachable } from "./redis.ts";
import { appendToSpool, flushSpool, type FlushReport } from "./spool.ts";

export type ProducerConfig = Pick<
  Config,
  "redisUrl" | "prefix" | "maxEventBytes" | "inboxCap" | "pushDedupeWindow" | "paths"
>;

export interface ProducerOptions {
  /** false: fail with RedisUnreachableError instead of spooling (nothing is written). */
  spool?: boolean;
  /** Client name shown in `CLIENT LIST`. */
  name?: string;
}

export interface ProducerOutcome {
  ids: string[];
  /** Set when Redis was reached: one result per event. */
  results?: PushResult[];
  /** True when the events went to the spool instead. */
  spooled: boolean;
  /** Why the events were spooled (the unreachable-Redis message). */
  spoolReason?: string;
  /** Spooled events delivered before these. */
  flushed?: FlushReport;
  /** The spool could not be flushed (these events were still pushed). */
  flushError?: Error;
}

/** Pushes one event or a batch; spools them (same ids) when Redis cannot be reached. */
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
  const redis = connectRedis(config.redisUrl, { kind: "producer", name });
  try {
    await ensureConnected(redis);
    const outcome: ProducerOutcome = { ids, spooled: false };
    try {
      outcome.flushed = await flushSpool(redis, config, config.paths.spool);
    } catch (error) {
      if (isUnreachable(error)) throw error;
      outcome.flushError = error as Error;
    }
    outcome.results = await pushEvents(redis, config, events);
    return outcome;
  } catch (error) {
    const unreachable = asUnreachable(error, config.redisUrl);
    if (!unreachable) throw error;
    if (!spool) throw unreachable;
    // The push may have run before the connection dropped: the same ids make a re-push harmless.
    appendToSpool(config.paths.spool, events);
    return { ids, spooled: true, spoolReason: unreachable.message };
  } finally {
    redis.disconnect();
  }
}
