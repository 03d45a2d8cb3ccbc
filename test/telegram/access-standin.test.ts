// Telegram access control against the local Bot API stand-in (Telegram itself is unreachable
// in tests) and a real Redis: allowlist, one refusal for strangers, pairing from the CLI.
import assert from "node:assert/strict";
import { test } from "node:test";
import { main } from "../../scripts/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";
import { startTelegramStandin } from "../harness/telegram-standin.ts";
import { channelWithSink } from "../harness/telegram-sink.ts";

const server = await startRedis();
const redis = await server.consumer();

const ALLOWED = 111;
const STRANGER = 222;

async function setup(pairingTtl = 3_600_000) {
  const standin = await startTelegramStandin();
  const base = testConfig(server.url, server.prefix());
  const config = { ...base, telegram: { ...base.telegram, apiRoot: standin.apiRoot, allowedChats: [ALLOWED], pairingTtl } };
  const { channel, sink, logs } = await channelWithSink(standin, config, redis);
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { AGENT_GATEWAY_HOME: config.home, REDIS_URL: server.url, GATEWAY_PREFIX: config.prefix };
    const code = await main(args, { env, stdout: (l) => out.push(l), stderr: (l) => err.push(l), readStdin: async () => "" });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  return { standin, config, channel, sink, logs, cli };
}

test("stand-in Bot API: an allowed chat's message reaches the agent and the reply comes back to that chat", async () => {
  const { standin, sink } = await setup();
  standin.userSends(ALLOWED, "hello agent");
  const sent = await standin.waitForSent((s) => s.some((m) => m.chat_id === ALLOWED));
  assert.deepEqual(sink.submitted.map((m) => [m.replyTo, m.text]), [[`telegram:${ALLOWED}`, "hello agent"]]);
  assert.deepEqual(sent.map((m) => [m.chat_id, m.text]), [[ALLOWED, "echo: hello agent"]]);
});

test("stand-in Bot API: an unknown chat is refused once, politely, with no agent run, and the refusal is logged", async () => {
  const { standin, sink, logs } = await setup();
  standin.userSends(STRANGER, "let me in");
  standin.userSends(STRANGER, "please?");
  const marker = standin.userSends(ALLOWED, "after the stranger");
  await standin.waitForSent((s) => s.some((m) => m.chat_id === ALLOWED));
  // Updates are handled in order: once the allowed chat's reply is out, both strangers' are done.
  await standin.nextCall("getUpdates");
  assert.ok(!standin.pendingUpdates().includes(marker));
  const toStranger = standin.sent.filter((m) => m.chat_id === STRANGER);
  assert.equal(toStranger.length, 1, "exactly one refusal");
  assert.match(toStranger[0]!.text, /^Sorry, this is a private agent/);
  assert.match(toStranger[0]!.text, /agent-gateway pairing approve [A-Z2-9]{8}/);
  assert.deepEqual(sink.submitted.map((m) => m.text), ["after the stranger"], "no agent run for the stranger");
  assert.equal(logs.filter((l) => l.includes("refused an unknown chat")).length, 1);
  assert.ok(logs.some((l) => l.includes("ignored a message from an unknown chat")));
});

test("stand-in Bot API: a pairing code approved from the CLI lets the chat in; deny keeps it out", async () => {
  const { standin, sink, cli } = await setup();
  standin.userSends(STRANGER, "hi");
  const [refusal] = await standin.waitForSent((s) => s.some((m) => m.chat_id === STRANGER));
  const code = /approve ([A-Z2-9]{8})/.exec(refusal!.text)![1]!;

  const listed = await cli("pairing", "list", "--json");
  assert.equal(listed.code, 0);
  assert.deepEqual(JSON.parse(listed.out).pending.map((r: { code: string; chatId: number }) => [r.code, r.chatId]), [[code, STRANGER]]);

  const approved = await cli("pairing", "approve", code.toLowerCase());
  assert.equal(approved.code, 0, approved.err);
  assert.match(approved.out, new RegExp(`chat ${STRANGER}`));
  assert.equal((await cli("pairing", "approve", code)).code, 1, "a code decides once");

  standin.userSends(STRANGER, "now?");
  await standin.waitForSent((s) => s.some((m) => m.chat_id === STRANGER && m.text === "echo: now?"));
  assert.deepEqual(sink.submitted.map((m) => m.text), ["now?"]);

  // Another stranger, denied: no agent run, no further answer.
  standin.userSends(333, "me too");
  const [second] = (await standin.waitForSent((s) => s.some((m) => m.chat_id === 333))).filter((m) => m.chat_id === 333);
  const denied = await cli("pairing", "deny", /approve ([A-Z2-9]{8})/.exec(second!.text)![1]!);
  assert.equal(denied.code, 0, denied.err);
  standin.userSends(333, "again");
  standin.userSends(ALLOWED, "marker");
  await standin.waitForSent((s) => s.some((m) => m.text === "echo: marker"));
  assert.equal(standin.sent.filter((m) => m.chat_id === 333).length, 1);
  assert.deepEqual(sink.submitted.map((m) => m.text), ["now?", "marker"]);

  assert.equal((await cli("pairing", "bogus")).code, 2);
});

test("stand-in Bot API: a pairing code expires; approving it afterwards fails and the chat is asked again with a new code", async () => {
  const { standin, sink, cli } = await setup(1500);
  const codeIn = (m: { text: string }) => /approve ([A-Z2-9]{8})/.exec(m.text)![1]!;
  standin.userSends(STRANGER, "hi");
  const first = codeIn((await standin.waitForSent((s) => s.some((m) => m.chat_id === STRANGER))).find((m) => m.chat_id === STRANGER)!);
  // Poll-until: nothing to await on Redis key expiry.
  const deadline = Date.now() + 30_000;
  while (JSON.parse((await cli("pairing", "list", "--json")).out).pending.length > 0) {
    assert.ok(Date.now() < deadline, "the code did not expire");
    await new Promise((r) => setTimeout(r, 100));
  }
  const late = await cli("pairing", "approve", first);
  assert.equal(late.code, 1);
  assert.match(late.err, /expired/);
  standin.userSends(STRANGER, "hello again");
  const refusals = await standin.waitForSent((s) => s.filter((m) => m.chat_id === STRANGER).length === 2);
  const second = codeIn(refusals.filter((m) => m.chat_id === STRANGER)[1]!);
  assert.notEqual(second, first);
  assert.equal(sink.submitted.length, 0);
});
