// The consumer loop (core/delivery.ts) for core tests: a real redis-server, the central session's
// lease held, and a recording injector in place of pi (each hand-over kept for the test to
// answer). Extra consumer options (onChange, clock, …) pass through; given a lease, the consumer
// takes over that one (a restarted pi of the same session).
import type { Redis } from "ioredis";
import type { Config } from "../../core/config.ts";
import { Consumer, type ConsumerOptions, type Handover, type PreparedPrompt } from "../../core/delivery.ts";
import { Heartbeats } from "../../core/heartbeat-intake.ts";
import { CENTRAL_SESSION } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { holdLease, newLease, type Lease } from "../../core/sessions.ts";

const log = createLogger({ kind: "test", level: "error" });

export async function recordingConsumer(redis: Redis, config: Config, extra: Partial<ConsumerOptions> = {}, held?: Lease) {
  const lease = held ?? newLease(CENTRAL_SESSION, "central");
  if (!held) await holdLease(redis, config.prefix, { lease, ttl: 600_000 });
  const sent: { prepared: PreparedPrompt; handover: Handover }[] = [];
  const consumer = new Consumer({
    redis,
    config,
    session: () => ({ session: CENTRAL_SESSION, owner: lease.owner }),
    heartbeats: new Heartbeats(config, log, () => {}),
    injector: { hasRoom: () => true, send: (prepared, handover) => void sent.push({ prepared, handover }) },
    log,
    ...extra,
  });
  return { consumer, sent, lease };
}
