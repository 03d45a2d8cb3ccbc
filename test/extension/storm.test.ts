// A storm is one prompt in a REAL pi (RPC mode, fake LLM) from a real redis-server: a
// 20 000-event backlog waiting when pi starts becomes at most 3 prompts, and the agent's
// gateway_events tool, paged by its cursor, returns every one of the 20 000 ids.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvents } from "../../core/push.ts";
import { pollUntil, startPi, waitConnected, type RpcLine } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();
const BACKLOG = 20_000;

test("a 20 000-event backlog becomes ≤ 3 prompts; gateway_events returns every id", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix, { pushDedupeWindow: 0 });
  const keys = keysFor(prefix);
  for (let i = 0; i < BACKLOG; i += 1000) {
    await pushEvents(producer, config, Array.from({ length: 1000 }, (_, k) => ({ id: `e${i + k}`, type: (i + k) % 2 ? "build.done" : "job.finished", source: "ci", payload: { n: i + k } })));
  }
  const pi = await startPi({ redisUrl: server.url, prefix, config: { sweepInterval: "10m" } });
  try {
    await waitConnected(pi);
    await pollUntil("the backlog acknowledged", async () => (await producer.llen(keys.inflight(CENTRAL_SESSION))) + (await producer.llen(keys.inbox(CENTRAL_SESSION))) === 0, 30_000);
    const prompts = pi.userMessages().filter((m) => m.startsWith("[agent-gateway]"));
    assert.ok(prompts.length >= 1 && prompts.length <= 3, `${prompts.length} prompts`);
    assert.match(prompts[0]!, /background events drained at once/);
    assert.match(prompts[0]!, /gateway_events/);
    await pi.waitFor("the storm's run to end", (l) => l.type === "agent_end");

    await pi.prompt("[events] read the whole storm");
    await pi.waitFor("the paging run to end", (l) => l.type === "agent_end" && JSON.stringify(l).includes("events read"), 40_000);
    const ids = pi.lines
      .filter((l: RpcLine) => l.type === "tool_execution_end" && l.toolName === "gateway_events")
      .flatMap((l) => ((l.result as { details: { ids: string[] } }).details.ids));
    assert.equal(ids.length, BACKLOG);
    assert.deepEqual(new Set(ids), new Set(Array.from({ length: BACKLOG }, (_, n) => `e${n}`)));
  } finally {
    await pi.kill();
  }
});
