// The runaway breaker (issue 17.6) in a REAL pi (RPC mode, fake LLM): an event pushed by the
// agent from inside a run the gateway started carries a chain depth; past budget.maxChainDepth
// it is held (not refused, not lost), the status line says so, and the next run a human starts
// gets it. `agent-gateway push` run from such a run's bash tool inherits the depth (env).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHAIN_ENV } from "../../core/chain.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { cliHome } from "../harness/cli.ts";
import { pollUntil, startPi, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();

test("breaker: an event the agent pushes from an automated run past maxChainDepth is held until a human run", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, config: { sweepInterval: "10m", budget: { maxChainDepth: 0 } } });
  try {
    await waitConnected(pi);
    // The fake model answers "[push:<type>]" by calling gateway_push: an automated run pushing.
    await pushEvent(producer, config, { type: "loop.start", source: "test", payload: { note: "[push:chain.next]" } });
    await waitUserMessage(pi, "## Type \"loop.start\"");
    await pollUntil("the pushed event held", async () => (await producer.llen(keys.held(CENTRAL_SESSION))) === 1);
    const [held] = await producer.lrange(keys.held(CENTRAL_SESSION), 0, -1);
    assert.equal(JSON.parse(held!).chain, 1);
    await pollUntil("the status line says so", () => pi.statuses().some((s) => /1 held \(chain too deep/.test(s)));
    assert.ok(!pi.userMessages().some((m) => m.includes("## Type \"chain.next\"")), "not delivered while held");

    await pi.waitFor("the automated run to end", (l) => l.type === "agent_end");
    await pi.prompt("the human is back");
    await waitUserMessage(pi, "## Type \"chain.next\"");
    assert.equal(await producer.llen(keys.held(CENTRAL_SESSION)), 0);
  } finally {
    await pi.kill();
  }
});

test("breaker: `agent-gateway push` inside a gateway-started run carries the exported chain depth", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const result = await cli.run(["push", "from.bash"], { env: { [CHAIN_ENV]: "3" } });
  assert.equal(result.code, 0, result.stderr);
  const [raw] = await producer.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(JSON.parse(raw!).chain, 3);
});

test("breaker: `agent-gateway run` inside a gateway-started run reports with the exported chain depth", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  const result = await cli.run(["run", "--", "true"], { env: { [CHAIN_ENV]: "2" } });
  assert.equal(result.code, 0, result.stderr);
  const [raw] = await producer.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(JSON.parse(raw!).type, "job.done");
  assert.equal(JSON.parse(raw!).chain, 2);
});
