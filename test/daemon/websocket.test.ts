// The daemon's WebSocket channel with a real `ws` client, the daemon in-process with pi's SDK and
// the faux model (test/fixtures/daemon-llm.ts), against a real redis-server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { createLogger } from "../../core/log.ts";
import { startDaemon, type Daemon } from "../../daemon/main.ts";
import { CLOSE } from "../../daemon/channels/websocket.ts";
import { daemonHome, WsClient } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const home = daemonHome(server.url, server.prefix());
let daemon: Daemon;
let port: number;

before(async () => {
  const config = home.config();
  const log = createLogger({ dir: join(home.home, "logs"), kind: "daemon", level: "debug" });
  daemon = await startDaemon({ config, agentDir: home.agentDir, log });
  port = daemon.wsPort!;
});
after(() => daemon?.stop("test over"));

test("a WebSocket prompt streams text and ends with one settled reply", async () => {
  const client = await WsClient.connect(port);
  const res = await client.request("prompt", { text: "hello there" });
  assert.equal(res.ok, true);
  assert.equal(res.payload?.queued, true);
  const settled = await client.next((f) => f.event === "run" && f.payload?.state === "settled" && f.payload?.messageId === res.id);
  const mine = client.frames.filter((f) => f.payload?.messageId === res.id);
  const deltas = mine.filter((f) => f.event === "delta").map((f) => f.payload!.text).join("");
  const replies = mine.filter((f) => f.event === "reply");
  assert.equal(replies.length, 1, "exactly one settled reply");
  assert.match(replies[0]!.payload!.text!, /^echo: hello there \| first: hello there/);
  assert.equal(deltas, replies[0]!.payload!.text, "the streamed text adds up to the reply");
  assert.deepEqual(
    mine.filter((f) => f.event === "run").map((f) => f.payload!.state),
    ["running", "settled"],
  );
  assert.ok(settled.seq! > replies[0]!.seq!, "the reply comes before the run settles");
  const seqs = client.frames.filter((f) => f.type === "event").map((f) => f.seq!);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "event frames are numbered 1, 2, 3, ...");
});

test("a wrong token is refused and the socket closed", async () => {
  const client = await WsClient.open(port);
  const res = await client.request("auth", { token: "wrong-token-wrong-token" });
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "unauthorized");
  assert.equal(await client.closed, CLOSE.unauthorized);
});

test("a first frame that is not auth is refused: no prompt runs without the token", async () => {
  const client = await WsClient.open(port);
  const res = await client.request("prompt", { text: "sneaky" });
  assert.equal(res.ok, false);
  assert.equal(res.error?.code, "unauthorized");
  assert.equal(await client.closed, CLOSE.unauthorized);
  assert.ok(!home.sessionUserTexts().includes("sneaky"));
});

test("malformed frames get an error frame and the socket stays usable", async () => {
  const client = await WsClient.connect(port);
  client.sendRaw("{not json");
  const notJson = await client.next((f) => f.type === "error");
  assert.equal(notJson.error?.code, "bad_frame");
  assert.match(notJson.error!.message, /not JSON/);
  client.sendRaw(JSON.stringify({ type: "req", id: "x1" }));
  const noMethod = await client.next((f) => f.type === "res" && f.id === "x1");
  assert.equal(noMethod.ok, false);
  assert.equal(noMethod.error?.code, "bad_frame");
  const unknown = await client.request("launch");
  assert.equal(unknown.error?.code, "unknown_method");
  const empty = await client.request("prompt", { text: "   " });
  assert.equal(empty.error?.code, "bad_params");
  const status = await client.request("status");
  assert.equal(status.ok, true);
  assert.match(String(status.payload?.text), /Running: /);
  assert.match(await client.ask("still here?"), /^echo: still here\?/);
});

test("`new` starts a fresh session: the next prompt sees no earlier messages", async () => {
  const client = await WsClient.connect(port);
  assert.match(await client.ask("before new"), /users: [2-9]/);
  const res = await client.request("new");
  assert.equal(res.ok, true);
  assert.match(String(res.payload?.text), /Started a new session/);
  assert.match(await client.ask("after new"), /^echo: after new \| first: after new \| users: 1$/);
});
