// The worker's Inngest functions run through @inngest/test (no Inngest server) against a real
// Redis: each event lands in the right inbox, and running a push step again (what Inngest does
// on a step retry) delivers nothing new.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InngestTestEngine, mockCtx } from "@inngest/test";
import { Inngest } from "inngest";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { holdLease, newLease } from "../../core/sessions.ts";
import { gatewayFunctions } from "../../worker/inngest/functions.ts";
import { gatewayNotify } from "../../worker/notify.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = await server.consumer();

function setup() {
  const config = testConfig(server.url, server.prefix());
  const client = new Inngest({ id: "agent-gateway", isDev: true });
  const [heartbeat, wake, notify] = gatewayFunctions(client, { redis, settings: config }, { pattern: "*/15 * * * *" });
  return { config, keys: keysFor(config.prefix), client, heartbeat: heartbeat!, wake: wake!, notify: notify! };
}

async function inbox(prefix: string, sid: string) {
  return (await redis.lrange(keysFor(prefix).inbox(sid), 0, -1)).map((raw) => JSON.parse(raw));
}

// @inngest/test draws a new runId for every execution of one run; a real Inngest server keeps
// it. Pin it, so a step callback re-run here is the same step of the same run.
function engine(fn: InngestTestEngine.Options["function"], event: { name: string; id: string; data: Record<string, unknown> }) {
  return new InngestTestEngine({ function: fn, events: [event], transformCtx: (raw) => ({ ...mockCtx(raw), runId: `run-${event.id}` }) });
}

type StepRun = { mock: { calls: [string, () => Promise<{ delivered: number; duplicate: boolean }>][] } };

/** Runs the function's first step callback again, as Inngest does when it retries the step. */
async function retryFirstStep(ctx: { step: { run: unknown } }) {
  const [[, callback]] = (ctx.step.run as StepRun).mock.calls as [[string, () => Promise<{ delivered: number; duplicate: boolean }>]];
  return callback();
}

test("inngest heartbeat cron: pushes cron.heartbeat to the central inbox; the step run twice delivers once", async () => {
  const { config, heartbeat } = setup();
  const t = engine(heartbeat, { name: "inngest/scheduled.timer", id: "tick-1", data: { cron: "*/15 * * * *" } });
  const { result, ctx, error } = await t.execute();
  assert.equal(error, undefined);
  assert.equal((result as { delivered: number }).delivered, 1);
  const retried = await retryFirstStep(ctx);
  assert.deepEqual([retried.delivered, retried.duplicate], [0, true]);
  const events = await inbox(config.prefix, CENTRAL_SESSION);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, "cron.heartbeat");
  assert.deepEqual(events[0].payload, { scheduler: "inngest", trigger: "cron" });
});

test("inngest gateway/heartbeat.wake: pushes a heartbeat on demand, once per step", async () => {
  const { config, wake } = setup();
  const t = engine(wake, { name: "gateway/heartbeat.wake", id: "wake-1", data: {} });
  const { ctx, error } = await t.execute();
  assert.equal(error, undefined);
  assert.equal((await retryFirstStep(ctx)).duplicate, true);
  const events = await inbox(config.prefix, CENTRAL_SESSION);
  assert.deepEqual(events.map((e) => [e.type, e.payload.trigger]), [["cron.heartbeat", "wake"]]);
});

test("inngest gateway/notify: the event reaches the central inbox and its live origin session, once", async () => {
  const { config, notify } = setup();
  await holdLease(redis, config.prefix, { lease: newLease("pid-77", "satellite"), ttl: 60_000 });
  const data = { type: "report.ready", source: "nightly", payload: { url: "file:///r.html" }, originSession: "pid-77", priority: "urgent" as const };
  const t = engine(notify, { name: "gateway/notify", id: "n-1", data });
  const { result, ctx, error } = await t.execute();
  assert.equal(error, undefined);
  assert.equal((result as { delivered: number }).delivered, 2);
  assert.equal((await retryFirstStep(ctx)).duplicate, true);
  for (const sid of [CENTRAL_SESSION, "pid-77"]) {
    const events = await inbox(config.prefix, sid);
    assert.equal(events.length, 1, `one event in ${sid}`);
    assert.deepEqual(
      { type: events[0].type, source: events[0].source, payload: events[0].payload, priority: events[0].priority },
      { type: "report.ready", source: "nightly", payload: { url: "file:///r.html" }, priority: "urgent" },
    );
  }
});

test("inngest gateway/notify: data that breaks the schema is refused, nothing is pushed", async () => {
  const { config, notify } = setup();
  const t = engine(notify, { name: "gateway/notify", id: "n-2", data: { type: "", payload: "nope" } });
  const { error } = await t.execute();
  assert.match(String((error as Error)?.message ?? JSON.stringify(error)), /type|payload/);
  assert.equal((await inbox(config.prefix, CENTRAL_SESSION)).length, 0);
});

test("gatewayNotify in a user's function: one line pushes; two calls in one run are two events", async () => {
  const { config, client } = setup();
  const target = { redis, settings: config };
  const deploy = client.createFunction({ id: "deploy", triggers: [{ event: "app/deploy" }] }, async (ctx) => {
    await gatewayNotify(ctx, { type: "deploy.started", payload: { env: "prod" } }, { target });
    return gatewayNotify(ctx, { type: "deploy.started", payload: { env: "prod", again: true } }, { target });
  });
  const { error, ctx } = await engine(deploy, { name: "app/deploy", id: "d-1", data: {} }).execute();
  assert.equal(error, undefined);
  assert.equal((await retryFirstStep(ctx)).duplicate, true);
  const events = await inbox(config.prefix, CENTRAL_SESSION);
  assert.deepEqual(events.map((e) => [e.source, e.payload.again ?? false]).reverse(), [["inngest", false], ["inngest", true]]);
  assert.notEqual(events[0].id, events[1].id);
});
