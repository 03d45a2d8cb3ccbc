// How pi loads the extension (three ways) and print mode: a real `pi -p` with the fake LLM.
// In -p the extension is inert: it exits by itself and never touches an inbox.
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { REPO_ROOT, runPiPrint, tempDir } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();

test("pi -p with the extension loaded exits 0 by itself and leaves the inbox untouched", async () => {
  const prefix = server.prefix();
  const keys = keysFor(prefix);
  const redis = server.client();
  const waiting = '{"id":"w1","type":"waiting","source":"test","payload":{},"ts":1}';
  await redis.lpush(keys.inbox(CENTRAL_SESSION), waiting);
  const run = await runPiPrint({ redisUrl: server.url, prefix, prompt: "[tools]" });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /gateway_push/, "the extension loaded (its tool was offered)");
  assert.deepEqual(await redis.lrange(keys.inbox(CENTRAL_SESSION), 0, -1), [waiting]);
  assert.equal(await redis.llen(keys.inflight(CENTRAL_SESSION)), 0);
  assert.equal(await redis.scard(keys.sessions), 0, "nothing registered");
});

test("pi loads the extension from its extensions dir, from settings.json packages, and with -e <repo root>", async () => {
  const prefix = server.prefix();
  const viaDir = tempDir("agent");
  mkdirSync(join(viaDir, "extensions"), { recursive: true });
  symlinkSync(REPO_ROOT, join(viaDir, "extensions", "agent-gateway"));
  const viaSettings = tempDir("agent");
  writeFileSync(join(viaSettings, "settings.json"), JSON.stringify({ packages: [REPO_ROOT] }));
  const runs = await Promise.all([
    runPiPrint({ redisUrl: server.url, prefix, prompt: "[tools]", discover: true, agentDir: viaDir, extensionArgs: [] }),
    runPiPrint({ redisUrl: server.url, prefix, prompt: "[tools]", discover: true, agentDir: viaSettings, extensionArgs: [] }),
    runPiPrint({ redisUrl: server.url, prefix, prompt: "[tools]" }),
  ]);
  for (const [i, way] of ["extensions dir", "settings.json packages", "-e <repo root>"].entries()) {
    assert.equal(runs[i]!.code, 0, `${way}: ${runs[i]!.stderr}`);
    assert.match(runs[i]!.stdout, /gateway_push/, `${way}: the extension's tool is offered`);
  }
  // Control: with discovery on and neither, the tool is absent (the check above can fail).
  const none = await runPiPrint({ redisUrl: server.url, prefix, prompt: "[tools]", discover: true, extensionArgs: [] });
  assert.equal(none.code, 0, none.stderr);
  assert.doesNotMatch(none.stdout, /gateway_push/);
});
