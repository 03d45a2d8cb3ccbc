// Redis write access alone must not make anyone the owner: entries written by hand into the
// daemon's queue and the Telegram paired set are refused. Against the real daemon (in-process,
// faux model), the real Telegram channel with the local Bot API stand-in (Telegram itself is
// unreachable in tests), a real redis-server, and the CLI in-process.
import { SCHEDULE_SEAL } from "../../core/schedule-store.ts";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { loadSigner, signerFrom, signingKeyPath } from "../../core/signing.ts";
import { PAIRING_PURPOSE } from "../../core/paired-chats.ts";
import { startDaemon } from "../../daemon/main.ts";
import { QUEUE_PURPOSE } from "../../daemon/queue.ts";
import { main } from "../../scripts/cli.ts";
import { daemonHome, until, type DaemonHome } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startTelegramStandin } from "../harness/telegram-standin.ts";
import { channelWithSink } from "../harness/telegram-sink.ts";

const server = await startRedis();
const redis = await server.consumer();

const stored = (text: string, replyTo = "log") => JSON.stringify({ id: randomUUID(), source: "ws", replyTo, text, queuedAt: Date.now() });

async function runDaemonUntilIdle(home: DaemonHome, until_: () => Promise<boolean>): Promise<void> {
  const log = createLogger({ dir: join(home.home, "logs"), kind: "daemon", level: "debug" });
  const daemon = await startDaemon({ config: home.config(), agentDir: home.agentDir, log });
  try {
    await until(until_, "the daemon to work through its queue");
  } finally {
    await daemon.stop("test over");
    await log.close();
  }
}

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { env, stdout: (l) => out.push(l), stderr: (l) => err.push(l), readStdin: async () => "" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

test("attack: entries RPUSHed by hand into the daemon queue (unsigned, another key, another purpose) are dead-lettered with the reason and never run; a signed one runs", async () => {
  const prefix = server.prefix();
  const home = daemonHome(server.url, prefix);
  const keys = keysFor(prefix);
  await runDaemonUntilIdle(home, async () => true); // the first start: key and marker made
  const key = signingKeyPath(home.home);
  assert.equal(statSync(key).mode & 0o777, 0o600, "the signing key is user-only");

  const real = loadSigner(home.home);
  await redis.rpush(
    keys.daemonQueue,
    stored("FORGED-PLAIN", "telegram:999"),
    signerFrom([randomBytes(32)]).seal(QUEUE_PURPOSE, stored("FORGED-OTHER-KEY")),
    real.seal(PAIRING_PURPOSE, stored("FORGED-OTHER-PURPOSE")),
    real.seal(QUEUE_PURPOSE, stored("GENUINE")),
  );
  await runDaemonUntilIdle(home, async () => home.sessionUserTexts().includes("GENUINE") && (await redis.llen(keys.daemonQueue)) === 0);
  const texts = home.sessionUserTexts();
  for (const forged of ["FORGED-PLAIN", "FORGED-OTHER-KEY", "FORGED-OTHER-PURPOSE"]) assert.ok(!texts.some((t) => t.includes(forged)), `${forged} never ran`);
  const dead = (await redis.lrange(keys.dead(CENTRAL_SESSION), 0, -1)).map((d) => JSON.parse(d) as { reason: string; raw: string });
  assert.equal(dead.length, 3);
  assert.match(dead.find((d) => d.raw.includes("FORGED-PLAIN"))!.reason, /not signed/);
  assert.match(dead.find((d) => d.raw.includes("FORGED-OTHER-KEY"))!.reason, /signature does not match/);
  assert.match(dead.find((d) => d.raw.includes("FORGED-OTHER-PURPOSE"))!.reason, /signature does not match/);
  const listed = await cli(home.env, "dead", CENTRAL_SESSION);
  assert.match(listed.out, /3 dead letter\(s\)/, "the operator sees them with `agent-gateway dead`");
});

test("upgrade: a human message an older version queued unsigned is signed once at the first start and answered", async () => {
  const prefix = server.prefix();
  const home = daemonHome(server.url, prefix);
  const keys = keysFor(prefix);
  await redis.rpush(keys.daemonQueue, stored("FROM-THE-OLD-VERSION"));
  await runDaemonUntilIdle(home, async () => home.sessionUserTexts().includes("FROM-THE-OLD-VERSION") && (await redis.llen(keys.daemonQueue)) === 0);
  assert.equal(home.sessionUserTexts().filter((t) => t === "FROM-THE-OLD-VERSION").length, 1);
  assert.equal(await redis.llen(keys.dead(CENTRAL_SESSION)), 0);
  assert.ok(existsSync(join(home.home, "daemon", "signatures-on")), "the one-time signing is remembered in the home");
});

test("`agent-gateway signing rotate` re-signs what is stored; the old key no longer verifies; refused while the daemon runs", async () => {
  const prefix = server.prefix();
  const home = daemonHome(server.url, prefix);
  const keys = keysFor(prefix);
  const before = loadSigner(home.home);
  const oldKey = readFileSync(signingKeyPath(home.home), "utf8").trim();
  await redis.rpush(keys.daemonQueue, before.seal(QUEUE_PURPOSE, stored("WAITING")));
  await redis.sadd(keys.telegramPaired, before.seal(PAIRING_PURPOSE, "4242"));
  await redis.hset(keys.schedules, "brief", before.seal(SCHEDULE_SEAL, JSON.stringify({ id: "brief", prompt: "SCHEDULED" })));

  await redis.set(keys.daemonState, JSON.stringify({ pid: 1, host: "elsewhere" }));
  const refused = await cli(home.env, "signing", "rotate");
  assert.equal(refused.code, 1);
  assert.match(refused.err, /daemon is running .*stop it first/);
  await redis.del(keys.daemonState);

  const rotated = await cli(home.env, "signing", "rotate", "--json");
  assert.equal(rotated.code, 0, rotated.err);
  assert.deepEqual(JSON.parse(rotated.out).resigned, { queue: 1, pairings: 1, schedules: 1 });
  const schedule = await redis.hget(keys.schedules, "brief");
  assert.match(loadSigner(home.home).open(SCHEDULE_SEAL, schedule!)!, /SCHEDULED/, "run-time schedules are re-sealed with the new key");
  const [entry] = await redis.lrange(keys.daemonQueue, 0, -1);
  const old = signerFrom([Buffer.from(oldKey, "base64url")]);
  assert.equal(old.open(QUEUE_PURPOSE, entry!), undefined, "the old key no longer verifies");
  assert.match(loadSigner(home.home).open(QUEUE_PURPOSE, entry!)!, /WAITING/);
  assert.equal(statSync(signingKeyPath(home.home)).mode & 0o777, 0o600);
  const pairings = await cli(home.env, "pairing", "list", "--json");
  assert.deepEqual(JSON.parse(pairings.out).paired, [4242]);
});

test("attack: a chat id SADDed by hand into the paired set is not a pairing — ignored and logged, no run (Telegram stand-in)", async () => {
  const ALLOWED = 111;
  const FORGED = 444;
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-sec-"));
  test.after(() => rmSync(home, { recursive: true, force: true }));
  const standin = await startTelegramStandin();
  const base = testConfig(server.url, server.prefix());
  const config = { ...base, home, telegram: { ...base.telegram, apiRoot: standin.apiRoot, allowedChats: [ALLOWED] } };
  const { sink, logs } = await channelWithSink(standin, config, redis);

  await redis.sadd(keysFor(config.prefix).telegramPaired, String(FORGED), signerFrom([randomBytes(32)]).seal(PAIRING_PURPOSE, "555"));
  standin.userSends(FORGED, "FORGED-PAIRING let me act as the owner");
  standin.userSends(ALLOWED, "marker");
  await standin.waitForSent((s) => s.some((m) => m.text === "echo: marker"));
  assert.deepEqual(sink.submitted.map((m) => m.text), ["marker"], "no agent run for the forged pairing");
  assert.equal(standin.sent.filter((m) => m.chat_id === FORGED).length, 0, "ignored: not even a pairing code");
  assert.ok(logs.some((l) => l.includes("ignored an unsigned pairing") && l.includes(String(FORGED))));
  const listed = await cli({ AGENT_GATEWAY_HOME: home, REDIS_URL: server.url, GATEWAY_PREFIX: config.prefix }, "pairing", "list", "--json");
  const { paired, refused } = JSON.parse(listed.out) as { paired: number[]; refused: string[] };
  assert.deepEqual(paired, []);
  assert.equal(refused.length, 2, "both forged members are shown as not pairings");
});
