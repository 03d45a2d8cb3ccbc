// Redis ACL: may the configured user run what the gateway runs? Each command is tried in a
// harmless form inside the gateway's own key prefix (a probe key that is deleted again), so a
// NOPERM names the missing permission instead of failing later in a push or drain.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { keysFor } from "../../core/keys.ts";
import { replyCode } from "../../core/redis-errors.ts";
import { result, type CheckResult } from "./check.ts";

export const ACL_DOC = "docs/production-redis.md (ACL SETUSER line)";

type Probe = [command: string, run: (redis: Redis, key: string, channel: string) => Promise<unknown>];

const REQUIRED: Probe[] = [
  ["eval", (r) => r.eval("return 1", 0)],
  ["evalsha", (r) => r.evalsha("0000000000000000000000000000000000000000", 0).catch((e: Error) => (replyCode(e) === "NOSCRIPT" ? 0 : Promise.reject(e)))],
  ["rpush", (r, key) => r.rpush(key, "probe")],
  ["lrange", (r, key) => r.lrange(key, 0, 0)],
  ["llen", (r, key) => r.llen(key)],
  ["lrem", (r, key) => r.lrem(key, 0, "probe")],
  ["smembers", (r, key) => r.smembers(key)],
  ["hgetall", (r, key) => r.hgetall(key)],
  ["scan", (r, key) => r.scan("0", "MATCH", key, "COUNT", 1)],
  ["pttl", (r, key) => r.pttl(key)],
  ["del", (r, key) => r.del(key)],
  ["publish", (r, _key, channel) => r.publish(channel, "probe")],
  ["multi", (r) => r.call("MULTI").then(() => r.call("DISCARD"))],
];
const OPTIONAL: Probe[] = [
  ["info", (r) => r.info("memory")],
  ["config|get", (r) => r.config("GET", "appendonly")],
];

async function denied(redis: Redis, probes: Probe[], prefix: string): Promise<string[]> {
  const keys = keysFor(prefix);
  const key = keys.doctorProbe(randomBytes(4).toString("hex"));
  const channel = keys.notify("doctor-probe");
  const missing: string[] = [];
  for (const [command, run] of probes) {
    try {
      await run(redis, key, channel);
    } catch (error) {
      if (replyCode(error) !== "NOPERM") throw error;
      missing.push(command);
    }
  }
  await redis.del(key).catch(() => undefined);
  return missing;
}

export async function permissionChecks(redis: Redis, prefix: string, user: string): Promise<CheckResult[]> {
  const required = await denied(redis, REQUIRED, prefix);
  const optional = await denied(redis, OPTIONAL, prefix);
  return [
    required.length === 0
      ? result("redis permissions", "ok", `user ${user} may run the gateway's commands on ${prefix}:*`)
      : result("redis permissions", "fail", `user ${user} may not run: ${required.join(", ")} (on ${prefix}:* keys and channels)`, `grant them, e.g. the line in ${ACL_DOC}`),
    optional.length === 0
      ? result("redis introspection", "ok", "INFO and CONFIG GET allowed (persistence and memory policy checked)")
      : result("redis introspection", "warn", `user ${user} may not run ${optional.join(", ")}: persistence or memory policy shown as unknown`, `optional: add ${optional.map((c) => `+${c}`).join(" ")} to the user's ACL, or check them with an admin user`),
  ];
}
