// What setup does to a Redis it installed: loopback binding and AOF on, written back into the
// server's own config file (CONFIG REWRITE) so they survive a restart. Runs against a real
// redis-server started here from a config file like a distribution's (network-wide, no AOF).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { harden, isLoopbackBind, ping } from "../../scripts/setup/redis.ts";
import { freePort, requireRedisServer } from "../harness/redis.ts";
import { pollUntil, REPO } from "../harness/sandbox.ts";

requireRedisServer();
const dir = mkdtempSync(join(tmpdir(), "agent-gateway-harden-"));
const port = await freePort();
const conf = join(dir, "redis.conf");
writeFileSync(conf, `port ${port}\nbind 0.0.0.0\nprotected-mode no\ndir ${dir}\nappendonly no\nsave ""\n`);
const server = spawn("redis-server", [conf], { stdio: "ignore" });
const exited = new Promise((resolve) => server.once("exit", resolve));
after(async () => {
  server.kill("SIGKILL");
  await exited;
  rmSync(dir, { recursive: true, force: true });
});
const url = `redis://127.0.0.1:${port}`;
await pollUntil("the redis-server to answer", async () => ((await ping(url)) === undefined ? true : undefined), 10_000);

test("loopback bind values are told apart from network-wide ones", () => {
  for (const bind of ["127.0.0.1", "127.0.0.1 -::1", "::1", "localhost"]) assert.ok(isLoopbackBind(bind), bind);
  for (const bind of ["", "0.0.0.0", "* -::*", "127.0.0.1 10.0.0.5"]) assert.ok(!isLoopbackBind(bind), bind);
});

test("harden binds to loopback and turns AOF on, in the running server and its config file", async () => {
  // Changes are listed in the order made. AOF on forks a child that holds the listening socket
  // for a moment; a rebind then fails and Redis 7.0 exits, so the bind change must come first.
  assert.deepEqual(await harden(url), ["bind 127.0.0.1 -::1", "appendonly yes"]);
  const written = readFileSync(conf, "utf8");
  assert.match(written, /^appendonly yes$/m);
  assert.match(written, /^bind 127\.0\.0\.1 -::1$/m);
  assert.deepEqual(await harden(url), [], "a second run changes nothing");
});

test("the setup tool reports the same through its command line", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/setup/tool.ts", "redis-harden", url], { cwd: REPO, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "unchanged");
  const down = spawnSync(process.execPath, ["--import", "tsx", "scripts/setup/tool.ts", "redis-ping", "redis://127.0.0.1:1"], { cwd: REPO, encoding: "utf8" });
  assert.equal(down.status, 1);
});
