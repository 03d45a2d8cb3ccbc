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
  /Connection is closed|Stream isn't writeable|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|connect ETIMEDOUT|Command timed out/i;

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
const kinds = new WeakMap<Redis, ConnectOptions["kind"]>();
const PRODUCER_COMMAND_TIMEOUT = 5000;
const CONSUMER_COMMAND_TIMEOUT = 15_000;
/** How long ensureConnected waits for a server that accepted the socket but does not answer. */
const READY_TIMEOUT = 6000;

export function connectRedis(url: string, { kind, name }: ConnectOptions): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: 3000,
    // Consumers: commands fail at once while disconnected and the consumer retries on `ready`.
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "producer" ? 1 : 2,
    retryStrategy: kind === "producer" ? (times) => (times > 2 ? null : 200 * times) : (times) => Math.min(100 * 2 ** times, 5000),
    // A server that accepts the socket but never answers (frozen, SIGSTOPped, a dead NAT) must
    // fail commands rather than hang them; blocking-free subscribers are exempt.
    commandTimeout: kind === "producer" ? PRODUCER_COMMAND_TIMEOUT : kind === "consumer" ? CONSUMER_COMMAND_TIMEOUT : undefined,
  };
  const redis = new Redis(url, options);
  // ioredis emits "error" on every failed reconnect; callers log state changes themselves.
  redis.on("error", () => {});
  urls.set(redis, url);
  kinds.set(redis, kind);
  return redis;
}

/** Opens a short-lived producer connection, runs fn, and always closes the connection. */
export async function withProducer<T>(url: string, name: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = connectRedis(url, { kind: "producer", name });
  try {
    await ensureConnected(redis);
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
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
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A producer gives up (and spools); a consumer keeps reconnecting in the background.
      if (kinds.get(redis) === "producer") redis.disconnect();
      reject(new Error(`connect ETIMEDOUT: no answer within ${READY_TIMEOUT / 1000} s`));
    }, READY_TIMEOUT);
  });
  try {
    await Promise.race([connectOnce(redis), silent]);
  } catch (error) {
    const url = urls.get(redis) ?? `redis://${redis.options.host}:${redis.options.port}`;
    const cause = lastError || (error as Error).message;
    // A server that answered (wrong password, TLS mismatch) is a configuration problem, not an outage.
    if (!TRANSPORT_FAILURE.test(cause)) throw new Error(`Redis at ${maskUrl(url)} refused the connection: ${cause}`);
    throw new RedisUnreachableError(url, cause);
  } finally {
    clearTimeout(timer);
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
