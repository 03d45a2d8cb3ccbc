// Budgets (issue 17 items 2 and 4) in a REAL pi (RPC mode, the faux model, whose messages carry
// usage) from a real redis-server: a per-source flood of 1 000 events starts at most
// budget.perSource runs and loses nothing (every id is in the history or still in flight, and
// all join the next run another source starts); past budget.daily heartbeats prompt no more,
// events wait, an urgent one still runs, budget.exhausted is pushed once, the status line,
// `/gateway status` and `status --json` say so, and `/gateway resume` lets the held events in.
// Midnight itself is tested with an injected clock in test/core/budget.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { readSpend } from "../../core/spend.ts";
import { cliHome } from "../harness/cli.ts";
import { pollUntil, startPi, waitConnected, waitUserMessage, type RpcPi } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();
const FLOOD = 1_000;

const injected = (pi: RpcPi) => pi.userMessages().filter((m) => m.startsWith("[agent-gateway]"));

async function idsIn(key: "history" | "inflight", prefix: string): Promise<string[]> {
  const keys = keysFor(prefix);
  if (key === "inflight") return (await producer.lrange(keys.inflight(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw).id);
  const entries = await producer.xrange(keys.history(CENTRAL_SESSION), "-", "+");
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("raw") + 1]!).id);
}

test("budget.perSource: a flood of 1 000 events in a minute starts at most 6 runs; every event is kept and joins the next run", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, config: { sweepInterval: "10m", budget: { perSource: 6 } } });
  try {
    await waitConnected(pi);
    const started = Date.now();
    for (let n = 0; n < FLOOD; n++) await pushEvent(producer, config, { id: `f${n}`, type: "alert.fired", source: "flood", payload: { n } });
    assert.ok(Date.now() - started < 60_000, "the flood took under a minute");
    // How many runs the flood needs depends on how fast pi takes them (a busy pi coalesces more):
    // events of the same source follow, one at a time, until the budget holds them. Each one
    // either starts a run (at most 6 can) or waits, so 7 are always enough.
    const held = () => pi.statuses().at(-1)?.includes("budget.perSource") === true;
    let total = FLOOD;
    while (!held() && total < FLOOD + 7) {
      const before = injected(pi).length;
      await pushEvent(producer, config, { id: `f${total}`, type: "alert.fired", source: "flood", payload: { n: total } });
      total += 1;
      await pollUntil("a run, or the budget holding the flood", async () => injected(pi).length > before || held(), 30_000);
    }
    await pollUntil(
      "the flood all drained into flight",
      async () => (await producer.llen(keys.inbox(CENTRAL_SESSION))) === 0 && pi.statuses().at(-1)?.includes("budget.perSource") === true,
      30_000,
    ).catch(async (error) => {
      throw new Error(`${error.message}; inbox ${await producer.llen(keys.inbox(CENTRAL_SESSION))}, status ${pi.statuses().at(-1)}`);
    });
    const runs = injected(pi).length;
    assert.ok(runs >= 1 && runs <= 6, `${runs} runs started`);
    const kept = new Set([...(await idsIn("history", prefix)), ...(await idsIn("inflight", prefix))]);
    assert.equal(kept.size, total, "every event delivered (history) or waiting in flight");
    assert.match(pi.statuses().at(-1)!, /source over budget\.perSource, waiting until \d\d:\d\d/);

    await pushEvent(producer, config, { id: "other", type: "build.done", source: "ci" });
    await waitUserMessage(pi, "build.done");
    await pollUntil("everything acknowledged", async () => (await producer.llen(keys.inflight(CENTRAL_SESSION))) === 0, 30_000);
    assert.equal(injected(pi).length, runs + 1, "the held flood joined ci's run: one more prompt");
    const history = new Set(await idsIn("history", prefix));
    for (let n = 0; n < total; n++) assert.ok(history.has(`f${n}`), `f${n} delivered`);
  } finally {
    await pi.kill();
  }
});

test("budget.daily: heartbeats stop prompting, events wait, urgent passes, budget.exhausted once; status shows it; /gateway resume lets them in", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const settings = { sweepInterval: "10m", budget: { daily: { tokens: 1 } } };
  const pi = await startPi({ redisUrl: server.url, prefix, config: settings });
  try {
    await waitConnected(pi);
    await pushEvent(producer, config, { id: "first", type: "build.done", source: "ci" });
    await waitUserMessage(pi, "build.done");
    await pollUntil("the first run's usage recorded", async () => (await readSpend(producer, prefix, Date.now()))[0]!.automated.runs === 1);

    await pushEvent(producer, config, { type: "cron.heartbeat", source: "scheduler" });
    await waitUserMessage(pi, "budget.exhausted");
    await pi.waitFor("the notice", (l) => l.type === "extension_ui_request" && String(l.message).includes("daily budget for automated runs reached"));
    assert.ok(await producer.get(keys.lastHeartbeat), "the heartbeat was taken in");
    assert.ok(!pi.userMessages().some((m) => m.includes("## Heartbeat")), "no heartbeat prompt");

    await pushEvent(producer, config, { id: "waits", type: "job.finished", source: "ci" });
    await pollUntil("the status line says why", () => /daily budget reached, waiting until \d\d:\d\d/.test(pi.statuses().at(-1) ?? ""));
    await pushEvent(producer, config, { id: "fire", type: "disk.full", source: "mon", priority: "urgent" });
    await waitUserMessage(pi, "disk.full");
    assert.ok(!pi.userMessages().some((m) => m.includes("job.finished")), "the normal event still waits");
    assert.deepEqual(await idsIn("inflight", prefix), ["waits"]);

    await pi.prompt("/gateway status");
    const status = await pi.waitFor("/gateway status", (l) => l.type === "extension_ui_request" && l.method === "notify" && String(l.message).startsWith("session "));
    assert.match(String(status.message), /daily budget \(automated runs\): \d+ \/ 1 tokens: REACHED/);
    assert.match(String(status.message), /budget wait: 1 events held: daily budget reached/);
    const cli = cliHome(server.url, prefix, settings);
    assert.match((await cli.run(["status"])).stdout, /Budget:\n {2}daily budget \(automated runs\): \d+ \/ 1 tokens: REACHED/);
    const json = JSON.parse((await cli.run(["status", "--json"])).stdout);
    assert.equal(json.budget.daily.reached, true);

    await pi.prompt("/gateway resume");
    await waitUserMessage(pi, "job.finished");
    assert.equal(pi.userMessages().filter((m) => m.includes('"budget.exhausted"')).length, 1, "budget.exhausted delivered once");
    assert.equal(pi.notifications().filter((n) => n.message.includes("daily budget for automated runs reached")).length, 1, "one notice");
  } finally {
    await pi.kill();
  }
});

test("budget config: a bad value exits 78 naming the field", async () => {
  for (const [budget, field] of [
    [{ perSource: -1 }, "budget.perSource"],
    [{ automatedPerHour: 1.5 }, "budget.automatedPerHour"],
    [{ daily: { cost: "lots" } }, "budget.daily.cost"],
    [{ daily: { token: 5 } }, "budget.daily"],
    [{ hard: "maybe" }, "budget.hard"],
  ] as const) {
    const result = await cliHome(server.url, server.prefix(), { budget }).run(["status"]);
    assert.equal(result.code, 78, field);
    assert.match(result.stderr, new RegExp(`config error: ${field.replaceAll(".", "\\.")} \\(from .*config\\.json\\)`), field);
  }
});
