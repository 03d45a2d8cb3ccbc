// End to end: the real daemon (embedded pi, faux LLM, real Redis) with its Telegram channel
// talking to the local Bot API stand-in (Telegram itself is unreachable in tests).
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { main } from "../../scripts/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { telegramDaemon } from "../harness/telegram-daemon.ts";
import { startTelegramStandin, type SentMessage } from "../harness/telegram-standin.ts";

const server = await startRedis();

const OWNER = 501;
const STRANGER = 502;

const redis = server.client();

/** Poll-until (nothing to await): the daemon removes an entry once its reply went out. */
async function queueEmpty(prefix: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await redis.llen(keysFor(prefix).daemonQueue)) > 0) {
    if (Date.now() > deadline) throw new Error("the daemon's queue did not empty within 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const repliesTo = (sent: SentMessage[], chatId: number, needle: string) => sent.filter((m) => m.chat_id === chatId && m.text.includes(needle));

async function setup() {
  const standin = await startTelegramStandin();
  const prefix = server.prefix();
  const daemon = await telegramDaemon({ redisUrl: server.url, prefix, standin, allowedChats: [OWNER] });
  test.after(() => daemon.kill());
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { env: daemon.dirs.env, stdout: (l) => out.push(l), stderr: (l) => err.push(l), readStdin: async () => "" });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  return { standin, daemon, cli, prefix };
}

test("stand-in Bot API + daemon: the owner gets the agent's reply; a stranger gets one refusal and no run until the CLI approves its code", async () => {
  const { standin, daemon, cli } = await setup();
  standin.userSends(OWNER, "hello there");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: hello there").length === 1, 60_000);
  assert.ok(standin.calls.some((c) => c.method === "sendChatAction" && c.params.action === "typing" && c.params.chat_id === OWNER), "typing shown while the run went");

  standin.userSends(STRANGER, "who are you");
  standin.userSends(STRANGER, "hello?");
  const [refusal] = (await standin.waitForSent((s) => s.some((m) => m.chat_id === STRANGER), 30_000)).filter((m) => m.chat_id === STRANGER);
  standin.userSends(OWNER, "marker");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: marker").length === 1, 60_000);
  assert.equal(standin.sent.filter((m) => m.chat_id === STRANGER).length, 1, "refused once");
  assert.ok(!standin.sent.some((m) => m.text.includes("who are you")), "no agent run for the stranger");
  assert.match(daemon.output(), /refused an unknown chat/);

  const code = /approve ([A-Z2-9]{8})/.exec(refusal!.text)![1]!;
  const approved = await cli("pairing", "approve", code);
  assert.equal(approved.code, 0, approved.err);
  standin.userSends(STRANGER, "now let me in");
  await standin.waitForSent((s) => repliesTo(s, STRANGER, "echo: now let me in").length === 1, 60_000);

  standin.userSends(OWNER, "/status");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "Running:").length === 1, 30_000);
  standin.userSendsPhoto(OWNER);
  await standin.waitForSent((s) => repliesTo(s, OWNER, "only text messages are supported yet").length === 1, 30_000);
});

test("stand-in Bot API + daemon: connections dropped for a while, then a 409 — polling resumes, nothing lost or answered twice, one 409 line", async () => {
  const { standin, daemon } = await setup();
  standin.userSends(OWNER, "one");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: one").length === 1, 60_000);
  await standin.faults.dropConnections(3000);
  standin.userSends(OWNER, "two");
  standin.userSends(OWNER, "three");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: three").length === 1, 90_000);
  standin.faults.conflict(3);
  standin.userSends(OWNER, "four");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: four").length === 1, 90_000);
  for (const text of ["one", "two", "three", "four"]) assert.equal(repliesTo(standin.sent, OWNER, `echo: ${text} `).length, 1, text);
  const lines = daemon.output().split("\n");
  assert.equal(lines.filter((l) => l.includes("409 Conflict")).length, 1);
  assert.equal(lines.filter((l) => l.includes("polling resumed")).length, 2, "resumed after the outage and after the conflict");
  assert.ok(!daemon.output().includes(standin.token), "the token is never logged");
});

test("stand-in Bot API + daemon: killed after taking an update and before replying, the restarted daemon answers it once", async () => {
  const { standin, daemon, prefix } = await setup();
  // SLOW: the faux model takes a while, so the kill lands mid-run (typing shown, no reply yet).
  standin.userSends(OWNER, "SLOW survive a crash");
  await standin.nextCall("sendChatAction", 60_000);
  assert.equal(repliesTo(standin.sent, OWNER, "survive a crash").length, 0);
  await daemon.kill("SIGKILL");
  await daemon.start();
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: SLOW survive a crash").length >= 1, 60_000);

  // Idle again (the answered entry left the daemon's durable queue), then killed the moment
  // the stand-in hands the next update out (before or after it was queued).
  await queueEmpty(prefix);
  const id = standin.userSends(OWNER, "SLOW second crash");
  await standin.waitForSent(() => standin.handedOut(id), 30_000);
  await daemon.kill("SIGKILL");
  await daemon.start();
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: SLOW second crash").length >= 1, 60_000);

  // Settle: a later message is answered after both, and nothing came twice.
  standin.userSends(OWNER, "done");
  await standin.waitForSent((s) => repliesTo(s, OWNER, "echo: done").length === 1, 60_000);
  assert.equal(repliesTo(standin.sent, OWNER, "echo: SLOW survive a crash").length, 1);
  assert.equal(repliesTo(standin.sent, OWNER, "echo: SLOW second crash").length, 1);
});
