// Where a schedule's reply may go (tier 4): only a chat the gateway already talks to — one in
// telegram.allowedChats or paired with a signed pairing. A config schedule naming another chat
// stops the daemon at start (exit 78, schedule and field named); a run-time one is refused when
// it is added (CLI; the agent's tool goes through the same check). Real Redis, the real CLI.
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { pairedMember } from "../../core/paired-chats.ts";
import { loadSigner } from "../../core/signing.ts";
import { main } from "../../scripts/cli.ts";
import { daemonHome, spawnDaemon } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const redis = server.client();
const ALLOWED = 701;

test("a config schedule whose replyTo is a chat the gateway does not talk to stops the daemon: exit 78 naming the schedule and field", async () => {
  const home = daemonHome(server.url, server.prefix(), {
    telegram: { allowedChats: [ALLOWED] },
    schedules: { brief: { cron: "20 7 * * 1-5", prompt: "Brief me", replyTo: "telegram:999" } },
  });
  const daemon = spawnDaemon(home);
  const { code } = await daemon.exited;
  assert.equal(code, 78, daemon.stderr());
  assert.match(daemon.stderr(), /config error: schedules\.brief\.replyTo \(from .*config\.json\): telegram:999 is not a chat the gateway talks to; add 999 to telegram\.allowedChats, or pair the chat/);
});

test("schedule add --reply-to: an allowed or paired chat is accepted; an unknown chat, a hand-added (unsigned) pairing or a non-chat address is refused", async () => {
  const prefix = server.prefix();
  const home = daemonHome(server.url, prefix, { telegram: { allowedChats: [ALLOWED] } });
  const cli = async (...args: string[]) => {
    const err: string[] = [];
    const code = await main(args, { env: home.env, stdout: () => {}, stderr: (l) => err.push(l), readStdin: async () => "" });
    return { code, err: err.join("\n") };
  };
  const add = (id: string, replyTo: string) => cli("schedule", "add", id, "--every", "1h", "--prompt", "Check the build", "--reply-to", replyTo);
  const keys = keysFor(prefix);

  assert.equal((await add("allowed", `telegram:${ALLOWED}`)).code, 0);
  await redis.sadd(keys.telegramPaired, pairedMember(loadSigner(home.home), 702));
  assert.equal((await add("paired", "telegram:702")).code, 0);

  const unknown = await add("stranger", "telegram:999");
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /schedule "stranger": replyTo telegram:999 is not a chat the gateway talks to; add 999 to telegram\.allowedChats, or pair the chat/);
  // Attack: Redis write access alone does not make a chat a pairing.
  await redis.sadd(keys.telegramPaired, "703");
  const forged = await add("forged", "telegram:703");
  assert.equal(forged.code, 1);
  assert.match(forged.err, /telegram:703 is not a chat the gateway talks to/);
  const socket = await add("socket", "ws:conn-1");
  assert.equal(socket.code, 1);
  assert.match(socket.err, /replyTo.*not a chat address; use "telegram:<chat id>"/);

  assert.deepEqual((await redis.hkeys(keys.schedules)).sort(), ["allowed", "paired"], "nothing stored for the refused ones");
});
