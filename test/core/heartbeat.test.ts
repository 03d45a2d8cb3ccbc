// Heartbeat cost controls: switch-off, quiet while a human is active, back-off after
// consecutive HEARTBEAT_OK replies; and which replies count as HEARTBEAT_OK.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeartbeatPolicy, isHeartbeatOk } from "../../core/heartbeat.ts";

const MINUTE = 60_000;

function policy(options: Partial<ConstructorParameters<typeof HeartbeatPolicy>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const p = new HeartbeatPolicy({ enabled: true, backoffAfter: 3, quietAfterHuman: 10 * MINUTE, now: () => clock.now, ...options });
  return { p, clock };
}

/** Feeds `count` heartbeats, answering each prompt with `answer`; returns the 1-based prompted ones. */
function run(p: HeartbeatPolicy, count: number, answer = "HEARTBEAT_OK"): number[] {
  const prompted: number[] = [];
  for (let i = 1; i <= count; i++) {
    if (!p.decide().prompt) continue;
    prompted.push(i);
    p.reply(answer);
  }
  return prompted;
}

test("HEARTBEAT_OK at either edge, wrapped in emphasis, with ≤ 300 other characters", () => {
  for (const reply of [
    "HEARTBEAT_OK",
    "  HEARTBEAT_OK\n",
    "**HEARTBEAT_OK**",
    "`HEARTBEAT_OK`.",
    "_HEARTBEAT_OK_",
    "HEARTBEAT_OK — disk at 40%, no failed jobs.",
    "Checked everything, all fine.\n\n**HEARTBEAT_OK**",
    `HEARTBEAT_OK ${"x".repeat(300)}`,
  ]) {
    assert.equal(isHeartbeatOk(reply), true, JSON.stringify(reply));
  }
});

test("other replies are not HEARTBEAT_OK and would reach a channel", () => {
  for (const reply of [
    "",
    "The disk is 95% full, please look.",
    `HEARTBEAT_OK ${"x".repeat(301)}`,
    "HEARTBEAT_OKAY",
    "NOT_HEARTBEAT_OK",
    "The backup failed. HEARTBEAT_OK was not appropriate here, see above.",
    "heartbeat_ok",
  ]) {
    assert.equal(isHeartbeatOk(reply), false, JSON.stringify(reply));
  }
});

test("switched off: no heartbeat ever prompts", () => {
  const { p } = policy({ enabled: false });
  const decision = p.decide();
  assert.deepEqual(decision, { prompt: false, reason: "heartbeats are switched off" });
  assert.deepEqual(run(p, 10), []);
});

test("no prompt while a human typed within quietAfterHuman; prompts again after it", () => {
  const { p, clock } = policy();
  p.humanInput();
  clock.now += 10 * MINUTE - 1;
  const quiet = p.decide();
  assert.equal(quiet.prompt, false);
  assert.match(quiet.reason, /a human typed 600s ago/);
  clock.now += 1;
  assert.equal(p.decide().prompt, true);
});

test("back-off after N consecutive HEARTBEAT_OK: every 2nd, then 4th, then 8th heartbeat, capped", () => {
  const { p } = policy({ backoffAfter: 3 });
  assert.deepEqual(run(p, 41), [1, 2, 3, 5, 9, 17, 25, 33, 41]);
  assert.equal(p.state().spacing, 8);
  const skipped = p.decide();
  assert.equal(skipped.prompt, false);
  assert.match(skipped.reason, /backing off after 9 consecutive HEARTBEAT_OK: prompting on every 8th heartbeat/);
});

test("a reply that is not HEARTBEAT_OK resets the back-off", () => {
  const { p } = policy({ backoffAfter: 2 });
  assert.deepEqual(run(p, 2), [1, 2]);
  assert.match(p.decide().reason, /prompting on every 2nd heartbeat/);
  assert.deepEqual(run(p, 5), [1, 5]);
  p.reply("Backup failed at 03:00, see the log.");
  assert.deepEqual(p.state().spacing, 1);
  assert.deepEqual(run(p, 3, "Still failing."), [1, 2, 3]);
});

test("human input resets the back-off (after the quiet period every heartbeat prompts)", () => {
  const { p, clock } = policy({ backoffAfter: 1 });
  run(p, 10);
  assert.equal(p.state().spacing, 8);
  p.humanInput();
  clock.now += 10 * MINUTE;
  assert.deepEqual(run(p, 1), [1]);
  assert.deepEqual(p.state().consecutiveOk, 1);
});

test("backoffAfter 0 never backs off", () => {
  const { p } = policy({ backoffAfter: 0 });
  assert.deepEqual(run(p, 6), [1, 2, 3, 4, 5, 6]);
});
