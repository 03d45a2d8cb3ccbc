// Schedules in tier 4, end to end: the real daemon (embedded pi with the faux LLM and the
// gateway extension's tools, real Redis) with its Telegram channel talking to the local Bot API
// stand-in (Telegram itself is unreachable in tests). Each scheduled prompt is its own queue
// entry whose settled reply goes to the schedule's replyTo; `notify` decides whether a
// HEARTBEAT_OK ("nothing to report") reply is sent; `status` shows next / last run and result.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { loadSigner } from "../../core/signing.ts";
import { watchSchedules } from "../../worker/schedule-jobs.ts";
import { startLocalScheduler } from "../../worker/scheduler.ts";
import { main } from "../../scripts/cli.ts";
import { pollUntil, REPO_ROOT } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { telegramDaemon, type TelegramDaemon } from "../harness/telegram-daemon.ts";
import { startTelegramStandin, type SentMessage } from "../harness/telegram-standin.ts";

const server = await startRedis();
const OWNER = 601;
const GATEWAY_EXTENSION = join(REPO_ROOT, "extension/index.ts");

const to = (sent: SentMessage[], chatId: number, needle: string) => sent.filter((m) => m.chat_id === chatId && m.text.includes(needle));

function cliOf(daemon: TelegramDaemon) {
  return async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { env: daemon.dirs.env, stdout: (l) => out.push(l), stderr: (l) => err.push(l), readStdin: async () => "" });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
}

/** The worker's scheduler, in-process against the daemon's home and Redis; stopped when the test ends. */
async function startWorker(daemon: TelegramDaemon) {
  const config = loadConfig(daemon.dirs.env);
  const redis = connectRedis(config, { kind: "consumer" });
  await ensureConnected(redis);
  const log = createLogger({ kind: "worker" });
  const scheduler = startLocalScheduler(undefined, { redis, settings: config }, log);
  const watch = watchSchedules(scheduler, config, redis, loadSigner(config.home), log);
  test.after(async () => {
    await Promise.all([watch.stop(), scheduler.stop()]);
    redis.disconnect();
  });
}

test("stand-in Bot API + daemon: the agent's gateway_schedule tool adds a reminder from a chat; it fires and its reply reaches that chat", async () => {
  const standin = await startTelegramStandin();
  const daemon = await telegramDaemon({ redisUrl: server.url, prefix: server.prefix(), standin, allowedChats: [OWNER], extensions: [GATEWAY_EXTENSION] });
  test.after(() => daemon.kill());
  await startWorker(daemon);

  standin.userSends(OWNER, "[remind:renew] remind me in a moment");
  const [added] = to(await standin.waitForSent((s) => to(s, OWNER, "tool: ").length === 1, 60_000), OWNER, "tool: ");
  assert.match(added!.text, /schedule "renew" set \(at \d{4}-/);
  assert.match(added!.text, /Its reply goes to telegram:601\./, "the reminder answers the chat it was set from");

  // 3 s later the worker fires it; the daemon runs it as its own entry and sends the reply to the chat.
  const sent = await standin.waitForSent((s) => to(s, OWNER, "Reminder the agent set for itself").length === 1, 60_000);
  const [reminder] = to(sent, OWNER, "Reminder the agent set for itself");
  assert.match(reminder!.text, /Reminder the agent set for itself \("renew", due /);
  assert.match(reminder!.text, /it is not the owner's instruction/);
  assert.match(reminder!.text, /Renew the TLS certificate/);
  // Recorded just after the reply went out (nothing to await from here: poll).
  await pollUntil("renew's result to be recorded", () => daemon.output().includes('"msg":"scheduled prompt answered","schedule":"renew"'));
  assert.match(daemon.output(), /"msg":"scheduled prompt answered","schedule":"renew".*"result":"reply sent"/);
});

test("stand-in Bot API + daemon: notify unless-ok drops a HEARTBEAT_OK reply (nothing sent); always sends it; status shows next, last run and result", async () => {
  const standin = await startTelegramStandin();
  const replyTo = `telegram:${OWNER}`;
  const daemon = await telegramDaemon({
    redisUrl: server.url,
    prefix: server.prefix(),
    standin,
    allowedChats: [OWNER],
    // The faux LLM answers HEARTBEAT_OK to any prompt containing HEARTBEAT.
    config: {
      schedules: {
        quiet: { every: "1h", prompt: "HEARTBEAT check: report only what needs me", replyTo },
        loud: { every: "1h", prompt: "HEARTBEAT check: always say how it went", replyTo, notify: "always" },
      },
    },
  });
  test.after(() => daemon.kill());
  const cli = cliOf(daemon);

  assert.equal((await cli("schedule", "run", "quiet")).code, 0);
  assert.equal((await cli("schedule", "run", "loud")).code, 0);
  // The lane runs one entry at a time, quiet's first: once loud's reply is out, quiet's is settled.
  await standin.waitForSent((s) => to(s, OWNER, "HEARTBEAT_OK").length === 1, 60_000);
  const status = await cli("status", "--json");
  assert.equal(status.code, 0, status.err);
  const schedules = (JSON.parse(status.out) as { schedules: { id: string; next: string | null; lastResult: { result: string; slot: string } | null }[] }).schedules;
  const byId = new Map(schedules.map((s) => [s.id, s]));
  assert.equal(byId.get("quiet")?.lastResult?.result, "dropped as ok");
  assert.equal(byId.get("loud")?.lastResult?.result, "reply sent");
  for (const s of schedules) assert.ok(s.next && Date.parse(s.next) > Date.now(), `${s.id} has a next run`);
  assert.equal(to(standin.sent, OWNER, "HEARTBEAT_OK").length, 1, "only loud's HEARTBEAT_OK reached the chat");
  assert.equal(standin.sent.length, 1, "nothing else was sent");
  assert.match(daemon.output(), /HEARTBEAT_OK reply not forwarded/);

  const text = await cli("status");
  assert.match(text.out, /Schedules:\n\s*ID +FROM +WHEN +NEXT +LAST +RESULT/);
  assert.match(text.out, /quiet +config +every 3600s +\d{4}-\S+ \S+ +\d{4}-\S+ \S+ +dropped as ok/);
  assert.match(text.out, /loud +config +every 3600s .* reply sent/);
});
