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

/** Redis is down or unreachable: the one failure a producer answers by spooling. */
export class RedisUnreachableError extends Error {
  override name = "RedisUnreachableError";
  constructor(url: string, cause: string) {
    super(`Redis at ${maskUrl(url)} is unreachable (${cause})`);
  }
}

/** Redis URL with any password masked, for messages. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

// ioredis reports a dead server as "Connection is closed"; these say the transport failed,
// as opposed to Redis answering with an error (auth, script, wrong type).
const TRANSPORT_FAILURE =
  /Connection is closed|Stream isn't writeable|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|connect ETIMEDOUT/i;

/** True when the error means Redis could not be reached (not that it refused a command). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof RedisUnreachableError || (error instanceof Error && TRANSPORT_FAILURE.test(error.message));
}

/** The error as a RedisUnreachableError when it is a transport failure; undefined otherwise. */
export function asUnreachable(error: unknown, url: string): RedisUnreachableError | undefined {
  if (error instanceof RedisUnreachableError) return error;
  return isUnreachable(error) ? new RedisUnreachableError(url, (error as Error).message) : undefined;
}

const urls = new WeakMap<Redis, string>();

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
  urls.set(redis, url);
  return redis;
}

/**
 * Connects a lazily created client. When Redis is unreachable it rejects with a
 * RedisUnreachableError naming the URL and the socket's own error (e.g. ECONNREFUSED).
 */
export async function ensureConnected(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  let lastError = "";
  const remember = (error: Error) => (lastError = error.message);
  redis.on("error", remember);
  try {
    await connectOnce(redis);
  } catch (error) {
    const url = urls.get(redis) ?? `redis://${redis.options.host}:${redis.options.port}`;
    const cause = lastError || (error as Error).message;
    // A server that answered (wrong password, TLS mismatch) is a configuration problem, not an outage.
    if (!TRANSPORT_FAILURE.test(cause)) throw new Error(`Redis at ${maskUrl(url)} refused the connection: ${cause}`);
    throw new RedisUnreachableError(url, cause);
  } finally {
    redis.off("error", remember);
  }
}

async function connectOnce(redis: Redis): Promise<void> {
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
