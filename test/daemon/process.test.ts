// The daemon as a real process (`agent-gateway daemon`, pi's SDK with the faux model through
// the user's settings path): SIGKILL mid-queue and restart, two daemons at once, SIGTERM,
// config errors. Real redis-server, real WebSocket clients.
import assert from "node:assert/strict";
import { test } from "node:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { daemonHome, spawnDaemon, until, WsClient } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const redis = await server.consumer();

test("SIGKILLed mid-queue and restarted: the session resumes, no Redis event is lost, a queued message is answered once", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  const home = daemonHome(server.url, prefix);
  const config = home.config();

  const first = spawnDaemon(home);
  const client = await WsClient.connect(await first.port);
  assert.match(await client.ask("remember apple"), /^echo: remember apple/);
  const slow = await client.request("prompt", { text: "SLOW long job" });
  await client.next((f) => f.event === "run" && f.payload?.state === "running" && f.payload?.messageId === slow.id);
  const ids = ["ev-a", "ev-b", "ev-c"];
  for (const id of ids) await pushEvent(redis, config, { id, type: "job.done", source: "test", payload: { id } });
  const queued = await client.request("prompt", { text: "queued question" });
  assert.equal(queued.ok, true);
  await until(async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) > 0, "an event batch drained into the queue");

  first.child.kill("SIGKILL");
  assert.equal((await first.exited).signal, "SIGKILL");
  assert.equal(await redis.llen(keys.daemonQueue), 2, "both unanswered human messages are still stored");
  const waitingEvents = (await redis.llen(keys.inbox(CENTRAL_SESSION))) + (await redis.llen(keys.inflight(CENTRAL_SESSION)));
  assert.equal(waitingEvents, 3, "every event is still in Redis (inbox or in flight)");

  const second = spawnDaemon(home);
  const client2 = await WsClient.connect(await second.port);
  await until(
    async () =>
      (await redis.llen(keys.daemonQueue)) === 0 &&
      (await redis.llen(keys.inbox(CENTRAL_SESSION))) === 0 &&
      (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0,
    "the restarted daemon to work through the queue and the events",
    60_000,
  );
  const texts = home.sessionUserTexts();
  for (const id of ids) assert.ok(texts.some((t) => t.includes(`id: "${id}"`)), `event ${id} reached pi`);
  assert.equal(texts.filter((t) => t === "queued question").length, 1, "the queued message ran exactly once");
  assert.ok(texts.includes("SLOW long job"));
  // The session resumed: the first thing said before the crash is still in it.
  assert.match(await client2.ask("what came first?"), /first: remember apple/);

  // SIGTERM: clients are told, the process exits 0.
  second.child.kill("SIGTERM");
  const shutdown = await client2.next((f) => f.event === "shutdown");
  assert.ok(shutdown.payload);
  assert.deepEqual(await second.exited, { code: 0, signal: null });
});

test("two daemons started at once: the second exits with a clear message", async () => {
  const home = daemonHome(server.url, server.prefix());
  const [a, b] = [spawnDaemon(home), spawnDaemon(home)];
  const firstExit = await Promise.race([a.exited.then((r) => ({ who: a, other: b, ...r })), b.exited.then((r) => ({ who: b, other: a, ...r }))]);
  assert.equal(firstExit.code, 1);
  assert.match(firstExit.who.stderr(), /another agent-gateway daemon is already running \(pid \d+/);
  const survivor = firstExit.other;
  const client = await WsClient.connect(await survivor.port);
  assert.match(await client.ask("only one of us"), /^echo: only one of us/);
  survivor.child.kill("SIGTERM");
  assert.equal((await survivor.exited).code, 0);
});

test("a configuration error exits 78 naming the field", async () => {
  const home = daemonHome(server.url, server.prefix());
  writeFileSync(join(home.home, "config.json"), JSON.stringify({ daemon: { port: "not-a-port" } }));
  const daemon = spawnDaemon(home);
  assert.equal((await daemon.exited).code, 78);
  assert.match(daemon.stderr(), /config error: daemon\.port/);
});
