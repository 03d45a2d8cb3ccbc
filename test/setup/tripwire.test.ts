// `agent-gateway tripwire-check` (watchdog layer 2) against a real redis-server: a stale
// tripwire raises one alarm per silence (a log line, and a watchdog.tripwire event in the
// central inbox); a fresh one raises none; with Redis down the alarm still reaches the log.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createServer } from "node:http";
import { freePort, startRedis } from "../harness/redis.ts";
import { outputOf, type RunResult } from "../harness/process.ts";
import { REPO } from "../harness/sandbox.ts";

const redis = await startRedis();
const home = mkdtempSync(join(tmpdir(), "agent-gateway-tripwire-"));
after(() => rmSync(home, { recursive: true, force: true }));
const tripwire = join(home, "last-heartbeat");
// Nothing listens on the configured worker port until the test below starts a stand-in worker.
const workerPort = await freePort();
writeFileSync(join(home, "config.json"), JSON.stringify({ worker: { port: workerPort } }));

function check(env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [join(REPO, "scripts", "agent-gateway.mjs"), "tripwire-check"], {
    env: { PATH: process.env.PATH, AGENT_GATEWAY_HOME: home, REDIS_URL: redis.url, GATEWAY_WATCHDOG_THRESHOLD: "60s", ...env },
  });
  return outputOf(child);
}

function touch(agoMs: number): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(tripwire, "");
  const at = new Date(Date.now() - agoMs);
  utimesSync(tripwire, at, at);
}

const tripwireEvents = async () =>
  (await redis.client().lrange("agent:events:gateway", 0, -1)).map((raw) => JSON.parse(raw)).filter((e) => e.type === "watchdog.tripwire");

test("no tripwire file yet: nothing to alarm about", async () => {
  const result = await check();
  assert.equal(result.code, 0);
  assert.match(result.stdout, /no heartbeat recorded yet/);
});

test("a fresh tripwire raises no alarm", async () => {
  touch(5_000);
  const result = await check();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ok: last heartbeat/);
  assert.deepEqual(await tripwireEvents(), []);
});

test("a stale tripwire raises one alarm: a log line and one watchdog.tripwire event", async () => {
  touch(10 * 60_000);
  const first = await check();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /No heartbeat for 10m/);
  assert.match(first.stderr, new RegExp(`the worker, which sends them, does not answer at http://127\\.0\\.0\\.1:${workerPort}/health: agent-gateway service restart worker`));
  assert.match(first.stdout, /watchdog\.tripwire pushed/);
  const [event, ...more] = await tripwireEvents();
  assert.deepEqual(more, []);
  assert.equal(event.priority, "urgent");
  assert.equal(event.payload.thresholdMs, 60_000);
  assert.match(readFileSync(join(home, "logs", "tripwire.log"), "utf8"), /heartbeats stopped/);

  const second = await check();
  assert.match(second.stdout, /alarm already raised/);
  assert.equal((await tripwireEvents()).length, 1, "the same silence alarms once");
});

test("with Redis unreachable the alarm still reaches the log, and says the event was not pushed", async () => {
  touch(20 * 60_000);
  const result = await check({ REDIS_URL: "redis://127.0.0.1:1" });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /No heartbeat for 20m/);
  assert.match(result.stdout, /Redis unreachable, so no watchdog\.tripwire event/);
});

test("with the worker answering, the alarm names the central pi as the silent layer (a stand-in worker's /health)", async () => {
  const worker = createServer((_req, res) => res.writeHead(200).end("{}"));
  await new Promise<void>((resolve) => worker.listen(workerPort, "127.0.0.1", resolve));
  try {
    touch(30 * 60_000);
    const result = await check();
    assert.match(result.stderr, /No heartbeat for 30m .*the worker runs, so no pi takes them: is the central pi session running\?/);
  } finally {
    await new Promise((resolve) => worker.close(resolve));
  }
});
