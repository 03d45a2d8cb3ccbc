// doctor's central-holder line against a real redis-server: FAIL with the fix when nobody holds
// central, when a pi outside the tmux session holds it (a user's own pi), or another machine's
// lease does; in tier 4, ok when the daemon's explicit, supervised lease holds it. (The ok case
// with a real tmux pi is in tier2.test.ts.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { newLease } from "../../core/sessions.ts";
import { centralHolderCheck } from "../../scripts/doctor/central.ts";
import { tempDir } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = server.client();

function ctx(prefix: string, tier: number) {
  // A tmux socket dir of our own: no "agent-gateway" session there.
  return { config: testConfig(server.url, prefix), env: { ...process.env, TMUX_TMPDIR: tempDir("tmux") }, install: { tier, services: "fallback" as const, repo: "/repo" } };
}

const setLease = (prefix: string, lease: object) => redis.set(keysFor(prefix).lease(CENTRAL_SESSION), JSON.stringify(lease), "PX", 60_000);

test("doctor: nobody holds central → FAIL naming how to start it", async () => {
  const check = await centralHolderCheck(ctx(server.prefix(), 2));
  assert.equal(check.status, "fail");
  assert.match(check.detail, /nobody holds the central session/);
  assert.match(check.fix ?? "", /setup\.sh 2/);
});

test("doctor: a pi outside the tmux session holds central → FAIL, naming it", async () => {
  const prefix = server.prefix();
  await setLease(prefix, newLease(CENTRAL_SESSION, "central", "default", false));
  const check = await centralHolderCheck(ctx(prefix, 2));
  assert.equal(check.status, "fail");
  assert.match(check.detail, new RegExp(`held by pid ${process.pid} on .*, not the pi in tmux session "agent-gateway"`));
});

test("doctor: another machine's lease holds central → FAIL, saying when it expires", async () => {
  const prefix = server.prefix();
  await setLease(prefix, { ...newLease(CENTRAL_SESSION, "central"), hostId: "elsewhere" });
  const check = await centralHolderCheck(ctx(prefix, 2));
  assert.equal(check.status, "fail");
  assert.match(check.detail, /another machine/);
  assert.match(check.fix ?? "", /expires 30 s after it stops refreshing/);
});

test("doctor tier 4: the daemon's explicit lease holds central → ok", async () => {
  const prefix = server.prefix();
  await setLease(prefix, newLease(CENTRAL_SESSION, "central", "explicit", true));
  const check = await centralHolderCheck(ctx(prefix, 4));
  assert.equal(check.status, "ok", check.detail);
  assert.match(check.detail, /the daemon holds the central session/);
});
