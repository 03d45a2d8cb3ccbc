// `agent-gateway push` and `status` as a user runs them (a real subprocess, a real Redis):
// push prints the id; bad arguments exit 2; a bad config exits 78; --payload @file and -;
// the inbox cap keeps the newest, dead-letters the oldest as "overflow", and status counts it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../core/config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { cliHome } from "../harness/cli.ts";
import { freePort, startRedis } from "../harness/redis.ts";

const server = await startRedis();
const redis = server.client();

const central = async (prefix: string) =>
  (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw));

test("push prints the new event's id, and the event waits in the central inbox", async () => {
  const prefix = server.prefix();
  const result = await cliHome(server.url, prefix).run(["push", "build.done", "--source", "make", "--payload", '{"target":"release"}', "--priority", "urgent"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^[0-9A-HJKMNP-TV-Z]{26}\n$/);
  const [event] = await central(prefix);
  assert.equal(event.id, result.stdout.trim());
  assert.deepEqual([event.type, event.source, event.payload, event.priority], ["build.done", "make", { target: "release" }, "urgent"]);
});

test("--payload @file and - (standard input)", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const file = join(cli.home, "report.json");
  writeFileSync(file, '{"lines":3}');
  assert.equal((await cli.run(["push", "from.file", "--payload", `@${file}`])).code, 0);
  assert.equal((await cli.run(["push", "from.stdin", "--payload", "-"], { stdin: '{"piped":true}' })).code, 0);
  const events = (await central(prefix)).reverse();
  assert.deepEqual(events.map((e) => [e.type, e.payload]), [["from.file", { lines: 3 }], ["from.stdin", { piped: true }]]);
});

test("bad arguments: a clear message and exit 2, nothing pushed", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const cases: [string[], RegExp][] = [
    [["push"], /expected exactly one event type/],
    [["push", "a", "b"], /expected exactly one event type/],
    [["push", "t", "--priority", "high"], /--priority must be low, normal or urgent/],
    [["push", "t", "--colour", "red"], /Unknown option '--colour'/],
    [["push", "t", "--payload", "{nope"], /--payload is not valid JSON/],
    [["push", "t", "--payload", "[1,2]"], /payload: /],
    [["push", "t", "--payload", "@/nonexistent/file.json"], /cannot read payload file/],
    [["status", "extra"], /Unexpected argument|positional/i],
    [["dead"], /expected exactly one session id/],
    [["dead", "gateway", "--requeue", "--purge"], /exclude each other/],
    [["tail"], /expected exactly one session id/],
    [["logs", "--lines", "many"], /--lines must be a whole number/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    const result = await cli.run(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
  }
  assert.deepEqual(await central(prefix), []);
});

test("every command has --help (exit 0)", async () => {
  const cli = cliHome(server.url, server.prefix());
  for (const name of ["push", "status", "flush", "tail", "dead", "logs"]) {
    const result = await cli.run([name, "--help"]);
    assert.equal(result.code, 0, name);
    assert.match(result.stdout, new RegExp(`^Usage: agent-gateway ${name}`), name);
  }
});

test("a bad configuration: one line naming the field, exit 78", async () => {
  const cli = cliHome(server.url, server.prefix(), { inboxCap: -5 });
  const fromFile = await cli.run(["push", "t"]);
  assert.equal(fromFile.code, 78);
  assert.match(fromFile.stderr, /config error: inboxCap \(from .*config\.json\)/);
  const fromEnv = await cliHome(server.url, server.prefix()).run(["status"], { env: { REDIS_URL: "http://localhost" } });
  assert.equal(fromEnv.code, 78);
  assert.match(fromEnv.stderr, /config error: redisUrl \(from REDIS_URL\): must start with redis:\/\//);
});

test("status when Redis is unreachable says where and why (exit 1)", async () => {
  const result = await cliHome(`redis://127.0.0.1:${await freePort()}`, "x").run(["status"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
  assert.doesNotMatch(result.stderr, /Connection is closed/);
});

test("overflow: past the cap the newest stay, the oldest become dead letters with the reason, status counts them", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix, { inboxCap: 3 });
  const config = loadConfig(cli.env);
  const producer = connectRedis(server.url, { kind: "producer" });
  await ensureConnected(producer);
  await pushEvents(producer, config, [1, 2, 3, 4, 5].map((n) => ({ id: `e${n}`, type: "t", source: "s" })));
  producer.disconnect();
  assert.deepEqual((await central(prefix)).map((e) => e.id), ["e5", "e4", "e3"]);

  const status = await cli.run(["status", "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const inbox = JSON.parse(status.stdout).inboxes.find((i: { session: string }) => i.session === CENTRAL_SESSION);
  assert.deepEqual([inbox.backlog, inbox.dead, inbox.overflow], [3, 2, 2]);
  assert.equal(typeof inbox.oldestTs, "number");

  const dead = JSON.parse((await cli.run(["dead", CENTRAL_SESSION, "--json"])).stdout);
  assert.deepEqual(dead.map((d: { id: string; reason: string }) => [d.id, d.reason]), [["e1", "overflow"], ["e2", "overflow"]]);

  const table = await cli.run(["status"]);
  assert.match(table.stdout, /INBOX\s+BACKLOG\s+IN-FLIGHT\s+DEAD\s+OVERFLOW\s+OLDEST/);
  assert.match(table.stdout, /^ {2}gateway\s+3\s+0\s+2\s+2\s+\d+(ms|s)$/m);
  assert.match(table.stdout, /^Redis: redis:\/\/127\.0\.0\.1:\d+, persistence none/m);
});
