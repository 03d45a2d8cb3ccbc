// Redis connections. REDIS_URL carries host, port, AUTH (redis://user:pass@host) and TLS
// (rediss://). Two kinds of client: a consumer (long-lived, reconnects for ever, fails commands
// fast while offline so nothing hangs) and a producer (gives up quickly so the caller can spool).
import { Redis, type RedisOptions } from "ioredis";

export interface ConnectOptions {
  /** Long-lived consumers reconnect for ever; producers give up fast and spool instead. */
  kind: "consumer" | "producer" | "subscriber";
  /** Client name shown in `CLIENT LIST`. */
  name?: string;
}

export function connectRedis(url: string, { kind, name }: ConnectOptions): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: 3000,
    // Consumers: commands fail at once while disconnected and the consumer retries on `ready`.
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "producer" ? 1 : 2,
    retryStrategy: kind === "producer" ? (times) => (times > 2 ? null : 200 * times) : (times) => Math.min(100 * 2 ** times, 5000),
  };
  const redis = new Redis(url, options);
  // ioredis emits "error" on every failed reconnect; callers log state changes themselves.
  redis.on("error", () => {});
  return redis;
}

/** Connects a lazily created client; rejects with the cause when Redis is unreachable. */
export async function ensureConnected(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  if (redis.status === "wait" || redis.status === "end") {
    await redis.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("Redis connection closed"));
    };
    const cleanup = () => {
      redis.off("ready", onReady);
      redis.off("end", onEnd);
    };
    redis.once("ready", onReady);
    redis.once("end", onEnd);
  });
}
