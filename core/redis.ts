// The one Redis connection factory every process uses (extension, CLI, worker, daemon,
// tripwire, doctor, setup). The target is a URL (host, port, AUTH as redis://user:pass@host,
// TLS as rediss://) or the configuration, which adds Sentinel, Cluster and TLS files
// (docs/production-redis.md). Three kinds of client: a consumer (long-lived, reconnects for
// ever, fails commands fast while offline so nothing hangs), a subscriber, and a producer
// (gives up quickly so the caller can spool). Failures come back typed (redis-errors.ts).
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { backoffDelay } from "./backoff.ts";
import { maskUrl } from "./mask.ts";
import type { Config } from "./config.ts";
import { classifyRedisError, RedisConfigError, RedisUnreachableError, replyCode, type ClassifyContext } from "./redis-errors.ts";

export { RedisUnreachableError };

export interface ConnectOptions {
  /** Long-lived consumers reconnect for ever; producers give up fast and spool instead. */
  kind: "consumer" | "producer" | "subscriber";
  /** Client name shown in `CLIENT LIST`. */
  name?: string;
}

/** A URL, or the configuration's redisUrl plus its redis section (Sentinel, Cluster, TLS). */
export type RedisTarget = string | Pick<Config, "redisUrl" | "redis">;

// One masking function (mask.ts); re-exported for the callers that import it from here.
export { maskUrl };

interface ClientInfo extends ClassifyContext {
  kind: ConnectOptions["kind"];
  tls: boolean;
}

const clients = new WeakMap<Redis, ClientInfo>();
const PRODUCER_COMMAND_TIMEOUT = 5000;
const CONSUMER_COMMAND_TIMEOUT = 15_000;
/** How long ensureConnected waits for a server that accepted the socket but does not answer. */
const READY_TIMEOUT = 6000;

const hostPort = (address: string) => {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) };
};

function tlsOptions(url: URL, tls: Config["redis"]["tls"] | undefined): ConnectionOptions | undefined {
  const files = tls && (tls.ca || tls.cert || tls.key || tls.servername);
  if (url.protocol !== "rediss:" && !files) return undefined;
  const read = (file?: string) => (file ? readFileSync(file) : undefined);
  return { ca: read(tls?.ca), cert: read(tls?.cert), key: read(tls?.key), servername: tls?.servername };
}

/** Where the gateway's Redis is, for messages (passwords masked). */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === "string") return maskUrl(target);
  const { sentinels, sentinelName, cluster } = target.redis;
  if (sentinels.length > 0) return `sentinel master "${sentinelName}" via ${sentinels.join(",")}`;
  if (cluster.length > 0) return `cluster ${cluster.join(",")}`;
  return maskUrl(target.redisUrl);
}

function kindOptions(kind: ConnectOptions["kind"]): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 3000,
    // ACL users often may not run INFO; the ready check would only print a warning then.
    enableReadyCheck: false,
    // Consumers: commands fail at once while disconnected and the consumer retries on `ready`.
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "producer" ? 1 : 2,
    retryStrategy: kind === "producer" ? (times) => (times > 2 ? null : 200 * times) : (times) => backoffDelay(times, { minMs: 200, maxMs: 5000 }),
    // A server that accepts the socket but never answers (frozen, SIGSTOPped, a dead NAT) must
    // fail commands rather than hang them; blocking-free subscribers are exempt.
    commandTimeout: kind === "producer" ? PRODUCER_COMMAND_TIMEOUT : kind === "consumer" ? CONSUMER_COMMAND_TIMEOUT : undefined,
  };
}

