// An ACL user with exactly the permissions docs/production-redis.md gives (no INFO, no CONFIG)
// runs push, drain, status and doctor: what it may not read shows as "unknown", doctor runs
// every check it can and names what is missing, and no ioredis ready-check warning appears.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../core/config.ts";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION } from "../../core/keys.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";

/** The line docs/production-redis.md documents, for prefix "agent" (the default). */
export const GATEWAY_ACL = "on >gateway-secret resetkeys ~agent:* resetchannels &agent:* nocommands +@read +@write +@pubsub +@scripting +@transaction +@connection -@dangerous";

const server = await startRedis();
const admin = server.client();
await admin.call("ACL", "SETUSER", "gateway", ...GATEWAY_ACL.split(" "));
const url = `redis://gateway:gateway-secret@127.0.0.1:${server.port}`;

test("ACL user with the documented permissions: push, drain, status and doctor work; INFO-only fields are unknown", async () => {
  const cli = cliHome(url, "agent");
  const pushed = await cli.run(["push", "acl.ok", "--source", "test"]);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(pushed.stderr, "", "no ready-check warning, no spooling");

  const status = await cli.run(["status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /persistence unknown \(INFO not allowed for this user\)/);
  assert.match(status.stdout, /memory unknown/);
  assert.equal(status.stderr, "");

  const doctor = await cli.run(["doctor", "--json"]);
  const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
  const named = (name: string) => checks.find((c) => c.name === name);
  assert.equal(named("redis")?.status, "ok");
  assert.equal(named("redis permissions")?.status, "ok", named("redis permissions")?.detail);
  assert.equal(named("redis memory")?.status, "warn");
  assert.match(named("redis introspection")?.detail ?? "", /may not run info, config\|get/);
  assert.equal(doctor.stderr, "");

  const config = loadConfig({ AGENT_GATEWAY_HOME: cli.home, REDIS_URL: url });
  const consumer = connectRedis(config, { kind: "consumer", name: "acl-consumer" });
  try {
    await ensureConnected(consumer);
    const batch = await drainBatch(consumer, config, CENTRAL_SESSION);
    assert.deepEqual(batch.entries.map((e) => e.event.type), ["acl.ok"]);
    assert.equal(await ackBatch(consumer, config, batch), 1);
  } finally {
    consumer.disconnect();
  }
});

test("a user without write permission: doctor names the missing commands; push exits 78 naming the user, nothing spooled", async () => {
  await admin.call("ACL", "SETUSER", "reader", "on", ">reader-secret", "~agent:*", "&agent:*", "nocommands", "+@read", "+@connection", "+@scripting", "-@dangerous", "-eval", "-evalsha");
  const cli = cliHome(`redis://reader:reader-secret@127.0.0.1:${server.port}`, "agent");
  const doctor = await cli.run(["doctor", "--json"]);
  const permissions = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === "redis permissions");
  assert.equal(permissions?.status, "fail");
  assert.match(permissions?.detail ?? "", /user reader may not run: eval, evalsha, rpush, lrem, del, publish/);
  const pushed = await cli.run(["push", "acl.denied", "--source", "test"]);
  assert.equal(pushed.code, 78, pushed.stderr);
  assert.match(pushed.stderr, /user reader lacks a permission/);
  assert.equal(pushed.stdout, "");
});

test("a wrong password: exit 78 saying so for that user, never unreachable, nothing spooled", async () => {
  const cli = cliHome(`redis://gateway:not-the-password@127.0.0.1:${server.port}`, "agent");
  const pushed = await cli.run(["push", "acl.wrong", "--source", "test"]);
  assert.equal(pushed.code, 78, pushed.stderr);
  assert.match(pushed.stderr, /wrong password for user gateway/);
  assert.doesNotMatch(pushed.stderr, /unreachable/);
});
