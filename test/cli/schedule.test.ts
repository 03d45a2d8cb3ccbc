// `agent-gateway schedule` as a user runs it, against a real redis-server: add / list / next /
// run / rm; config schedules shown but never changed; the 50-entry cap; bad input refused with
// the field named; an invalid config schedule stops every command with exit 78.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { loadSigner } from "../../core/signing.ts";
import { addRuntimeSchedule } from "../../core/schedule-store.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = server.client();

const configSchedules = { schedules: { brief: { cron: "20 7 * * 1-5", timezone: "Europe/Paris", prompt: "Brief me on the day" } } };

test("schedule add / list / next / run / rm against a real Redis", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix, configSchedules);
  const added = await cli.run(["schedule", "add", "check", "--every", "2h", "--prompt", "Check the nightly build"]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /schedule "check" added \(every 7200s\); next run \d{4}-/);
  const at = await cli.run(["schedule", "add", "renew", "--at", "2099-01-02T09:00", "--timezone", "Europe/Paris", "--prompt", "Renew the certificate"]);
  assert.equal(at.code, 0, at.stderr);

  const list = await cli.run(["schedule", "list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /ID\s+FROM\s+WHEN\s+NEXT\s+LAST/);
  assert.match(list.stdout, /brief\s+config\s+cron 20 7 \* \* 1-5/);
  assert.match(list.stdout, /check\s+cli\s+every 7200s/);
  assert.match(list.stdout, /renew\s+cli\s+at 2099-01-02T09:00\s+2099-01-02 \d\d:00:00/);
  const json = JSON.parse((await cli.run(["schedule", "list", "--json"])).stdout);
  assert.deepEqual(json.schedules.map((s: { id: string }) => s.id), ["brief", "check", "renew"]);
  assert.equal(json.schedules[2].next, "2099-01-02T08:00:00.000Z", "09:00 in Paris in winter is 08:00 UTC");

  const next = JSON.parse((await cli.run(["schedule", "next", "brief", "--json"])).stdout);
  assert.equal(next[0].next.length, 5);
  for (const t of next[0].next) {
    const paris = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", weekday: "short" }).format(Date.parse(t));
    assert.match(paris, /^(Mon|Tue|Wed|Thu|Fri) 07:20$/);
  }

  const ran = await cli.run(["schedule", "run", "check"]);
  assert.equal(ran.code, 0, ran.stderr);
  const [event] = (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r));
  assert.equal(event.payload.schedule, "check");
  assert.equal(event.payload.trigger, "manual");
  assert.ok(!JSON.stringify(event).includes("nightly build"), "the event carries the id, not the prompt");

  const removed = await cli.run(["schedule", "rm", "check"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await redis.hexists(keysFor(prefix).schedules, "check"), 0);
  const again = await cli.run(["schedule", "rm", "check"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no run-time schedule "check"/);
});

test("schedule: config schedules cannot be removed or replaced; bad input names the field", async () => {
  const cli = cliHome(server.url, server.prefix(), configSchedules);
  const rm = await cli.run(["schedule", "rm", "brief"]);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /"brief" is defined in .*config\.json; remove it there/);
  const replace = await cli.run(["schedule", "add", "brief", "--cron", "* * * * *", "--prompt", "x"]);
  assert.equal(replace.code, 1);
  assert.match(replace.stderr, /defined in .*config\.json/);
  const badCron = await cli.run(["schedule", "add", "x", "--cron", "99 * * * *", "--prompt", "x"]);
  assert.equal(badCron.code, 1);
  assert.match(badCron.stderr, /cron: "99 \* \* \* \*"/);
  const past = await cli.run(["schedule", "add", "x", "--at", "2001-01-01T00:00:00Z", "--prompt", "x"]);
  assert.match(past.stderr, /in the past/);
  const both = await cli.run(["schedule", "add", "x", "--at", "2099-01-01T00:00:00Z", "--every", "1h", "--prompt", "x"]);
  assert.match(both.stderr, /only one of cron, every, at/);
  const noPrompt = await cli.run(["schedule", "add", "x", "--every", "1h"]);
  assert.equal(noPrompt.code, 2);
});

test("schedule: at most 50 run-time schedules", async () => {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  // 49 through the store itself (51 CLI processes would take a minute), the 50th with the CLI.
  const signer = loadSigner(cli.home);
  for (let i = 1; i < 50; i++) {
    await addRuntimeSchedule(redis, testConfig(server.url, prefix), signer, { id: `s${i}`, input: { every: "1d", prompt: "x" }, createdBy: "cli" });
  }
  const fiftieth = await cli.run(["schedule", "add", "s0", "--every", "1d", "--prompt", "x"]);
  assert.equal(fiftieth.code, 0, fiftieth.stderr);
  const over = await cli.run(["schedule", "add", "s50", "--every", "1d", "--prompt", "x"]);
  assert.equal(over.code, 1);
  assert.match(over.stderr, /already 50 run-time schedules/);
  const replace = await cli.run(["schedule", "add", "s0", "--every", "2d", "--prompt", "y"]);
  assert.equal(replace.code, 0, "replacing one is not adding one");
});

test("an invalid schedule in config.json stops the command with exit 78, naming schedule and field", async () => {
  const cli = cliHome(server.url, server.prefix(), { schedules: { brief: { cron: "20 7 * *", prompt: "x" } } });
  const r = await cli.run(["schedule", "list"]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /config error: schedules\.brief\.cron .*4 fields/);
});
