// The producer spool against a real redis-server: events that cannot reach Redis wait in
// <home>/spool.jsonl with their ids fixed; a flush delivers each exactly once even when
// producers append and flushes run at the same time, or a flush died half way; corrupt lines
// are moved aside with a reason; invalid events are never spooled.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EventError } from "../../core/event.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { pushEvents } from "../../core/push.ts";
import { connectRedis, ensureConnected, RedisUnreachableError } from "../../core/redis.ts";
import { countSpooled, flushSpool, rejectedPath } from "../../core/spool.ts";
import { freePort, startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = connectRedis(server.url, { kind: "consumer" });
await ensureConnected(redis);
const deadUrl = `redis://127.0.0.1:${await freePort()}`;
const root = mkdtempSync(join(tmpdir(), "agent-gateway-spool-"));
test.after(() => {
  redis.disconnect();
  rmSync(root, { recursive: true, force: true });
});

function setup(name: string, url = server.url) {
  const home = join(root, name);
  const base = testConfig(url, server.prefix());
  const config = { ...base, home, paths: { ...base.paths, spool: join(home, "spool.jsonl") } };
  return { config, home, keys: keysFor(config.prefix) };
}

const centralIds = async (prefix: string) =>
  (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id as string).reverse();

test("unreachable Redis: the event is spooled with its id and ts fixed; a flush pushes that same event", async () => {
  const { config } = setup("same-id", deadUrl);
  const outcome = await pushOrSpool(config, { type: "build.done", source: "make", payload: { ok: true } });
  assert.equal(outcome.spooled, true);
  assert.match(outcome.spoolReason!, /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED/);
  const [line] = readFileSync(config.paths.spool, "utf8").trim().split("\n");
  const spooled = JSON.parse(line!);
  assert.equal(spooled.id, outcome.ids[0]);
  assert.equal(typeof spooled.ts, "number");
  const report = await flushSpool(redis, config, config.paths.spool); // the live Redis
  assert.equal(report.delivered, 1);
  const [raw] = await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1);
  assert.deepEqual(JSON.parse(raw!), spooled);
  assert.equal(existsSync(config.paths.spool), false);
});

test("an invalid event is an error, never spooled; --no-spool writes nothing", async () => {
  const { config } = setup("invalid", deadUrl);
  await assert.rejects(pushOrSpool(config, { type: "", source: "x" }), EventError);
  await assert.rejects(pushOrSpool(config, { type: "ok", source: "x" }, { spool: false }), RedisUnreachableError);
  assert.equal(existsSync(config.paths.spool), false);
});

test("corrupt spool lines are reported and kept in the rejected file; valid neighbours are delivered", async () => {
  const { config, home } = setup("corrupt");
  mkdirSync(home, { recursive: true });
  const good = (id: string) => JSON.stringify({ id, type: "t", source: "s", payload: {}, ts: 1 });
  const torn = good("torn").slice(0, 20); // a write cut short by a crash
  writeFileSync(config.paths.spool, [good("a"), "not json", good("b"), '{"id":"x"}', torn].join("\n") + "\n");
  const report = await flushSpool(redis, config, config.paths.spool);
  assert.equal(report.delivered, 2);
  assert.deepEqual(await centralIds(config.prefix), ["a", "b"]);
  assert.equal(report.rejected.length, 3);
  const kept = readFileSync(rejectedPath(config.paths.spool), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(kept.map((k) => k.raw), ["not json", '{"id":"x"}', torn]);
  assert.match(kept[0].reason, /not JSON/);
  assert.match(kept[1].reason, /invalid event/);
  assert.equal(countSpooled(config.paths.spool), 0);
});

test("a flush that died half way is adopted: what it already pushed is not delivered twice", async () => {
  const { config, home } = setup("adopt");
  mkdirSync(home, { recursive: true });
  const events = ["p1", "p2", "p3"].map((id) => ({ id, type: "t", source: "s", payload: {}, ts: 1 }));
  await pushEvents(redis, config, events.slice(0, 2)); // the dead flush got this far
  const gone = spawnSync(process.execPath, ["-e", "0"]).pid!; // a pid that no longer runs
  writeFileSync(join(home, `spool.jsonl.flushing-${gone}-dead`), events.map((e) => JSON.stringify(e) + "\n").join(""));
  const report = await flushSpool(redis, config, config.paths.spool);
  assert.deepEqual([report.delivered, report.duplicates], [1, 2]);
  assert.deepEqual(await centralIds(config.prefix), ["p1", "p2", "p3"]);
  assert.equal(countSpooled(config.paths.spool), 0);
});

test("4 producer processes spool while flushes run at the same time: every event exactly once", async () => {
  // Same home, two Redis URLs: the producers see Redis down and spool, the flusher sees it up.
  const { config, home } = setup("concurrent");
  const producers = ["p0", "p1", "p2", "p3"].map(
    (tag) =>
      new Promise<{ spooled: number }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/spool-producer.ts", tag, "100"], {
          env: { PATH: process.env.PATH, AGENT_GATEWAY_HOME: home, REDIS_URL: deadUrl, GATEWAY_PREFIX: config.prefix },
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`producer ${tag} exited ${code}`))));
      }),
  );
  let running = true;
  const all = Promise.all(producers).finally(() => (running = false));
  let flushes = 0;
  while (running) {
    await flushSpool(redis, config, config.paths.spool);
    flushes++;
    await new Promise((r) => setImmediate(r));
  }
  const tallies = await all;
  assert.deepEqual(tallies.map((t) => t.spooled), [100, 100, 100, 100]);
  await flushSpool(redis, config, config.paths.spool);
  const delivered = await centralIds(config.prefix);
  assert.equal(delivered.length, 400, `${flushes} flushes ran during the appends`);
  assert.equal(new Set(delivered).size, 400);
  for (const tag of ["p0", "p1", "p2", "p3"]) {
    const mine = delivered.filter((id) => id.startsWith(`${tag}-`));
    assert.deepEqual(mine, Array.from({ length: 100 }, (_, i) => `${tag}-${i}`), `${tag} in order`);
  }
  assert.equal(existsSync(rejectedPath(config.paths.spool)), false);
  assert.equal(countSpooled(config.paths.spool), 0);
});
