// setup.sh tier 2 piped into bash with no terminal (`bash -s -- 2 < setup.sh`) on a machine
// in the fallback (as on a machine with no systemd user session, like this one): the worker runs under nohup, a detached
// tmux session runs the central pi with the extension loaded, doctor says ok for both, and
// fail with the fix once Redis is stopped. Real bash, tmux, pi, worker and redis-server.
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, startRedis } from "../harness/redis.ts";
import { createSandbox, pollUntil } from "../harness/sandbox.ts";

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; fix?: string }[];
}

const redis = await startRedis();
const box = createSandbox(redis.url);
const workerPort = await freePort();
// The user's own config: setup must add to it, not replace it.
mkdirSync(box.gatewayHome, { recursive: true });
writeFileSync(join(box.gatewayHome, "config.json"), JSON.stringify({ worker: { port: workerPort } }));

async function doctor(): Promise<{ code: number | null; report: Report }> {
  const result = await box.cli(["doctor", "--json"]);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}
const check = (report: Report, name: string) => report.checks.find((c) => c.name === name)!;

test("bash -s -- 2 < setup.sh succeeds with no terminal and says it uses the fallback", async () => {
  const result = await box.setup(["2"], { viaStdin: true });
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /: the worker runs under nohup \(restarted on failure, not after a reboot/);
  assert.match(result.stdout, /tmux session agent-gateway started/);
  assert.match(result.stdout, /Verify: agent-gateway doctor/);
  const config = JSON.parse(readFileSync(join(box.gatewayHome, "config.json"), "utf8"));
  const { apiToken, ...rest } = config;
  assert.deepEqual(rest, { worker: { port: workerPort }, redisUrl: redis.url, role: "central", watchdog: { expectHeartbeats: "true" } });
  assert.match(apiToken, /^[A-Za-z0-9_-]{32}$/, "tier 2 makes a random API token");
  assert.equal(statSync(join(box.gatewayHome, "config.json")).mode & 0o777, 0o600);
  assert.ok(!result.stdout.includes(apiToken), "setup never prints the token");
});

test("agent-gateway token prints the token tier 2 made, and POST /events accepts it", async () => {
  const token = (await box.cli(["token"])).stdout.trim();
  assert.equal(token, JSON.parse(readFileSync(join(box.gatewayHome, "config.json"), "utf8")).apiToken);
  const status = await pollUntil("the worker's POST /events", async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${workerPort}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "backup.done", source: "nas", payload: {} }),
      });
      return response.status;
    } catch {
      return undefined;
    }
  });
  assert.equal(status, 200);
  assert.equal(readFileSync(join(box.gatewayHome, "HEARTBEAT.md"), "utf8").trim().split("\n").at(-1)?.includes("HEARTBEAT_OK"), true);
});

test("the worker runs (fallback) and answers /health", async () => {
  const status = await pollUntil("the worker's /health", async () => {
    try {
      return (await fetch(`http://127.0.0.1:${workerPort}/health`)).status;
    } catch {
      return undefined;
    }
  });
  assert.equal(status, 200);
});

test("the tmux session runs a central pi with the extension loaded", async () => {
  assert.equal(box.tmux(["has-session", "-t", "=agent-gateway"]).code, 0);
  const client = redis.client();
  const lease = JSON.parse(await pollUntil("the central pi's lease", async () => (await client.get("agent:gateway:lease:gateway")) ?? undefined));
  assert.equal(lease.role, "central");
  // The lease holder is the pi inside the tmux pane (its process tree), not some other pi.
  const panePid = box.tmux(["list-panes", "-t", "=agent-gateway", "-F", "#{pane_pid}"]).stdout.trim();
  const parent = readFileSync(`/proc/${lease.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1];
  assert.equal(parent, panePid);
  assert.match(readFileSync(`/proc/${lease.pid}/environ`, "utf8"), /(^|\0)GATEWAY_ROLE=central(\0|$)/);
});

test("a second run changes nothing", async () => {
  const again = await box.setup(["2"], { viaStdin: true });
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /Nothing changed: tier 2 was already set up\./);
});

test("doctor says ok for the worker and the tmux session", async () => {
  const { report } = await doctor();
  for (const name of ["redis", "extension", "worker", "tmux", "central holder"]) assert.equal(check(report, name).status, "ok", JSON.stringify(check(report, name)));
  assert.equal(check(report, "services").status, "warn");
  assert.match(check(report, "services").detail, /fallback in use/);
});

test("after Redis is stopped, doctor fails with the fix and exits 1", async () => {
  await redis.kill();
  const { code, report } = await doctor();
  assert.equal(code, 1);
  assert.equal(report.ok, false);
  const down = check(report, "redis");
  assert.equal(down.status, "fail");
  assert.match(down.detail, /unreachable/);
  assert.match(down.fix ?? "", /start Redis: systemctl start redis-server/);
  const text = await box.cli(["doctor"]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /FAIL {2}redis +.*unreachable.*\n\s+fix: start Redis/);
  await redis.start();
});

test("setup.sh --uninstall stops the worker, the tripwire loop and the tmux session", async () => {
  const pids = ["worker", "tripwire"].map((n) => Number(readFileSync(join(box.gatewayHome, "run", `${n}.pid`), "utf8")));
  const result = await box.setup(["--uninstall"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.notEqual(box.tmux(["has-session", "-t", "=agent-gateway"]).code, 0);
  for (const pid of pids) {
    await pollUntil(`pid ${pid} to exit`, () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  }
  assert.deepEqual(JSON.parse(readFileSync(join(box.gatewayHome, "config.json"), "utf8")), { worker: { port: workerPort } });
});
