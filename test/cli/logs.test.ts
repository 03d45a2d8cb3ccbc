// `agent-gateway logs` over <home>/logs/*.log written by core/log.ts: merged by time across
// process kinds, filtered by kind, and followed as new lines are written.
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "../../core/log.ts";
import { cliHome } from "../harness/cli.ts";

// No Redis needed: logs are local files.
const line = (time: string, kind: string, msg: string, extra = {}) =>
  JSON.stringify({ time, level: "info", kind, pid: 7, msg, ...extra }) + "\n";

test("logs merges the files by time; --kind shows one; --json prints lines as stored", async () => {
  const cli = cliHome("redis://127.0.0.1:1", "x");
  const dir = join(cli.home, "logs");
  mkdirSync(dir);
  writeFileSync(join(dir, "worker.log"), line("2026-01-01T00:00:01.000Z", "worker", "second") + line("2026-01-01T00:00:03.000Z", "worker", "fourth"));
  writeFileSync(join(dir, "daemon.log"), line("2026-01-01T00:00:00.000Z", "daemon", "first", { queue: 2 }) + line("2026-01-01T00:00:02.000Z", "daemon", "third"));
  const all = await cli.run(["logs"]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.trim().split("\n").map((l) => l.split(/\s+/)[3]), ["first", "second", "third", "fourth"]);
  assert.match(all.stdout, /^2026-01-01T00:00:00\.000Z INFO {2}daemon\[7\] first queue=2$/m);
  const last = await cli.run(["logs", "-n", "1"]);
  assert.match(last.stdout.trim(), / fourth$/);
  const daemon = await cli.run(["logs", "--kind", "daemon", "--json"]);
  assert.equal(daemon.stdout, line("2026-01-01T00:00:00.000Z", "daemon", "first", { queue: 2 }) + line("2026-01-01T00:00:02.000Z", "daemon", "third"));
});

test("logs with no log files says so and exits 0", async () => {
  const result = await cliHome("redis://127.0.0.1:1", "x").run(["logs"]);
  assert.equal(result.code, 0);
  assert.match(result.stderr, /no log lines in .*logs/);
});

test("logs --follow prints lines as a process writes them, new files included", async () => {
  const cli = cliHome("redis://127.0.0.1:1", "x");
  const dir = join(cli.home, "logs");
  mkdirSync(dir);
  writeFileSync(join(dir, "worker.log"), line("2026-01-01T00:00:00.000Z", "worker", "before"));
  const follow = cli.start(["logs", "--follow"]);
  await follow.waitFor("stderr", /following /);
  await follow.waitFor("stdout", / before$/m);
  const logger = createLogger({ dir, kind: "worker" });
  logger.info("heartbeat pushed", { id: "h1" });
  await logger.close();
  await follow.waitFor("stdout", /worker\[\d+\] heartbeat pushed id=h1/);
  // A half-written line is held back until its newline arrives.
  appendFileSync(join(dir, "daemon.log"), line("2026-01-01T00:00:09.000Z", "daemon", "new file").slice(0, 30));
  appendFileSync(join(dir, "daemon.log"), line("2026-01-01T00:00:09.000Z", "daemon", "new file").slice(30));
  await follow.waitFor("stdout", /daemon\[7\] new file$/m);
  assert.equal(await follow.stop(), 0);
  assert.equal(follow.stdout().trim().split("\n").length, 3);
});
