// Redis events into the command queue. Events stay in Redis until the daemon has room: a batch
// is drained (core's atomic script, parking it in the in-flight list) only while no automated
// entry is waiting or still untaken, and acknowledged once pi took its prompt. A crash in
// between leaves the batch in flight; the next start gets it back (redelivered). Wakes on a
// notify message, on Redis reconnect (notifications are lost while away), when the queue
// frees up, and on a slow sweep.
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import { ackBatch, drainBatch, type Batch } from "../core/drain.ts";
import { formatBatch } from "../core/format.ts";
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
  log: Logger;
}

export class RedisSource {
  /** A drained batch the daemon queued and that is not acknowledged yet. */
  private pending = false;
  /** pi took it, but the acknowledgement failed (Redis away): retried before any new drain. */
  private unacked: Batch | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private sweep: NodeJS.Timeout | undefined;
  private readonly onMessage = () => this.wake();
  private readonly onChange = () => this.wake();

  constructor(private readonly options: RedisSourceOptions) {}

  async start(): Promise<void> {
    const { subscriber, redis, queue, config } = this.options;
    const keys = keysFor(config.prefix);
    subscriber.on("message", this.onMessage);
    subscriber.on("ready", this.onMessage);
    redis.on("ready", this.onMessage);
    await subscriber.subscribe(...inboxesOf(CENTRAL_SESSION).map(keys.notify));
    queue.on("change", this.onChange);
    this.sweep = setInterval(this.onMessage, config.sweepInterval);
    this.sweep.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    const { subscriber, redis, queue } = this.options;
    subscriber.off("message", this.onMessage);
    subscriber.off("ready", this.onMessage);
    redis.off("ready", this.onMessage);
    queue.off("change", this.onChange);
    await this.pumping;
  }

  /** Drains until there is nothing more, or no room. Runs one at a time. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        try {
          while (await this.drainOnce());
        } catch (error) {
          this.options.log.warn("draining Redis failed; retrying on the next wake-up", { error });
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.pumping = undefined));
  }

  private hasRoom(): boolean {
    const { queue, config } = this.options;
    return !this.stopped && !this.pending && queue.automatedWaiting === 0 && queue.size < config.daemon.queueLimit;
  }

  /** One batch into the queue; true when another drain may find more. */
  private async drainOnce(): Promise<boolean> {
    if (this.unacked && !(await this.acknowledge())) return false;
    if (!this.hasRoom()) return false;
    const { redis, config, queue, heartbeats, log } = this.options;
    const batch = await drainBatch(redis, config, CENTRAL_SESSION);
    for (const { reason } of batch.deadLettered) log.warn("event dead-lettered", { reason });
    if (batch.entries.length === 0) return batch.deadLettered.length > 0;
    const intake = await heartbeats.intake(redis, batch.entries.map((e) => e.event));
    if (intake.events.length === 0) {
      // Only heartbeats, and the policy says no prompt: they were recorded; nothing to run.
      await ackBatch(redis, config, batch);
      return true;
    }
    const formatted = formatBatch(intake.events, {
      redelivered: batch.redelivered,
      maxEventAge: config.maxEventAge,
      timeZone: config.heartbeat.timezone,
      heartbeat: intake.checklist !== undefined ? { checklist: intake.checklist } : undefined,
    });
    const heartbeatPrompt = intake.checklist !== undefined;
    const onlyHeartbeats = formatted.heartbeats === intake.events.length;
    this.pending = true;
    queue.addAutomated({
      kind: onlyHeartbeats ? "heartbeat" : "event",
      source: "redis",
      replyTo: REDIS_REPLY_TO,
      prompt: formatted.prompt,
      onTaken: () => this.taken(batch, heartbeatPrompt),
      onDone: async (reply, taken) => {
        if (heartbeatPrompt) heartbeats.runSettled(reply);
        if (!taken) {
          // pi never took it (e.g. no model configured): it stays in flight for a later sweep.
          log.warn("pi did not take a batch of events; it stays in flight and is retried", { events: batch.entries.length });
          this.pending = false;
        }
      },
    });
    log.info("events queued", { events: batch.entries.length, redelivered: batch.redelivered, listed: formatted.listed, heartbeats: formatted.heartbeats });
    return false;
  }

  private async taken(batch: Batch, heartbeatPrompt: boolean): Promise<void> {
    if (heartbeatPrompt) this.options.heartbeats.promptTaken();
    this.unacked = batch;
    if (await this.acknowledge()) this.wake();
  }

  private async acknowledge(): Promise<boolean> {
    const { redis, config, log } = this.options;
    if (!this.unacked) return true;
    try {
      await ackBatch(redis, config, this.unacked);
    } catch (error) {
      log.warn("acknowledging a taken batch failed; retrying before the next drain", { error });
      return false;
    }
    this.unacked = undefined;
    this.pending = false;
    return true;
  }
}
