// `push` and `flush` when Redis goes away (a real redis-server, killed and started again):
// 100 pushes spool, `flush` delivers each exactly once, a second `flush` delivers nothing.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { countSpooled } from "../../core/spool.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { join } from "node:path";

const server = await startRedis();

function producer(env: NodeJS.ProcessEnv, tag: string, count: number): Promise<{ spooled: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/spool-producer.ts", tag, String(count)], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`producer ${tag} exited ${code}`))));
  });
}

test("Redis stopped: 100 pushes spool; Redis back: flush delivers each exactly once; a second flush nothing", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const spool = join(cli.home, "spool.jsonl");
  await server.kill();

  // 99 events from 3 producer processes at once, and one from `agent-gateway push`.
  const tallies = await Promise.all(["a", "b", "c"].map((tag) => producer(cli.env, tag, 33)));
  assert.deepEqual(tallies.map((t) => t.spooled), [33, 33, 33]);
  const pushed = await cli.run(["push", "build.done", "--payload", '{"n":100}']);
  assert.equal(pushed.code, 0);
  const cliId = pushed.stdout.trim();
  assert.match(pushed.stderr, /^warning: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED .*\); event \S+ spooled to /m);
  assert.equal(countSpooled(spool), 100);
  const logged = await cli.run(["logs", "--kind", "cli", "--json"]);
  assert.match(logged.stdout, new RegExp(`"msg":"Redis unreachable: event spooled","id":"${cliId}"`));

  const refused = await cli.run(["push", "build.done", "--no-spool"]);
  assert.equal(refused.code, 75);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /is unreachable \(connect ECONNREFUSED .*nothing written/);
  assert.equal(countSpooled(spool), 100);

  const early = await cli.run(["flush"]);
  assert.equal(early.code, 75);
  assert.match(early.stderr, /100 spooled line\(s\) stay in/);
  const status = await cli.run(["status"]);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /is unreachable \(connect ECONNREFUSED[^)]*\)\n100 event\(s\) are spooled in/);

  await server.start();
  const flushed = await cli.run(["flush"]);
  assert.equal(flushed.code, 0, flushed.stderr);
  assert.equal(flushed.stdout.trim(), "delivered 100 spooled event(s)");
  const redis = server.client();
  const ids = (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id as string);
  assert.equal(ids.length, 100);
  assert.equal(new Set(ids).size, 100);
  for (const tag of ["a", "b", "c"]) {
    for (let i = 0; i < 33; i++) assert.ok(ids.includes(`${tag}-${i}`), `${tag}-${i} delivered`);
  }
  assert.ok(ids.includes(cliId));

  const again = await cli.run(["flush", "--json"]);
  assert.equal(again.code, 0);
  assert.deepEqual(JSON.parse(again.stdout), { delivered: 0, duplicates: 0, rejected: 0, remaining: 0 });
  assert.equal(await redis.llen(keysFor(prefix).inbox(CENTRAL_SESSION)), 100);
});

test("the next successful push flushes the spool first, older events ahead of the new one", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  await server.kill();
  const first = await cli.run(["push", "first"]);
  assert.equal(first.code, 0);
  await server.start();
  const second = await cli.run(["push", "second"]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /delivered 1 spooled event\(s\) first/);
  const redis = server.client();
  const types = (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).type).reverse();
  assert.deepEqual(types, ["first", "second"]);
});
