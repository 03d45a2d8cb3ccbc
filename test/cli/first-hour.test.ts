// What a new user meets first with the CLI: --version, a closed pipe, and `service` in the
// fallback mode restarting the worker with a config edited since it started, then stopping it
// for good. Real subprocesses, a real worker and redis-server.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { VERSION } from "../../core/package-root.ts";
import { cliHome } from "../harness/cli.ts";
import { freePort, startRedis } from "../harness/redis.ts";
import { pollUntil } from "../harness/sandbox.ts";

const redis = await startRedis();
const cli = cliHome(redis.url, "firsthour");

test("--version and -v print the version", async () => {
  for (const flag of ["--version", "-v"]) {
    const result = await cli.run([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `agent-gateway ${VERSION}\n`);
  }
});

test("a command writing into a closed pipe (status | head) exits quietly", () => {
  const bin = join(import.meta.dirname, "..", "..", "scripts", "agent-gateway.mjs");
  // `true` exits without reading, so the pipe is closed by the time status has asked Redis.
  const result = spawnSync("bash", ["-c", `"$0" "$1" status | true; echo "exit \${PIPESTATUS[0]}" >&2`, process.execPath, bin], { env: cli.env, encoding: "utf8" });
  assert.doesNotMatch(result.stderr, /EPIPE|Error|at /);
  assert.match(result.stderr, /^exit 0$/m);
});

test("worker --help says where Redis comes from", async () => {
  const result = await cli.run(["worker", "--help"]);
  assert.match(result.stdout, /REDIS_URL, else config\.json's redisUrl/);
});

const health = async (port: number) => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).status;
  } catch {
    return undefined;
  }
};

test("service restart worker (fallback) restarts it with the edited config; stop stops it for good", async () => {
  const [first, second] = [await freePort(), await freePort()];
  const configFile = join(cli.home, "config.json");
  writeFileSync(configFile, JSON.stringify({ worker: { port: first } }));
  writeFileSync(join(cli.home, "setup-state"), "tier=2\nservices=fallback\n");
  const env = { KEEP_RUNNING_DELAY: "1" };
  try {
    const started = await cli.run(["service", "start", "worker"], { env });
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^worker started \(pid \d+, fallback/);
    assert.equal(await pollUntil("the worker on the first port", () => health(first)), 200);

    writeFileSync(configFile, JSON.stringify({ worker: { port: second } }));
    const restarted = await cli.run(["service", "restart", "worker"], { env });
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /^worker restarted \(pid \d+/);
    assert.equal(await pollUntil("the worker on the new port", () => health(second)), 200);
    assert.equal(await health(first), undefined, "the old worker is gone");

    const status = await cli.run(["service", "status", "worker"]);
    assert.equal(status.stdout, "worker    running (fallback)\n");
    const stopped = await cli.run(["service", "stop", "worker"]);
    assert.match(stopped.stdout, /^worker stopped \(pid \d+, fallback\)/);
    await sleep(2_500); // longer than keep-running's restart delay: nothing brings it back
    assert.equal(await health(second), undefined);
    const after = await cli.run(["service", "status", "worker"]);
    assert.equal(after.code, 1);
    assert.equal(after.stdout, "worker    stopped (fallback)\n");
  } finally {
    const pidFile = join(cli.home, "run", "worker.pid");
    if (existsSync(pidFile)) await cli.run(["service", "stop", "worker"]);
    assert.ok(!existsSync(pidFile) || !readFileSync(pidFile, "utf8").trim());
  }
});

test("service with nothing installed names the setup step", async () => {
  const home = cliHome(redis.url, "firsthour-none");
  const result = await home.run(["service", "status"]);
  assert.equal(result.code, 78);
  assert.match(result.stderr, /no services are installed here .*\.\/setup\.sh 2/);
});

test("token with no token configured says how to make one", async () => {
  const home = cliHome(redis.url, "firsthour-token");
  const result = await home.run(["token"]);
  assert.equal(result.code, 78);
  assert.match(result.stderr, /agent-gateway token --rotate/);
});
