// Spend measured (issue 17.3) with a REAL pi (RPC mode, the faux model, whose messages carry
// the usage pi-ai's faux provider estimates): a run the gateway started is recorded as
// automated, a run a human started apart; `agent-gateway status` (and --json) and
// `/gateway status` show today's automated tokens.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pushEvent } from "../../core/push.ts";
import { localDay, readSpend } from "../../core/spend.ts";
import { cliHome } from "../harness/cli.ts";
import { pollUntil, startPi, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();

test("spend: an event's run is recorded as automated, a human's apart; status and /gateway status show it", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, config: { sweepInterval: "10m" } });
  try {
    await waitConnected(pi);
    await pushEvent(producer, config, { type: "build.done", source: "ci", payload: { ok: true } });
    await waitUserMessage(pi, "## Type \"build.done\"");
    await pi.waitFor("the event's run to end", (l) => l.type === "agent_end");
    await pollUntil("the automated run recorded", async () => (await readSpend(producer, prefix, Date.now()))[0]!.automated.runs === 1);
    await pi.prompt("hello from the human");
    await pollUntil("the human run recorded", async () => (await readSpend(producer, prefix, Date.now()))[0]!.human.runs === 1);
    const [today] = await readSpend(producer, prefix, Date.now());
    assert.equal(today!.day, localDay(Date.now()));
    assert.equal(today!.automated.runs, 1, "the human run is not counted as automated");
    assert.ok(today!.automated.input > 0 && today!.automated.output > 0, "the faux model's usage was summed");

    const cli = cliHome(server.url, prefix);
    const status = await cli.run(["status"]);
    assert.match(status.stdout, /automated runs today: 1 run, \d+ tokens \(in \d+ · out \d+/);
    const json = JSON.parse((await cli.run(["status", "--json"])).stdout);
    assert.equal(json.spend[0].automated.runs, 1);
    assert.equal(json.spend.length, 7);

    const before = pi.notifications().length;
    await pi.prompt("/gateway status");
    const line = await pi.waitFor("/gateway status", (l) => l.type === "extension_ui_request" && l.method === "notify" && pi.notifications().length > before);
    assert.match(String(line.message), /automated runs today: 1 run/);
  } finally {
    await pi.kill();
  }
});
