// `agent-gateway run -- CMD` as a user runs it (a real CLI subprocess, a real redis-server):
// the exit code is the command's, the event says how it ended, signals reach the command,
// 10 MB of output passes through in bounded memory, and Redis down spools the report.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { countSpooled } from "../../core/spool.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const redis = server.client();

function home(config?: Record<string, unknown>) {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix, config);
  const inbox = async () => (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r)).reverse();
  return { cli, inbox };
}

const node = (script: string) => [process.execPath, "-e", script];

test("run: a command that succeeds exits 0 and pushes job.done with its last lines, cwd, host and origin", async () => {
  const { cli, inbox } = home();
  const result = await cli.run(["run", "--tail", "2", "--", ...node("for (let i = 1; i <= 5; i++) console.log('line ' + i)")], {
    env: { GATEWAY_SESSION: "sess-7" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "line 1\nline 2\nline 3\nline 4\nline 5\n", "output passes through");
  const [event, ...rest] = await inbox();
  assert.equal(rest.length, 0);
  assert.deepEqual([event.type, event.source, event.originSession], ["job.done", "run", "sess-7"]);
  assert.deepEqual(event.payload.tail, ["line 4", "line 5"]);
  assert.equal(event.payload.outputLines, 5);
  assert.equal(event.payload.exitCode, 0);
  assert.equal(event.payload.ok, true);
  assert.equal(typeof event.payload.durationMs, "number");
  assert.equal(typeof event.payload.host, "string");
  assert.ok(event.payload.cwd);
  assert.match(result.stderr, new RegExp(`agent-gateway run: reported job.done \\(event ${event.id}\\)`));
});

test("run: a failing command's exit code is kept, it reads run's stdin, and job.failed carries stdout and stderr lines", async () => {
  const { cli, inbox } = home();
  const result = await cli.run(["run", "--source", "make", "--", "sh", "-c", "read file; echo compiling $file; echo 'error: no such file' >&2; exit 3"], { stdin: "main.c\n" });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "compiling main.c\n");
  assert.match(result.stderr, /^error: no such file$/m);
  const [event] = await inbox();
  assert.deepEqual([event.type, event.source, event.payload.exitCode, event.payload.ok], ["job.failed", "make", 3, false]);
  assert.deepEqual(event.payload.tail.sort(), ["compiling main.c", "error: no such file"]);
  assert.equal(event.payload.command, "sh -c 'read file; echo compiling $file; echo '\\''error: no such file'\\'' >&2; exit 3'");
});

test("run: --notify failure pushes nothing for a command that succeeded", async () => {
  const { cli, inbox } = home();
  assert.equal((await cli.run(["run", "--notify", "failure", "--", "true"])).code, 0);
  assert.equal((await inbox()).length, 0);
});

test("run: SIGTERM is passed on to the command and reported; the exit code is 128+15", async () => {
  const { cli, inbox } = home();
  const live = cli.start(["run", "--", ...node("process.once('SIGTERM', () => { console.log('got SIGTERM'); process.kill(process.pid, 'SIGTERM'); }); console.log('ready'); setInterval(() => {}, 1000)")]);
  await live.waitFor("stdout", /ready/);
  assert.equal(await live.stop(), 128 + 15);
  assert.match(live.stdout(), /got SIGTERM/, "the command saw the signal");
  const [event] = await inbox();
  assert.deepEqual([event.type, event.payload.signal, event.payload.exitCode], ["job.failed", "SIGTERM", 143]);
});

test("run: a command that cannot start exits 127 with a clear error and an event saying so", async () => {
  const { cli, inbox } = home();
  const result = await cli.run(["run", "--", "no-such-command-here", "--flag"]);
  assert.equal(result.code, 127);
  assert.match(result.stderr, /cannot start no-such-command-here: command not found/);
  const [event] = await inbox();
  assert.deepEqual([event.type, event.payload.exitCode, event.payload.error], ["job.failed", 127, "cannot start no-such-command-here: command not found"]);
});

test("run: an invalid gateway config never stops the command; only the report fails", async () => {
  const { cli, inbox } = home({ maxEventBytes: "lots" });
  const result = await cli.run(["run", "--", "sh", "-c", "echo still ran; exit 4"]);
  assert.equal(result.code, 4);
  assert.equal(result.stdout, "still ran\n");
  assert.match(result.stderr, /not reported: config error: maxEventBytes .*\(exit code 4 is the command's\)/);
  assert.equal((await inbox()).length, 0);
});

test("run: 10 MB of output passes through while run's memory stays bounded; the event holds the last lines only", async () => {
  const { cli, inbox } = home();
  const grew = join(cli.home, "grew-kb");
  // The command compares its parent's (run's) resident memory when it starts with the peak
  // once all it wrote was taken. A small young generation keeps garbage from looking like growth.
  const loud = node(`
    const fs = require("node:fs");
    const status = () => fs.readFileSync("/proc/" + process.ppid + "/status", "utf8");
    const before = Number(/VmRSS:\\s+(\\d+)/.exec(status())[1]);
    const chunk = Buffer.from(("x".repeat(99) + "\\n").repeat(655));
    let n = 0;
    const done = () => fs.writeFileSync(${JSON.stringify(grew)}, String(Number(/VmHWM:\\s+(\\d+)/.exec(status())[1]) - before));
    const more = () => { while (n < 160) { n++; if (!process.stdout.write(chunk)) return process.stdout.once("drain", more); } process.stdout.write("last line\\n", done); };
    more();`);
  const result = await cli.run(["run", "--type", "build.finished", "--", ...loud], { env: { NODE_OPTIONS: "--max-semi-space-size=1" } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.length, 160 * 65_500 + "last line\n".length, "every byte passed through");
  const grewKb = Number(readFileSync(grew, "utf8"));
  assert.ok(grewKb < 7 * 1024, `run's resident memory grew ${grewKb} kB for 10 MB of output`);
  const [event] = await inbox();
  assert.equal(event.type, "build.finished");
  assert.equal(event.payload.tail.length, 20);
  assert.equal(event.payload.tail.at(-1), "last line");
  assert.equal(event.payload.outputLines, 160 * 655 + 1);
});

test("run: Redis down, the report is spooled (exit code still the command's); flush delivers it once", async () => {
  const { cli, inbox } = home();
  await server.kill();
  try {
    const result = await cli.run(["run", "--", "sh", "-c", "echo done; exit 2"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /agent-gateway run: warning: Redis at .* is unreachable .*; event \S+ spooled to /);
    assert.equal(countSpooled(join(cli.home, "spool.jsonl")), 1);
  } finally {
    await server.start();
  }
  const flushed = await cli.run(["flush"]);
  assert.equal(flushed.code, 0, flushed.stderr);
  const events = await inbox();
  assert.deepEqual(events.map((e) => [e.type, e.payload.exitCode, e.payload.tail]), [["job.failed", 2, ["done"]]]);
});
