// Redis events into the daemon's command queue, through core's consumer loop (core/delivery.ts):
// a batch is drained only while the queue has room (no automated entry waiting or untaken, the
// queue under its limit), queued as one automated entry — plus one entry per verified schedule
// firing in it, answered to the schedule's replyTo — and acknowledged once pi took them all. A
// crash in between leaves the batch in flight; the next start gets it back (redelivered). Wakes on a notify message, on Redis reconnect (notifications are lost while
// away), when the queue frees up, and on a slow sweep.
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import { Consumer, type Injector } from "../core/delivery.ts";
import { CENTRAL_SESSION, inboxesOf, keysFor } from "../core/keys.ts";
import type { Logger } from "../core/log.ts";
import type { Heartbeats } from "../core/heartbeat-intake.ts";
import type { CommandQueue } from "./queue.ts";
import { recordScheduleResult, type ScheduleResult } from "../core/schedule-result.ts";
import { REDIS_REPLY_TO, type Delivery } from "./router.ts";

const RESULT_OF: Record<Delivery, ScheduleResult> = { sent: "reply sent", "dropped-ok": "dropped as ok", logged: "reply logged", failed: "reply failed" };

export interface RedisSourceOptions {
  config: Config;
  redis: Redis;
  subscriber: Redis;
  queue: CommandQueue;
  heartbeats: Heartbeats;
  /** The central lease's owner token (drain and ack are refused without it). */
  owner(): string;
  log: Logger;
}

export class RedisSource {
  private readonly consumer: Consumer;
  private sweep: NodeJS.Timeout | undefined;
  private readonly onWake = () => this.consumer.wake("redis");

  constructor(private readonly options: RedisSourceOptions) {
    const { config, redis, queue, heartbeats, log } = options;
    const injector: Injector = {
      hasRoom: () => queue.automatedWaiting === 0 && queue.size < config.daemon.queueLimit,
      schedulesApart: true,
      send: (prepared, handover) => {
        // The batch is acknowledged once pi took every entry made of it; an entry pi never takes
        // leaves the whole batch in flight (redelivered later).
        let untaken = (prepared.prompt ? 1 : 0) + prepared.schedules.length;
        const taken = async () => {
          if (--untaken === 0) await handover.taken();
        };
        if (prepared.prompt) {
          queue.addAutomated({
            kind: prepared.onlyHeartbeats ? "heartbeat" : "event",
            source: "redis",
            replyTo: REDIS_REPLY_TO,
            prompt: prepared.prompt,
            chain: prepared.chain,
            onTaken: taken,
            onDone: async (reply, wasTaken) => {
              if (prepared.heartbeat) heartbeats.runSettled(reply);
              // pi never took it (e.g. no model configured): it stays in flight for a later sweep.
              if (!wasTaken) handover.notTaken("pi did not take the batch");
            },
          });
        }
        // Each verified schedule firing is its own entry; its reply goes to the schedule's replyTo
        // (else daemon.replyTo), and "nothing to report" is dropped unless notify is "always".
        for (const { prompt, schedule } of prepared.schedules) {
          queue.addAutomated({
            kind: "event",
            source: `schedule:${schedule.id}`,
            replyTo: schedule.def.replyTo ?? REDIS_REPLY_TO,
            prompt,
            chain: prepared.chain,
            schedule: { id: schedule.id, slot: schedule.slot, notify: schedule.def.notify },
            onTaken: taken,
            onDone: async (_reply, wasTaken, delivery) => {
              if (!wasTaken) return handover.notTaken(`pi did not take the prompt of schedule "${schedule.id}"`);
              const result = RESULT_OF[delivery];
              log.info("scheduled prompt answered", { schedule: schedule.id, slot: schedule.slot, result });
              await recordScheduleResult(redis, config.prefix, schedule.id, { result, slot: Date.parse(schedule.slot), at: Date.now() });
            },
          });
        }
        log.info("events queued", { events: prepared.events, schedules: prepared.schedules.map((s) => s.schedule.id), redelivered: prepared.redelivered });
      },
    };
    this.consumer = new Consumer({
      redis,
      config,
      session: () => ({ session: CENTRAL_SESSION, owner: options.owner() }),
      heartbeats,
      injector,
      log,
    });
  }

  async start(): Promise<void> {
    const { subscriber, redis, queue, config } = this.options;
    const keys = keysFor(config.prefix);
    subscriber.on("message", this.onWake);
    subscriber.on("ready", this.onWake);
    redis.on("ready", this.onWake);
    await subscriber.subscribe(...inboxesOf(CENTRAL_SESSION).map(keys.notify));
    queue.on("change", this.onWake);
    this.sweep = setInterval(this.onWake, config.sweepInterval);
    this.sweep.unref();
    this.onWake();
  }

  /** Stops draining; a batch pi takes after this is still acknowledged. */
  async stop(): Promise<void> {
    clearInterval(this.sweep);
    const { subscriber, redis, queue } = this.options;
    subscriber.off("message", this.onWake);
    subscriber.off("ready", this.onWake);
    redis.off("ready", this.onWake);
    queue.off("change", this.onWake);
    this.consumer.stop();
  }
}
