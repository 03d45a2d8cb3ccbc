// The extension's two Redis connections: commands (drain, ack, lease) and a separate subscriber
// for the notify channels. Both reconnect for ever; every `ready` is a wake-up, because
// notifications published while a connection was away are lost (see notes/redis.md).
import type { Redis } from "ioredis";
import { connectRedis, type RedisTarget } from "../core/redis.ts";
import type { Logger } from "../core/log.ts";
import { warnOnEvictingPolicy } from "../core/memory.ts";

export type LinkState = "connecting" | "connected" | "reconnecting";

export interface ConnectionEvents {
  /** A connection became ready (first time or after a reconnect). */
  onReady(): void;
  /** A notify message arrived ("handover": an explicit claimant asks for the session). */
  onNotify(channel: string, message: string): void;
  /** The link state changed. */
  onState(state: LinkState): void;
  /** The first connection attempt failed: Redis is down at start. */
  onUnreachable(error: Error): void;
}

export interface Connection {
  commands: Redis;
  subscriber: Redis;
  state(): LinkState;
  listen(channels: string[]): Promise<void>;
  close(): void;
}

export function openConnection(url: RedisTarget, name: string, log: Logger, events: ConnectionEvents): Connection {
  const commands = connectRedis(url, { kind: "consumer", name: `${name}:commands` });
  const subscriber = connectRedis(url, { kind: "subscriber", name: `${name}:notify` });
  let everConnected = false;
  let last: LinkState = "connecting";
  const state = (): LinkState => {
    const ready = commands.status === "ready" && subscriber.status === "ready";
    if (ready) return "connected";
    return everConnected ? "reconnecting" : "connecting";
  };
  const changed = () => {
    const now = state();
    if (now === last) return;
    last = now;
    log.info("redis link", { state: now });
    events.onState(now);
  };
  for (const client of [commands, subscriber]) {
    client.on("ready", () => {
      if (client === commands && !everConnected) void warnOnEvictingPolicy(commands, log);
      if (commands.status === "ready" && subscriber.status === "ready") everConnected = true;
      changed();
      events.onReady();
    });
    client.on("close", changed);
    client.on("reconnecting", changed);
  }
  subscriber.on("message", (channel: string, message: string) => events.onNotify(channel, message));

  let warned = false;
  const firstAttempt = (error: Error) => {
    if (warned || everConnected) return;
    warned = true;
    log.warn("redis unreachable at start; retrying in the background", { error });
    events.onUnreachable(error);
  };
  commands.connect().catch(firstAttempt);
  subscriber.connect().catch(firstAttempt);

  return {
    commands,
    subscriber,
    state,
    // The subscriber queues commands while offline and resubscribes after reconnects by itself.
    listen: async (channels) => void (await subscriber.subscribe(...channels)),
    close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
