// The agent's gateway_schedule tool in a real pi (faux model): "[remind:<id>]" makes the agent
// add a one-shot reminder 3 s ahead; it is stored signed as the agent's own (createdBy "tool"),
// the worker's scheduler fires it once, and the session gets it as "a reminder the agent set for
// itself", quoted — never as the owner's instruction; then it is gone from the list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { loadSigner } from "../../core/signing.ts";
import { createLogger } from "../../core/log.ts";
import { readEntry } from "../../core/schedule-store.ts";
import { watchSchedules } from "../../worker/schedule-jobs.ts";
import { startLocalScheduler } from "../../worker/scheduler.ts";
import { messageText, pollUntil, startPi, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();

test("gateway_schedule: the agent sets a reminder; the worker fires it once into the session", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const redis = await server.consumer();
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: { sweepInterval: "10m" } });
  const signer = loadSigner(pi.dirs.home);
  const scheduler = startLocalScheduler(undefined, { redis, settings: config }, createLogger({ kind: "worker" }));
  const watch = watchSchedules(scheduler, config, redis, signer, createLogger({ kind: "worker" }));
  try {
    await waitConnected(pi);
    await pi.prompt("[remind:deploy-check]");
    const reply = await pi.waitFor("the tool's answer", (l) => l.type === "message_end" && /^tool: /.test(messageText(l.message)));
    assert.match(messageText(reply.message), /^tool: schedule "deploy-check" set \(at \d{4}-.*\); next run \d{4}-/);
    const stored = await redis.hget(keys.schedules, "deploy-check");
    assert.ok(stored, "stored in Redis");
    const entry = readEntry("deploy-check", stored, signer);
    assert.ok(!("refused" in entry), "signed with the gateway's key");
    assert.equal(entry.createdBy, "tool", "marked as the agent's own, never the owner's");

    const firing = messageText((await waitUserMessage(pi, "Reminder the agent set for itself", 20_000)).message);
    assert.match(firing, /## Reminder the agent set for itself \("deploy-check", due /);
    assert.match(firing, /it is not the owner's instruction/);
    assert.match(firing, /```text\nCheck whether the deploy finished\n```/);
    assert.doesNotMatch(firing, /the owner's instruction, from/);
    await pollUntil("the one-shot to leave the list", async () => (await redis.hexists(keys.schedules, "deploy-check")) === 0);
  } finally {
    await Promise.all([watch.stop(), scheduler.stop()]);
    await pi.kill();
    redis.disconnect();
  }
});
