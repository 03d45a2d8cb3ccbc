// The outbound router: a settled reply goes to the channel named by its replyTo
// (`<channel>:<address>`). Replies to Redis events go to the configured default destination,
// or only to the log. HEARTBEAT_OK replies are never sent anywhere but the log. A failing
// channel is logged, never allowed to stop the queue.
import { isHeartbeatOk } from "../core/heartbeat.ts";
import type { Logger } from "../core/log.ts";
import type { Channel, QueueView, ReplyContext, ReplyTo } from "./channel.ts";

/** replyTo of entries that came from Redis events (and heartbeats). */
export const REDIS_REPLY_TO = "redis";
const LOG_ONLY = "log";

/** What became of a reply: sent to a channel, dropped as HEARTBEAT_OK, only logged, or the channel failed. */
export type Delivery = "sent" | "dropped-ok" | "logged" | "failed";

export interface DeliverOptions {
  /** "always": a HEARTBEAT_OK reply is sent too (default: dropped, logged). */
  notify?: "unless-ok" | "always";
}

export class Router {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly log: Logger,
    /** Where replies to Redis events go, e.g. `telegram:123456`; undefined: the log only. */
    private readonly defaultReplyTo?: ReplyTo,
  ) {}

  add(channel: Channel): void {
    this.channels.set(channel.name, channel);
  }

  get channelNames(): string[] {
    return [...this.channels.keys()];
  }

  private resolve(replyTo: ReplyTo): { target: ReplyTo; channel?: Channel } {
    const target = replyTo === REDIS_REPLY_TO ? (this.defaultReplyTo ?? LOG_ONLY) : replyTo;
    const name = target.split(":", 1)[0]!;
    return { target, channel: this.channels.get(name) };
  }

  /** Hands a settled reply to its channel; resolves once the channel took it (or it was logged). */
  async deliver(replyTo: ReplyTo, text: string, context: ReplyContext = {}, options: DeliverOptions = {}): Promise<Delivery> {
    if (options.notify !== "always" && isHeartbeatOk(text)) {
      this.log.info("HEARTBEAT_OK reply not forwarded", { replyTo, chars: text.length });
      return "dropped-ok";
    }
    const { target, channel } = this.resolve(replyTo);
    if (target === LOG_ONLY || !text.trim()) {
      this.log.info("reply (log only)", { replyTo, text });
      return "logged";
    }
    if (!channel) {
      this.log.warn("reply for an unknown channel; logged instead", { replyTo: target, text });
      return "logged";
    }
    try {
      await channel.send(target, text, context);
      return "sent";
    } catch (error) {
      this.log.error("channel failed to send a reply", { replyTo: target, error, text });
      return "failed";
    }
  }

  stream(replyTo: ReplyTo, delta: string, context: ReplyContext = {}): void {
    this.safely(replyTo, (channel, target) => channel.stream?.(target, delta, context));
  }

  runState(replyTo: ReplyTo, state: "running" | "settled", context: ReplyContext = {}): void {
    this.safely(replyTo, (channel, target) => channel.runState?.(target, state, context));
  }

  queueChanged(view: QueueView): void {
    for (const channel of this.channels.values()) {
      try {
        channel.queueChanged?.(view);
      } catch (error) {
        this.log.error("channel failed on a queue change", { channel: channel.name, error });
      }
    }
  }

  private safely(replyTo: ReplyTo, fn: (channel: Channel, target: ReplyTo) => void): void {
    const { target, channel } = this.resolve(replyTo);
    if (!channel) return;
    try {
      fn(channel, target);
    } catch (error) {
      this.log.error("channel callback failed", { replyTo: target, error });
    }
  }
}
