// `agent-gateway tail <sid>` against a real Redis: shows what waits, then each event as it is
// pushed, one line each; the inbox is only read, never consumed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { newEntries } from "../../scripts/commands/tail.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = connectRedis(server.url, { kind: "producer" });
await ensureConnected(redis);
test.after(() => redis.disconnect());

test("tail shows events as they arrive and leaves the inbox untouched", async () => {
  const config = testConfig(server.url, server.prefix());
  const inbox = keysFor(config.prefix).inbox(CENTRAL_SESSION);
  await pushEvent(redis, config, { id: "waiting-1", type: "old.news", source: "before" });
  const tail = cliHome(server.url, config.prefix).start(["tail", CENTRAL_SESSION]);
  await tail.waitFor("stderr", /following /);
  assert.match(tail.stdout(), /old\.news {2}from before {2}id waiting-1/);

  for (const n of [1, 2, 3]) {
    await pushEvent(redis, config, { id: `live-${n}`, type: "build.done", source: "ci", payload: { n }, priority: n === 3 ? "urgent" : undefined });
    await tail.waitFor("stdout", new RegExp(`id live-${n}`));
  }
  // The seed's way in (LPUSH + PUBLISH by hand) shows too, and so does a malformed entry.
  await redis.lpush(inbox, '{"id":"test","type":"test","source":"manual","payload":{},"ts":0}', "not json");
  await redis.publish(keysFor(config.prefix).notify(CENTRAL_SESSION), "test");
  await tail.waitFor("stdout", /invalid entry: not JSON/);

  const lines = tail.stdout().trim().split("\n");
  assert.equal(lines.length, 6, tail.stdout());
  assert.deepEqual(lines.map((l) => / {2}id (\S+)/.exec(l)?.[1] ?? "-"), ["waiting-1", "live-1", "live-2", "live-3", "test", "-"]);
  assert.match(lines[3]!, /urgent {2}\{"n":3\}$/);
  assert.equal(await tail.stop(), 0);
  const ids = (await redis.lrange(inbox, 0, -1)).map((raw) => (raw.startsWith("{") ? JSON.parse(raw).id : raw));
  assert.deepEqual(ids, ["not json", "test", "live-3", "live-2", "live-1", "waiting-1"]);
});

test("tail --json prints each entry exactly as stored", async () => {
  const config = testConfig(server.url, server.prefix());
  const tail = cliHome(server.url, config.prefix).start(["tail", CENTRAL_SESSION, "--json", "-n", "0"]);
  await tail.waitFor("stderr", /following /);
  await pushEvent(redis, config, { id: "raw-1", type: "t", source: "s", payload: { a: [1, 2] } });
  await tail.waitFor("stdout", /raw-1/);
  const [stored] = await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(tail.stdout(), stored + "\n");
  assert.equal(await tail.stop(), 0);
});

test("new entries between two looks: drained from the old end, pushed at the new end", () => {
  assert.deepEqual(newEntries([], ["a"]), ["a"]);
  assert.deepEqual(newEntries(["a", "b"], ["b", "c"]), ["c"]);
  assert.deepEqual(newEntries(["a", "b"], ["b", "a"]), ["a"]); // the same entry pushed again
  assert.deepEqual(newEntries(["a", "a"], ["a", "a", "a"]), ["a"]);
  assert.deepEqual(newEntries(["a", "b"], []), []);
  assert.deepEqual(newEntries(["a", "b"], ["c", "d"]), ["c", "d"]);
});
