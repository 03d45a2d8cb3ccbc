// Redis: reachable; not open to the network without a password; persistent enough that a
// restart keeps the inboxes (AOF or RDB); a memory policy that does not evict events; an ACL
// user with the permissions the gateway needs. Each check runs on its own: one that the user
// may not run is reported, the others still run.
import type { Redis } from "ioredis";
import { readPersistence } from "../../core/inspect.ts";
import { evictionWarning, readMemory } from "../../core/memory.ts";
import { connectRedis, describeTarget, ensureConnected, redisFailure } from "../../core/redis.ts";
import { formatBytes, RedisConfigError } from "../../core/redis-errors.ts";
import { isLoopbackBind } from "../setup/redis.ts";
import { result, type Check, type CheckResult } from "./check.ts";
import { permissionChecks } from "./permissions.ts";

const START_HINT =
  "start Redis: systemctl start redis-server (no systemd: redis-server /etc/redis/redis.conf --daemonize yes; macOS: brew services start redis), or fix REDIS_URL / config.json redisUrl";
const AOF_FIX = "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG REWRITE";

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

async function persistence(redis: Redis): Promise<CheckResult> {
  const p = await readPersistence(redis);
  if (p.aof === undefined) return result("redis persistence", "warn", "unknown: INFO is not allowed for this user", "check appendonly with an admin user, or grant +info");
  if (p.mode === "none") return result("redis persistence", "warn", "AOF and RDB are both off: a Redis restart loses waiting events", AOF_FIX);
  return p.aof ? result("redis persistence", "ok", `mode ${p.mode}`) : result("redis persistence", "warn", `mode ${p.mode} (AOF off: events since the last snapshot can be lost)`, AOF_FIX);
}

async function memory(redis: Redis): Promise<CheckResult> {
  const settings = await readMemory(redis);
  if (settings.policy === undefined) return result("redis memory", "warn", "unknown: INFO is not allowed for this user", "check maxmemory-policy with an admin user (it must be noeviction), or grant +info");
  const evicting = evictionWarning(settings);
  if (evicting) return result("redis memory", "warn", evicting.warning, evicting.fix);
  const limit = settings.maxmemory ? `maxmemory ${formatBytes(settings.maxmemory)}` : "no maxmemory";
  return result("redis memory", "ok", `${limit}, policy ${settings.policy}${settings.maxmemory ? " (a full Redis refuses pushes; producers spool)" : ""}`);
}

/** Runs one check; a Redis error becomes a failed check of that name instead of ending doctor. */
async function guarded(redis: Redis, name: string, check: () => Promise<CheckResult | CheckResult[]>): Promise<CheckResult[]> {
  try {
    return [await check()].flat();
  } catch (error) {
    return [result(name, "fail", (redisFailure(redis, error) as Error).message)];
  }
}

export const redisChecks: Check = async ({ config }) => {
  const where = describeTarget(config);
  const redis = connectRedis(config, { kind: "producer", name: "agent-gateway-doctor" });
  try {
    await ensureConnected(redis);
  } catch (error) {
    redis.disconnect();
    if (error instanceof RedisConfigError) return [result("redis", "fail", error.message, error.fix)];
    return [result("redis", "fail", (error as Error).message, START_HINT)];
  }
  try {
    const url = new URL(config.redisUrl);
    const user = decodeURIComponent(url.username) || "default";
    return [
      result("redis", "ok", `reachable at ${where}`),
      ...(await guarded(redis, "redis access", () => exposure(redis, url))),
      ...(await guarded(redis, "redis persistence", () => persistence(redis))),
      ...(await guarded(redis, "redis memory", () => memory(redis))),
      ...(await guarded(redis, "redis permissions", () => permissionChecks(redis, config.prefix, user))),
    ];
  } finally {
    redis.disconnect();
  }
};
