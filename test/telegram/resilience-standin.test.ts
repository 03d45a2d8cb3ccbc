// Network trouble against the local Bot API stand-in (Telegram itself is unreachable in
// tests): dropped connections, 409 Conflict from another poller, 429 with retry_after, and a
// daemon that cannot queue for a while. Polling must resume by itself, lose nothing, answer
// nothing twice, and report each trouble once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { TelegramChannel } from "../../daemon/channels/telegram/channel.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startTelegramStandin, type TelegramStandin } from "../harness/telegram-standin.ts";
import { recordingSink } from "../harness/telegram-sink.ts";

const server = await startRedis();
const redis = await server.consumer();

const CHAT = 7;

/** `before` runs with the stand-in up and the channel not yet started (a restart's situation). */
async function setup(before?: (standin: TelegramStandin, prefix: string) => Promise<void>) {
  const standin = await startTelegramStandin();
  const base = testConfig(server.url, server.prefix());
  await before?.(standin, base.prefix);
  const config = { ...base, telegram: { ...base.telegram, apiRoot: standin.apiRoot, allowedChats: [CHAT] } };
  const logs: string[] = [];
  const log = createLogger({ kind: "daemon", level: "debug", echo: (line) => logs.push(line) });
  const channel = new TelegramChannel({ token: standin.token, config, redis, log, pollTimeoutSeconds: 5, retryMinMs: 200, retryMaxMs: 2000 });
  const sink = recordingSink(() => channel);
  await channel.start(sink);
  test.after(() => channel.stop());
  const answers = (text: string) => standin.sent.filter((m) => m.text === `echo: ${text}`).length;
  return { standin, sink, logs, answers };
}

test("stand-in Bot API: connections dropped for a while — polling resumes by itself, nothing lost, nothing answered twice", async () => {
  const { standin, sink, logs, answers } = await setup();
  standin.userSends(CHAT, "before");
  await standin.waitForSent(() => answers("before") === 1);

  await standin.faults.dropConnections(3000);
  standin.userSends(CHAT, "during 1");
  standin.userSends(CHAT, "during 2");
  await standin.waitForSent(() => answers("during 1") === 1 && answers("during 2") === 1, 60_000);
  standin.userSends(CHAT, "after");
  await standin.waitForSent(() => answers("after") === 1);

  assert.deepEqual(sink.submitted.map((m) => m.text), ["before", "during 1", "during 2", "after"]);
  for (const text of ["before", "during 1", "during 2", "after"]) assert.equal(answers(text), 1, text);
  assert.equal(logs.filter((l) => l.includes("polling failed; backing off")).length, 1, "one outage, one warning");
  assert.equal(logs.filter((l) => l.includes("polling resumed")).length, 1);
  assert.ok(!logs.some((l) => l.includes(standin.token)), "the token is never logged");
});

test("stand-in Bot API: 409 Conflict (another poller) gives one clear log line, no crash loop, and polling carries on", async () => {
  const { standin, logs, answers } = await setup();
  standin.userSends(CHAT, "first");
  await standin.waitForSent(() => answers("first") === 1);
  standin.faults.conflict(4);
  standin.userSends(CHAT, "while conflicted");
  await standin.waitForSent(() => answers("while conflicted") === 1, 60_000);
  // "409 Conflict", not "409": a pid such as 4096 holds those digits too.
  const conflictLines = logs.filter((l) => l.includes("409 Conflict"));
  assert.equal(conflictLines.length, 1, conflictLines.join("\n"));
  assert.match(conflictLines[0]!, /"level":"error".*another process is polling this bot token/);
  assert.ok(standin.calls.filter((c) => c.method === "getUpdates").length >= 6, "kept polling after the conflicts");
});

test("stand-in Bot API: 429 on sendMessage and getUpdates waits retry_after, then delivers once", async () => {
  const { standin, answers } = await setup();
  standin.faults.rateLimit("sendMessage", 1, 2);
  const sentAt: number[] = [];
  const watch = async () => {
    for (let i = 0; i < 2; i++) {
      await standin.nextCall("sendMessage");
      sentAt.push(Date.now());
    }
  };
  const watching = watch();
  standin.userSends(CHAT, "limited");
  await watching;
  await standin.waitForSent(() => answers("limited") === 1);
  assert.ok(sentAt[1]! - sentAt[0]! >= 1900, `retried after ${sentAt[1]! - sentAt[0]!} ms, retry_after was 2 s`);

  standin.faults.rateLimit("getUpdates", 1, 1);
  await standin.nextCall("getUpdates", 30_000);
  standin.userSends(CHAT, "after the poll limit");
  await standin.waitForSent(() => answers("after the poll limit") === 1);
  assert.equal(answers("limited"), 1);
});

test("stand-in Bot API: a message the daemon cannot take yet stays unconfirmed and is delivered once it can", async () => {
  const { standin, sink, answers } = await setup();
  sink.failing = true;
  const id = standin.userSends(CHAT, "wait for me");
  await standin.nextCall("getUpdates");
  await standin.nextCall("getUpdates");
  assert.ok(standin.pendingUpdates().includes(id), "not confirmed while the daemon refuses");
  assert.equal(sink.submitted.length, 0);
  sink.failing = false;
  await standin.waitForSent(() => answers("wait for me") === 1, 60_000);
  assert.deepEqual(sink.submitted.map((m) => m.text), ["wait for me"]);
});

test("stand-in Bot API: an update handled before a crash, but not yet confirmed to Telegram, is not handled again after the restart", async () => {
  let handledBefore = 0;
  const { standin, sink, answers, logs } = await setup(async (standin, prefix) => {
    handledBefore = standin.userSends(CHAT, "handled before the crash");
    await redis.set(keysFor(prefix).telegramHandled(standin.botId, handledBefore), "1");
  });
  standin.userSends(CHAT, "new after the restart");
  await standin.waitForSent(() => answers("new after the restart") === 1);
  assert.deepEqual(sink.submitted.map((m) => m.text), ["new after the restart"]);
  assert.equal(answers("handled before the crash"), 0);
  await standin.nextCall("getUpdates");
  assert.ok(!standin.pendingUpdates().includes(handledBefore), "confirmed to Telegram");
  assert.ok(logs.some((l) => l.includes("already handled before a restart")));
});
