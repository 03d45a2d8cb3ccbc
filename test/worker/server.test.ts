// The worker as users run it: a real listening @hono/node-server on loopback, and the
// `agent-gateway worker` command as a child process (SIGTERM, port in use, bad config).
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "../../core/log.ts";
import { startWorker } from "../../worker/server.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const TOKEN = "server-test-token-0123";
const home = mkdtempSync(join(tmpdir(), "agent-gateway-worker-"));
test.after(() => rmSync(home, { recursive: true, force: true }));

const children: ChildProcessWithoutNullStreams[] = [];
test.afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Runs `agent-gateway worker` with a clean Inngest-free environment plus `env`. */
function runWorkerCommand(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("INNGEST_") && !k.startsWith("GATEWAY_")));
  const child = spawn(process.execPath, ["scripts/agent-gateway.mjs", "worker", ...args], {
    env: { ...clean, AGENT_GATEWAY_HOME: home, REDIS_URL: server.url, GATEWAY_PREFIX: server.prefix(), GATEWAY_API_TOKEN: TOKEN, ...env },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = once(child, "exit").then(([code]) => code as number);
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`worker exited ${code} before listening: ${stderr}`)));
  });
  listening.catch(() => {});
  return { child, exited, listening, output: () => ({ stdout, stderr }) };
}

test("worker command: SIGTERM lets an in-flight request finish, then exits 0", async () => {
  const worker = runWorkerCommand(["--port", "0"]);
  const url = new URL(await worker.listening);
  const body = JSON.stringify({ type: "slow.upload", source: "test", payload: { part: "x".repeat(200) } });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url.origin + "/events", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.write(body.slice(0, 50));
    // The rest of the body follows only after SIGTERM: the request is in flight when it lands.
    setTimeout(() => {
      worker.child.kill("SIGTERM");
      setTimeout(() => req.end(body.slice(50)), 300);
    }, 300);
  });
  const result = await response;
  assert.equal(result.status, 200, result.body);
  assert.equal(await worker.exited, 0, worker.output().stderr);
  assert.match(worker.output().stderr, /worker stopped/);
  assert.doesNotMatch(worker.output().stderr, /Redis connection lost/, "a clean stop is not a lost connection");
});

test("worker command: a port in use is one clear error and exit 1; a bad config exits 78", async () => {
  const first = runWorkerCommand(["--port", "0"]);
  const port = new URL(await first.listening).port;
  const second = runWorkerCommand(["--port", port]);
  assert.equal(await second.exited, 1);
  assert.match(second.output().stderr, new RegExp(`agent-gateway worker: 127\\.0\\.0\\.1:${port} is already in use`));
  assert.doesNotMatch(second.output().stderr, /heartbeat/i, "the second worker schedules nothing before it reports the port");
  first.child.kill("SIGTERM");
  assert.equal(await first.exited, 0);

  const badInterval = runWorkerCommand(["--port", "0"], { GATEWAY_HEARTBEAT_INTERVAL: "45m" });
  assert.equal(await badInterval.exited, 78);
  assert.match(badInterval.output().stderr, /config error: heartbeat\.interval: 45m .*set heartbeat\.cron/);
  const halfInngest = runWorkerCommand(["--port", "0"], { INNGEST_BASE_URL: "http://127.0.0.1:8288" });
  assert.equal(await halfInngest.exited, 78);
  assert.match(halfInngest.output().stderr, /inngest\.signingKey.*INNGEST_SIGNING_KEY/);
});

// Last in this file: it stops this file's Redis.
test("GET /health on a listening worker: 503 while Redis is down, 200 again when it returns, no restart", async () => {
  const config = testConfig(server.url, server.prefix(), { apiToken: TOKEN });
  const worker = await startWorker(config, { port: 0, log: createLogger({ kind: "worker" }) });
  const health = async () => {
    const response = await fetch(`${worker.url}/health`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const until = async (status: number) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reply = await health();
      if (reply.status === status) return reply;
      assert.ok(Date.now() < deadline, `health stayed ${reply.status}: ${JSON.stringify(reply.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const up = await until(200);
    assert.equal(up.body.redis, "reachable");
    assert.deepEqual(up.body.scheduler, { mode: "local", pattern: "*/15 * * * *", nextRun: (up.body.scheduler as { nextRun: string }).nextRun });
    assert.ok(Array.isArray(up.body.inboxes) && typeof up.body.version === "string" && typeof up.body.uptimeMs === "number");

    await server.kill();
    const down = await until(503);
    assert.match(String(down.body.redis), /^unreachable/);
    const refused = await fetch(`${worker.url}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "t", source: "s" }),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.match(((await refused.json()) as { error: string }).error, /Redis is unreachable.*nothing was stored. Retry/);

    await server.start();
    const back = await until(200);
    assert.equal(back.body.redis, "reachable");
  } finally {
    await worker.close();
  }
});
