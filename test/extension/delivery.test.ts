// The pi extension delivering events into a REAL pi CLI (RPC mode, fake LLM) from a real
// redis-server: the seed's shell commands, follow-ups while streaming, and the agent_end window.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { fixture, pollUntil, startPi, waitConnected, waitUserMessage, type RpcLine } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();

// A long sweep: every delivery below must come from a real wake-up, not the safety sweep.
const QUIET = { sweepInterval: "10m" };

const isUser = (l: RpcLine) => l.type === "message_end" && (l.message as { role: string }).role === "user";

test("the seed's checklist: LPUSH + PUBLISH from redis-cli reach the session as one user message", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, config: QUIET });
  try {
    assert.match(await waitConnected(pi), /^gateway · connected/);
    assert.ok(await server.client().sismember(keys.sessions, CENTRAL_SESSION), "central session registered");
    const redis = server.client();
    // Byte for byte the seed's commands (legacy inbox `main`), with this test's prefix.
    await redis.lpush(keys.inbox("main"), '{"id":"test","type":"test","source":"manual","payload":{},"ts":0}');
    await redis.publish(keys.notify("main"), "test");
    const taken = await waitUserMessage(pi, '## Type "test"');
    assert.match(JSON.stringify(taken), /source: \\"manual\\" · id: \\"test\\"/);
    await pi.waitFor("the run to end", (l) => l.type === "agent_end");
    await pollUntil("the batch acknowledged", async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0);
    assert.equal(await redis.llen(keys.inbox("main")), 0);
    assert.equal(pi.userMessages().filter((m) => m.includes('## Type "test"')).length, 1, "delivered once");
  } finally {
    await pi.kill();
  }
});

test("while pi streams an event becomes a follow-up of the same run; one pushed inside agent_end is not stranded", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, config: QUIET, fixtures: [fixture("push-at-agent-end.ts")] });
  try {
    await waitConnected(pi);
    await pi.prompt("[slow] a long task");
    await pi.waitFor("the slow run to start", (l) => l.type === "agent_start");
    await pushEvent(producer, config, { type: "build.done", source: "ci", payload: { target: "release" } });
    await waitUserMessage(pi, '## Type "build.done"');
    const firstEnd = pi.lines.findIndex((l) => l.type === "agent_end");
    const followUp = pi.lines.findIndex((l) => isUser(l) && JSON.stringify(l).includes('## Type \\"build.done\\"'));
    assert.ok(firstEnd === -1 || followUp < firstEnd, "the event joined the running run as a follow-up");
    await pi.waitFor("the run to end", (l) => l.type === "agent_end");
    assert.equal(pi.lines.filter((l) => l.type === "agent_start").length, 1, "no second run was needed");

    // The fixture pushes + publishes from inside pi's agent_end handler.
    await pi.prompt("a quick one [push-at-end]");
    await waitUserMessage(pi, '## Type "pushed.at-agent-end"');
    await pollUntil("every run settled", async () => {
      const state = await pi.send({ type: "get_state" });
      const data = state.data as { isStreaming: boolean; pendingMessageCount: number };
      return !data.isStreaming && data.pendingMessageCount === 0;
    });
    await pollUntil("the batch acknowledged", async () => (await producer.llen(keys.inflight(CENTRAL_SESSION))) === 0);
    assert.equal(pi.userMessages().filter((m) => m.includes('## Type "pushed.at-agent-end"')).length, 1, "delivered once");
    assert.equal(pi.userMessages().filter((m) => m.includes('## Type "build.done"')).length, 1, "delivered once");
  } finally {
    await pi.kill();
  }
});
