// Central takeover at the lease level, against a real redis-server: a dead holder on this
// machine is taken over at once and only if the lease is still the one read; another machine's
// lease, or an unreadable one, only at expiry; a lease with no TTL gets one; an explicit claim
// asks a default-role holder to hand over; drain and ack are refused to a non-holder.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { ackBatch, drainBatch, LeaseNotHeldError } from "../../core/drain.ts";
import { hostId } from "../../core/host.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { LeaseConflictError, startLeaseKeeper } from "../../core/lease-keeper.ts";
import { createLogger } from "../../core/log.ts";
import { pushEvent } from "../../core/push.ts";
import { claimLease, newLease } from "../../core/sessions.ts";
import { pollUntil } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();
const log = createLogger({ kind: "test", level: "error" });
const TTL = 1_000;

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

const keeper = (prefix: string, claim: "explicit" | "default" = "explicit", onHandoverAsked?: () => void) =>
  startLeaseKeeper({ redis, prefix, session: CENTRAL_SESSION, role: "central", claim, ttl: TTL, log, onHandoverAsked });

test("a dead holder on this machine is taken over at once", async () => {
  const prefix = server.prefix();
  const dead = { ...newLease(CENTRAL_SESSION, "central"), pid: deadPid() };
  await redis.set(keysFor(prefix).lease(CENTRAL_SESSION), JSON.stringify(dead), "PX", 60_000);
  const mine = await keeper(prefix);
  assert.equal(JSON.parse((await redis.get(keysFor(prefix).lease(CENTRAL_SESSION)))!).owner, mine.lease.owner);
  await mine.stop();
});

test("the takeover is atomic: a lease that changed since it was read is left alone", async () => {
  const prefix = server.prefix();
  const key = keysFor(prefix).lease(CENTRAL_SESSION);
  const read = JSON.stringify({ ...newLease(CENTRAL_SESSION, "central"), pid: deadPid() });
  const meanwhile = JSON.stringify(newLease(CENTRAL_SESSION, "central"));
  await redis.set(key, meanwhile, "PX", 60_000);
  const result = await claimLease(redis, prefix, { lease: newLease(CENTRAL_SESSION, "central"), ttl: TTL }, read);
  assert.equal(result.held, false);
  assert.equal(await redis.get(key), meanwhile);
});

test("another machine's lease (alive or not) is taken only once it expires", async () => {
  const prefix = server.prefix();
  const foreign = { ...newLease(CENTRAL_SESSION, "central"), hostId: "another-machine", pid: deadPid() };
  await redis.set(keysFor(prefix).lease(CENTRAL_SESSION), JSON.stringify(foreign), "PX", TTL);
  await assert.rejects(keeper(prefix), LeaseConflictError);
  await pollUntil("the foreign lease to expire", async () => (await redis.exists(keysFor(prefix).lease(CENTRAL_SESSION))) === 0, TTL + 2_000);
  await (await keeper(prefix)).stop();
});

test("bad lease values never crash: not JSON, or no pid/host, is another machine's; no TTL is given one", async () => {
  for (const bad of ["not json {", JSON.stringify({ owner: "x" }), "42"]) {
    const prefix = server.prefix();
    const key = keysFor(prefix).lease(CENTRAL_SESSION);
    await redis.set(key, bad); // by hand: no TTL
    const error = await keeper(prefix).catch((e: unknown) => e);
    assert.ok(error instanceof LeaseConflictError, bad);
    const left = await redis.pttl(key);
    assert.ok(left > 0 && left <= TTL, `${bad}: given the lease TTL (${left})`);
    await pollUntil("the bad lease to expire", async () => (await redis.exists(key)) === 0, TTL + 2_000);
    await (await keeper(prefix)).stop();
  }
});

test("an explicit claim asks a default-role holder to hand over; two explicit claims: the first keeps it", async () => {
  const prefix = server.prefix();
  let asked = 0;
  const holder = await keeper(prefix, "default", () => asked++);
  await assert.rejects(keeper(prefix, "explicit"), LeaseConflictError);
  await holder.refresh();
  assert.equal(asked, 1, "the default-role holder heard the request");
  await holder.stop();
  const first = await keeper(prefix, "explicit", () => asked++);
  await assert.rejects(keeper(prefix, "explicit"), LeaseConflictError);
  await first.refresh();
  assert.equal(asked, 1, "an explicit holder is never asked");
  await first.stop();
});

test("drain and ack are refused to a caller that does not hold the lease; the batch stays for the holder", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const holder = await keeper(prefix);
  await pushEvent(redis, config, { id: "guarded", type: "g.h", source: "test" });
  await assert.rejects(drainBatch(redis, config, CENTRAL_SESSION, "not-the-owner"), LeaseNotHeldError);
  assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 1, "nothing drained");
  const batch = await drainBatch(redis, config, CENTRAL_SESSION, holder.lease.owner);
  assert.equal(batch.entries.length, 1);
  await assert.rejects(ackBatch(redis, config, batch, "not-the-owner"), LeaseNotHeldError);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 1, "still in flight");
  assert.equal(await ackBatch(redis, config, batch, holder.lease.owner), 1);
  await holder.stop();
  assert.equal(hostId().length, 32);
});
