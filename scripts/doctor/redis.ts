// Redis: reachable; not open to the network without a password; persistent enough that a
// restart keeps the inboxes (AOF or RDB).
import type { Redis } from "ioredis";
import { readPersistence } from "../../core/inspect.ts";
import { connectRedis, ensureConnected, RedisUnreachableError } from "../../core/redis.ts";
import { safeUrl } from "../cli-kit.ts";
import { isLoopbackBind } from "../setup/redis.ts";
import { result, type Check, type CheckResult } from "./check.ts";

const START_HINT =
  "start Redis: systemctl start redis-server (no systemd: redis-server /etc/redis/redis.conf --daemonize yes; macOS: brew services start redis), or fix REDIS_URL / config.json redisUrl";

async function exposure(redis: Redis, url: URL): Promise<CheckResult> {
  if (url.password) return result("redis access", "ok", "authenticated (password in REDIS_URL)");
  let bind: string | undefined;
  try {
    [, bind] = (await redis.config("GET", "bind")) as [string, string];
  } catch {
    return result("redis access", "warn", "no password, and CONFIG GET bind is not allowed: cannot tell who can reach it");
  }
  return isLoopbackBind(bind ?? "")
    ? result("redis access", "ok", `bound to loopback (${bind})`)
    : result(
        "redis access",
        "warn",
        `listens on "${bind || "every interface"}" with no password`,
        'bind it to loopback: redis-cli CONFIG SET bind "127.0.0.1 -::1" && redis-cli CONFIG REWRITE (or set requirepass and put the password in REDIS_URL)',
      );
}

export const redisChecks: Check = async ({ config }) => {
  const redis = connectRedis(config.redisUrl, { kind: "producer", name: "agent-gateway-doctor" });
  try {
    await ensureConnected(redis);
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    // ensureConnected's RedisUnreachableError already names the URL.
    const message = error instanceof RedisUnreachableError ? error.message : `${safeUrl(config.redisUrl)} is unreachable: ${(error as Error).message}`;
    return [result("redis", "fail", message, START_HINT)];
  }
  try {
    const reachable = result("redis", "ok", `reachable at ${safeUrl(config.redisUrl)}`);
    const access = await exposure(redis, new URL(config.redisUrl));
    const persistence = await readPersistence(redis);
    const kept =
      persistence.mode === "none"
        ? result("redis persistence", "warn", "AOF and RDB are both off: a Redis restart loses waiting events", "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE")
        : result("redis persistence", persistence.aof ? "ok" : "warn", persistence.aof ? `mode ${persistence.mode}` : `mode ${persistence.mode} (AOF off: events since the last snapshot can be lost)`, persistence.aof ? undefined : "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE");
    return [reachable, access, kept];
  } finally {
    redis.disconnect();
  }
};