function build(target: RedisTarget, options: RedisOptions): { redis: Redis; tls: boolean; user?: string } {
  const url = new URL(typeof target === "string" ? target : target.redisUrl);
  const settings = typeof target === "string" ? undefined : target.redis;
  const tls = tlsOptions(url, settings?.tls);
  const auth = { username: decodeURIComponent(url.username) || undefined, password: decodeURIComponent(url.password) || undefined };
  const user = auth.username ?? (auth.password ? "default" : undefined);
  if (settings && settings.sentinels.length > 0) {
    const redis = new Redis({
      ...options,
      ...auth,
      db: Number(url.pathname.slice(1)) || 0,
      sentinels: settings.sentinels.map(hostPort),
      name: settings.sentinelName,
      sentinelPassword: settings.sentinelPassword,
      tls,
      sentinelTLS: tls,
      enableTLSForSentinelMode: tls !== undefined,
      // A failover: follow the new master at once, and replay a write the demoted one refused.
      failoverDetector: true,
      reconnectOnError: (error) => (replyCode(error) === "READONLY" ? 2 : false),
    });
    return { redis, tls: tls !== undefined, user };
  }
  if (settings && settings.cluster.length > 0) {
    const { retryStrategy, enableOfflineQueue, lazyConnect, maxRetriesPerRequest, ...node } = options;
    const clusterOptions: ClusterOptions = {
      lazyConnect,
      enableOfflineQueue,
      enableReadyCheck: false,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...node, ...auth, tls, maxRetriesPerRequest },
    };
    // Cluster speaks the same commands as Redis for everything the gateway sends; callers that
    // must see every node (SCAN) ask for its masters (scan.ts).
    const redis = new Cluster(settings.cluster.map(hostPort), clusterOptions) as unknown as Redis;
    return { redis, tls: tls !== undefined, user };
  }
  return { redis: new Redis(url.toString(), { ...options, tls }), tls: tls !== undefined, user };
}

export function connectRedis(target: RedisTarget, { kind, name }: ConnectOptions): Redis {
  const { redis, tls, user } = build(target, { ...kindOptions(kind), connectionName: name });
  // ioredis emits "error" on every failed reconnect; callers log state changes themselves.
  redis.on("error", () => {});
  clients.set(redis, { kind, tls, user, where: describeTarget(target) });
  return redis;
}

/** Redis is a Cluster client: SCAN and INFO must visit each master. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}

/** The typed form (redis-errors.ts) of an error a command on this client threw. */
export function redisFailure(redis: Redis, error: unknown): unknown {
  const info = clients.get(redis) ?? { where: `redis://${redis.options?.host}:${redis.options?.port}` };
  return classifyRedisError(error, info);
}

/** Opens a short-lived producer connection, runs fn, and always closes the connection. */
export async function withProducer<T>(target: RedisTarget, name: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = connectRedis(target, { kind: "producer", name });
  try {
    await ensureConnected(redis);
    return await fn(redis);
  } catch (error) {
    throw redisFailure(redis, error);
  } finally {
    redis.disconnect();
  }
}

/**
 * Connects a lazily created client. Rejects with a typed failure: RedisUnreachableError naming
 * where and the socket's own error (e.g. ECONNREFUSED), or RedisConfigError for TLS and
 * credentials (the client is closed then: retrying cannot help).
 */
export async function ensureConnected(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  let lastError: Error | undefined;
  const remember = (error: Error) => (lastError = error);
  redis.on("error", remember);
  const info = clients.get(redis);
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A producer gives up (and spools); a consumer keeps reconnecting in the background.
      if (info?.kind === "producer") redis.disconnect();
      reject(Object.assign(new Error(`connect ETIMEDOUT: no answer within ${READY_TIMEOUT / 1000} s`), { code: "ETIMEDOUT" }));
    }, READY_TIMEOUT);
  });
  try {
    await Promise.race([connectOnce(redis), silent]);
    // Without the ready check, a bad password or missing permission shows on the first command.
    await redis.ping();
  } catch (error) {
    // The socket's own error (ECONNREFUSED, a TLS alert) says more than "Connection is closed".
    const cause = lastError && !replyCode(error) ? lastError : error;
    const where = info?.where ?? "redis";
    const failure = classifyRedisError(cause, { where, user: info?.user, freshTls: info?.tls });
    if (failure instanceof RedisConfigError) redis.disconnect();
    if (failure !== cause) throw failure;
    throw new RedisUnreachableError(where, (cause as Error).message ?? String(cause), { cause });
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
