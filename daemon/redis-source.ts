// Redis events into the daemon's command queue, through core's consumer loop (core/delivery.ts):
// a batch is drained only while the queue has room (no automated entry waiting or untaken, the
// queue under its limit), queued as one automated entry, and acknowledged once pi took its
// prompt. A crash in between leaves the batch in flight; the next start gets it back
// (redelivered). Wakes on a notify message, on Redis reconnect (notifications are lost while
// away), when the queue frees up, and on a slow sweep.
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import { Consumer, type Injector } from "../core/delivery.ts";
import { CENTRAL_SESSION, inboxesOf, keysFor } from "../core/keys.ts";
import type { Logger } from "../core/log.ts";
import type { Heartbeats } from "../core/heartbeat-intake.ts";
import type { CommandQueue } from "./queue.ts";
import { REDIS_REPLY_TO } from "./router.ts";

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
      send: (prepared, handover) => {
        queue.addAutomated({
          kind: prepared.onlyHeartbeats ? "heartbeat" : "event",
          source: "redis",
          replyTo: REDIS_REPLY_TO,
          prompt: prepared.prompt,
          chain: prepared.chain,
          onTaken: () => handover.taken(),
          onDone: async (reply, taken) => {
            if (prepared.heartbeat) heartbeats.runSettled(reply);
            // pi never took it (e.g. no model configured): it stays in flight for a later sweep.
            if (!taken) handover.notTaken("pi did not take the batch");
          },
        });
        log.info("events queued", { events: prepared.events, redelivered: prepared.redelivered });
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
