// Sessions with leases, against a real redis-server: a satellite whose lease lapses stops
// receiving; the central inbox receives with no session at all; members left without a lease
// are pruned; `push` from a satellite's shell (GATEWAY_SESSION) reports back to it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { holdLease, listSessions, newLease } from "../../core/sessions.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

const ids = async (key: string) => (await redis.lrange(key, 0, -1)).map((raw) => JSON.parse(raw).id as string);

test("a satellite whose lease lapses stops receiving within one lease period", async () => {
  const config = testConfig(server.url, server.prefix(), { leaseTtl: 500 });
  const keys = keysFor(config.prefix);
  const lease = newLease("pid-777", "satellite");
  await holdLease(redis, config.prefix, { lease, ttl: config.leaseTtl });
  const alive = await pushEvent(redis, config, { id: "while-alive", type: "job.done", source: "sh", originSession: "pid-777" });
  assert.equal(alive.delivered, 2);
  // The satellite "crashes": nobody refreshes the lease. One lease period later it is gone.
  await sleep(config.leaseTtl);
  const lapsed = await pushEvent(redis, config, { id: "after-lapse", type: "job.done", source: "sh", originSession: "pid-777" });
  assert.equal(lapsed.delivered, 1);
  assert.deepEqual(await ids(keys.inbox("pid-777")), ["while-alive"]);
  assert.deepEqual(await ids(keys.inbox(CENTRAL_SESSION)), ["after-lapse", "while-alive"]);
  assert.deepEqual(await listSessions(redis, config.prefix), []);
});

test("the central inbox receives with no session running", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const pushed = await cli.run(["push", "backup.done"]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const status = JSON.parse((await cli.run(["status", "--json"])).stdout);
  assert.deepEqual(status.sessions, []);
  const central = status.inboxes.find((i: { session: string }) => i.session === CENTRAL_SESSION);
  assert.equal(central.backlog, 1);
  assert.deepEqual(await ids(keysFor(prefix).inbox(CENTRAL_SESSION)), [pushed.stdout.trim()]);
});

test("members of the sessions set without a lease (seed-era or crashed) are pruned", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  await redis.sadd(keys.sessions, "main", "pid-1", "pid-2");
  await holdLease(redis, prefix, { lease: newLease("pid-2", "satellite"), ttl: 60_000 });
  const status = JSON.parse((await cliHome(server.url, prefix).run(["status", "--json"])).stdout);
  assert.deepEqual(
    status.sessions.map((s: { session: string; lease: { role: string } }) => [s.session, s.lease.role]),
    [["pid-2", "satellite"]],
  );
  assert.ok(status.sessions[0].leaseLeft > 0 && status.sessions[0].leaseLeft <= 60_000);
  assert.deepEqual(await redis.smembers(keys.sessions), ["pid-2"]);
});

test("push run with GATEWAY_SESSION=pid-123 (alive) lands in pid-123 and in the central inbox", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  await holdLease(redis, prefix, { lease: newLease("pid-123", "satellite"), ttl: 60_000 });
  const cli = cliHome(server.url, prefix);
  const pushed = await cli.run(["push", "build.done", "--payload", '{"ok":true}'], { env: { GATEWAY_SESSION: "pid-123" } });
  assert.equal(pushed.code, 0, pushed.stderr);
  const id = pushed.stdout.trim();
  assert.deepEqual(await ids(keys.inbox("pid-123")), [id]);
  assert.deepEqual(await ids(keys.inbox(CENTRAL_SESSION)), [id]);
  const [raw] = await redis.lrange(keys.inbox("pid-123"), 0, -1);
  assert.equal(JSON.parse(raw!).originSession, "pid-123");
});
