// Attacks on the daemon's WebSocket channel, replayed against the real daemon (in-process, pi's
// SDK with the faux model test/fixtures/daemon-llm.ts) and a real redis-server; each test
// asserts the refusal, not only that nothing crashed.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { createLogger } from "../../core/log.ts";
import { CLOSE, MAX_CONNECTIONS, QUEUE_HEAD } from "../../daemon/channels/websocket.ts";
import { startDaemon, type Daemon } from "../../daemon/main.ts";
import { daemonHome, until, WS_TOKEN, WsClient, type Frame } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";

const QUEUE_LIMIT = 50;
const ALLOWED_ORIGIN = "http://localhost:5173";
const server = await startRedis();
const home = daemonHome(server.url, server.prefix(), {
  daemon: { queueLimit: QUEUE_LIMIT, allowedOrigins: [ALLOWED_ORIGIN], shutdownTimeout: "1s", turnTimeout: "2m" },
});
let daemon: Daemon;
let port: number;

before(async () => {
  const log = createLogger({ dir: join(home.home, "logs"), kind: "daemon", level: "debug" });
  daemon = await startDaemon({ config: home.config(), agentDir: home.agentDir, log });
  port = daemon.wsPort!;
});
after(() => daemon?.stop("test over"));

/** A raw socket (no harness client) from a chosen loopback address, with optional headers. */
function rawSocket(options: { localAddress?: string; origin?: string } = {}): Promise<{ socket: WebSocket; frames: Frame[]; closed: Promise<number> } | { refused: number }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { localAddress: options.localAddress, headers: options.origin ? { origin: options.origin } : {} });
  const frames: Frame[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Frame));
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  after(() => socket.terminate());
  return new Promise((resolve) => {
    socket.once("open", () => resolve({ socket, frames, closed }));
    socket.once("unexpected-response", (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    socket.once("error", () => {});
  });
}

const authFrame = (token: string, id: string) => JSON.stringify({ type: "req", id, method: "auth", params: { token } });
const promptFrame = (text: string, id: string) => JSON.stringify({ type: "req", id, method: "prompt", params: { text } });

test("attack: 2 000 wrong auth frames then the right token and a prompt, back to back on one socket — nothing runs, the socket is cut, one log line", async () => {
  const opened = await rawSocket();
  assert.ok("socket" in opened);
  const { socket, frames, closed } = opened;
  const burst = [...Array.from({ length: 2_000 }, (_, i) => authFrame(`guess-${i}-wrong-wrong-wrong`, `a${i}`)), authFrame(WS_TOKEN, "right"), promptFrame("BLIND-AUTH-PROMPT", "p1")];
  for (const frame of burst) socket.send(frame);
  assert.equal(await closed, CLOSE.unauthorized);
  assert.deepEqual(frames.map((f) => [f.id, f.error?.code]), [["a0", "unauthorized"]], "only the first frame was answered");
  // Give a wrongly queued prompt every chance to show up, then check pi never saw it.
  assert.match(await (await WsClient.connect(port)).ask("after the attack"), /^echo: after the attack/);
  assert.ok(!home.sessionUserTexts().some((t) => t.includes("BLIND-AUTH-PROMPT")), "the prompt after the right token never ran");
  const refusals = home.logText().split("\n").filter((l) => l.includes("WebSocket client refused"));
  assert.equal(refusals.length, 1, "one warn line for the refused connection, not one per frame");
});

test("attack: a cross-site page (an Origin not listed) cannot open the socket; a listed Origin and a client without Origin can", async () => {
  const evil = await rawSocket({ origin: "https://evil.example" });
  assert.deepEqual(evil, { refused: 403 });
  const listed = await rawSocket({ origin: ALLOWED_ORIGIN });
  assert.ok("socket" in listed, "a listed Origin connects");
  listed.socket.send(authFrame(WS_TOKEN, "ok"));
  await until(() => listed.frames.find((f) => f.id === "ok")?.ok, "the listed origin's auth");
  assert.ok("socket" in (await rawSocket()), "a non-browser client (no Origin) connects");
});

test("attack: guessing from one address — after 5 failed auths within a minute the address is refused for 60 s, even with the right token; other addresses are not", async () => {
  const from = "127.0.0.2";
  for (let i = 0; i < 5; i++) {
    const guess = await rawSocket({ localAddress: from });
    assert.ok("socket" in guess, `attempt ${i + 1} may try`);
    guess.socket.send(authFrame(`wrong-guess-${i}-xxxxxxxxxxxx`, "g"));
    assert.equal(await guess.closed, CLOSE.unauthorized);
  }
  assert.deepEqual(await rawSocket({ localAddress: from }), { refused: 429 }, "the sixth connection is refused before any frame");
  assert.match(await (await WsClient.connect(port)).ask("other address"), /^echo: other address/, "127.0.0.1 is unaffected");
});

test("attack: 10 000 prompt frames at once (100 connections × 100) — at most queueLimit accepted, every other one answered `refused` with its reason, bounded queue events, RSS +<100 MiB", async () => {
  const holder = await WsClient.connect(port);
  const stuck = await holder.request("prompt", { text: "STUCK hold the lane" });
  assert.equal(stuck.ok, true);
  await holder.next((f) => f.event === "run" && f.payload?.state === "running");
  const rssBefore = process.memoryUsage().rss;
  // Ten at a time: one address may hold only 16 sockets waiting to authenticate.
  const clients: WsClient[] = [];
  for (let batch = 0; batch < 10; batch++) clients.push(...(await Promise.all(Array.from({ length: 10 }, () => WsClient.connect(port)))));
  for (const [c, client] of clients.entries()) {
    for (let i = 0; i < 100; i++) client.sendRaw(promptFrame(`flood ${c}-${i}`, `f${c}-${i}`));
  }
  const answers = await Promise.all(
    clients.flatMap((client, c) => Array.from({ length: 100 }, (_, i) => client.next((f) => f.type === "res" && f.id === `f${c}-${i}`, 120_000))),
  );
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  const accepted = answers.filter((a) => a.ok);
  const refused = answers.filter((a) => !a.ok);
  assert.equal(answers.length, 10_000);
  assert.ok(accepted.length <= QUEUE_LIMIT, `${accepted.length} accepted, limit ${QUEUE_LIMIT}`);
  assert.equal(accepted.length, QUEUE_LIMIT, "the queue filled up to its limit");
  for (const r of refused) {
    assert.equal(r.error?.code, "refused");
    assert.match(r.error!.message, /queue is full|rate limit/);
  }
  assert.ok(refused.some((r) => /rate limit: at most 20 requests a second/.test(r.error!.message)), "the per-connection rate limit answered");
  assert.ok(refused.some((r) => /queue is full/.test(r.error!.message)), "the queue limit answered");
  assert.ok(rssGrowth < 100 * 1024 * 1024, `RSS grew ${(rssGrowth / 1024 / 1024).toFixed(1)} MiB`);
  const queueEvents = clients[0]!.frames.filter((f) => f.event === "queue");
  assert.ok(queueEvents.length > 0);
  for (const e of queueEvents) {
    const payload = e.payload as unknown as { waiting: number; head: unknown[] };
    assert.equal(typeof payload.waiting, "number");
    assert.ok(payload.head.length <= QUEUE_HEAD, "a queue event lists at most the head of the queue");
    assert.ok(JSON.stringify(e).length < 4_000, "a queue event stays small");
  }
  const last = queueEvents.at(-1)!.payload as unknown as { waiting: number; human: number };
  assert.equal(last.human, QUEUE_LIMIT);
  console.log(`# flood: ${accepted.length} accepted, ${refused.length} refused, RSS +${(rssGrowth / 1024 / 1024).toFixed(1)} MiB, ${queueEvents.length} queue events to one client`);
});

test("attack: guessing in parallel — 16 sockets opened from one address before any auth fails get 5 token checks, not 16; the rest (even the right token) are refused as backing off", async () => {
  const from = "127.0.0.3";
  const sockets = await Promise.all(Array.from({ length: 16 }, () => rawSocket({ localAddress: from })));
  const opened = sockets.map((s) => {
    assert.ok("socket" in s, "every socket opened before the first failure");
    return s;
  });
  // 15 guesses, then the right token last: once the address is backing off, no token is checked.
  for (const [i, { socket }] of opened.entries()) socket.send(authFrame(i === 15 ? WS_TOKEN : `parallel-guess-${i}-xxxxxxxxxxxx`, `g${i}`));
  await until(() => opened.every((s) => s.frames.some((f) => f.type === "res")), "an answer on every socket");
  const answers = opened.map((s) => s.frames.find((f) => f.type === "res")!);
  const messages = answers.map((a) => a.error?.message ?? "authenticated");
  assert.equal(messages.filter((m) => m === "wrong token").length, 5, `only 5 tokens were compared: ${messages.join(" | ")}`);
  assert.equal(messages.filter((m) => /too many failed auth attempts/.test(m)).length, 11, messages.join(" | "));
  assert.deepEqual(await Promise.all(opened.map((s) => s.closed)), Array(16).fill(CLOSE.unauthorized), "every socket refused, the right token's too");
});

test("attack: holding sockets open without authenticating — one address gets 16 waiting at once, the next is refused (429) at the upgrade; an authenticated one frees its place", async () => {
  const from = "127.0.0.4";
  const waiting: { socket: WebSocket; frames: Frame[] }[] = [];
  for (let i = 0; i < 16; i++) {
    const s = await rawSocket({ localAddress: from });
    assert.ok("socket" in s, `waiting socket ${i + 1} opens`);
    waiting.push(s);
  }
  assert.deepEqual(await rawSocket({ localAddress: from }), { refused: 429 }, "the 17th waiting socket is refused");
  assert.ok("socket" in (await rawSocket()), "other addresses are unaffected");
  waiting[0]!.socket.send(authFrame(WS_TOKEN, "ok"));
  await until(() => waiting[0]!.frames.find((f) => f.id === "ok")?.ok, "the first socket's auth");
  assert.ok("socket" in (await rawSocket({ localAddress: from })), "an authenticated socket no longer counts as waiting");
});

test("attack: connections from many loopback addresses — past MAX_CONNECTIONS open at once the next is closed unanswered; once they go, a client opens and authenticates again", async () => {
  // Each connection asks /health on a kept-alive socket: an accepted one answers, a refused one closes.
  const open: Socket[] = [];
  after(() => {
    for (const socket of open) socket.destroy();
  });
  const healthOn = (index: number) =>
    new Promise<{ socket: Socket; answered: boolean }>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port, localAddress: `127.0.${10 + Math.floor(index / 200)}.${1 + (index % 200)}` });
      socket.once("data", () => resolve({ socket, answered: true }));
      socket.once("close", () => resolve({ socket, answered: false }));
      socket.once("error", () => {});
      socket.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    });
  let refusedAt: number | undefined;
  for (let i = 0; i <= MAX_CONNECTIONS && refusedAt === undefined; i++) {
    const { socket, answered } = await healthOn(i);
    if (answered) open.push(socket);
    else refusedAt = i;
  }
  assert.ok(refusedAt !== undefined, `a connection past ${MAX_CONNECTIONS} was refused`);
  assert.ok(open.length <= MAX_CONNECTIONS, `${open.length} open at once`);
  for (const socket of open.splice(0)) socket.destroy();
  await until(async () => {
    const { socket, answered } = await healthOn(0);
    socket.destroy();
    return answered || undefined;
  }, "a connection is accepted again");
  await WsClient.connect(port); // opens and authenticates, or throws
});
