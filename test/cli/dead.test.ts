// `agent-gateway dead <sid>` as a user runs it: list with reasons, requeue (valid entries go
// back to the inbox; invalid ones stay, reported), purge one id or all.
import assert from "node:assert/strict";
import { test } from "node:test";
import { drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

/** Two overflowed events (o1, o2) and one malformed entry, all in the central dead letters. */
async function deadLetters() {
  const config = testConfig(server.url, server.prefix(), { inboxCap: 1 });
  const keys = keysFor(config.prefix);
  await pushEvents(redis, config, ["o1", "o2", "kept"].map((id) => ({ id, type: "build.done", source: "ci" })));
  await redis.del(keys.inbox(CENTRAL_SESSION));
  await redis.lpush(keys.inbox(CENTRAL_SESSION), '{"id":"bad","type":"t"}');
  await drainBatch(redis, config, CENTRAL_SESSION); // dead-letters the malformed entry
  return { config, keys, cli: cliHome(server.url, config.prefix) };
}

test("dead lists the dead letters, oldest first, with their reasons", async () => {
  const { cli } = await deadLetters();
  const listed = await cli.run(["dead", CENTRAL_SESSION]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^3 dead letter\(s\) for gateway, oldest first:/);
  assert.match(listed.stdout, /WHEN\s+ID\s+TYPE\s+REASON/);
  assert.match(listed.stdout, /o1\s+build\.done\s+overflow/);
  assert.match(listed.stdout, /bad\s+t\s+invalid event: source/);
  const one = JSON.parse((await cli.run(["dead", CENTRAL_SESSION, "--id", "o2", "--json"])).stdout);
  assert.deepEqual(one.map((d: { id: string; reason: string }) => [d.id, d.reason]), [["o2", "overflow"]]);
  const none = await cli.run(["dead", "pid-9"]);
  assert.equal(none.stdout.trim(), "no dead letters for pid-9");
});

test("dead --requeue moves valid entries back to the inbox and leaves the invalid one, saying why", async () => {
  const { cli, keys } = await deadLetters();
  const result = await cli.run(["dead", CENTRAL_SESSION, "--requeue"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "requeued 2 dead letter(s) to the inbox of gateway");
  assert.match(result.stderr, /left bad: it would fail again \(invalid event: source/);
  const inbox = (await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id);
  assert.deepEqual(inbox, ["o2", "o1"]);
  const remaining = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(JSON.parse(raw).raw).id);
  assert.deepEqual(remaining, ["bad"]);
});

test("dead --purge --id deletes one; --purge deletes the rest; an unknown id is an error", async () => {
  const { cli, keys } = await deadLetters();
  assert.equal((await cli.run(["dead", CENTRAL_SESSION, "--purge", "--id", "o1"])).stdout.trim(), "purged 1 dead letter(s) of gateway");
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 2);
  const unknown = await cli.run(["dead", CENTRAL_SESSION, "--requeue", "--id", "nope"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no dead letter with id nope/);
  assert.equal((await cli.run(["dead", CENTRAL_SESSION, "--purge"])).stdout.trim(), "purged 2 dead letter(s) of gateway");
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 0);
});
