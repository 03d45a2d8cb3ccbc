// Schedule definitions and their slots, pure (injected clock): config validation names the
// schedule and field; a 02:30 Europe/Paris daily fires once a day across both DST changes;
// `every` counts from creation; the catch-up rules (one run after downtime, `at` within 24 h
// fires once, later is reported missed).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../core/config.ts";
import { catchUpPlan, slotsOf } from "../../core/schedule-slots.ts";
import { atInstant, scheduleSchema, whenOf } from "../../core/schedules.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function configWith(schedules: unknown): ConfigError | ReturnType<typeof loadConfig> {
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-schedules-"));
  try {
    writeFileSync(join(home, "config.json"), JSON.stringify({ schedules }));
    return loadConfig({ AGENT_GATEWAY_HOME: home });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test("config: invalid schedules are refused with the schedule and the field named", () => {
  const cases: [unknown, string, RegExp][] = [
    [{ brief: { cron: "61 7 * * *", prompt: "brief me" } }, "schedules.brief.cron", /61/],
    [{ brief: { cron: "* * *", prompt: "x" } }, "schedules.brief.cron", /3 fields/],
    [{ brief: { every: "soon", prompt: "x" } }, "schedules.brief.every", /duration/],
    [{ brief: { at: "tomorrow 9am", prompt: "x" } }, "schedules.brief.at", /ISO 8601/],
    [{ brief: { cron: "0 9 * * *", timezone: "Mars/Olympus", prompt: "x" } }, "schedules.brief.timezone", /time zone/],
    [{ brief: { cron: "0 9 * * *", every: "1h", prompt: "x" } }, "schedules.brief.every", /only one/],
    [{ brief: { prompt: "x" } }, "schedules.brief.cron", /one of cron, every or at/],
    [{ brief: { cron: "0 9 * * *" } }, "schedules.brief.prompt", /./],
    [{ brief: { cron: "0 9 * * *", prompt: "x", notify: "never" } }, "schedules.brief.notify", /./],
    [{ brief: { cron: "0 9 * * *", prompt: "x", colour: "red" } }, "schedules.brief", /colour/],
    [{ "bad id!": { cron: "0 9 * * *", prompt: "x" } }, "schedules", /schedule id/],
  ];
  for (const [schedules, field, detail] of cases) {
    const result = configWith(schedules);
    assert.ok(result instanceof ConfigError, `accepted ${JSON.stringify(schedules)}`);
    assert.equal(result.field.startsWith(field), true, `${JSON.stringify(schedules)}: field ${result.field}, expected ${field}`);
    assert.match(result.message, detail);
  }
});

test("config: valid schedules load with their defaults", () => {
  const config = configWith({
    brief: { cron: "0 20 7 * * 1-5", timezone: "Europe/Paris", prompt: "Brief me" },
    check: { every: "1h", prompt: "Check the build", notify: "always", priority: "low" },
    renew: { at: "2026-12-02T09:00", prompt: "Remind me to renew the certificate", enabled: false },
  });
  assert.ok(!(config instanceof ConfigError), String(config));
  assert.equal(config.schedules.brief!.enabled, true);
  assert.equal(config.schedules.brief!.notify, "unless-ok");
  assert.equal(config.schedules.check!.every, HOUR);
  assert.equal(config.schedules.renew!.enabled, false);
});

test("at: ISO 8601 with an offset as written, without one in the schedule's timezone (DST-aware)", () => {
  assert.equal(atInstant("2026-12-02T08:00:00Z"), Date.UTC(2026, 11, 2, 8));
  assert.equal(atInstant("2026-12-02T09:00:00+01:00"), Date.UTC(2026, 11, 2, 8));
  assert.equal(atInstant("2026-12-02T09:00", "Europe/Paris"), Date.UTC(2026, 11, 2, 8)); // CET, +1
  assert.equal(atInstant("2026-07-02T09:00", "Europe/Paris"), Date.UTC(2026, 6, 2, 7)); // CEST, +2
  assert.equal(atInstant("next tuesday"), undefined);
});

/** Every slot from `from` to `to`, as the scheduler walks them (next after the last). */
function walk(pattern: string, timezone: string, from: number, to: number): number[] {
  const slots = slotsOf({ cron: pattern }, timezone);
  const seen: number[] = [];
  for (let t = slots.next(from); t !== null && t <= to; t = slots.next(t)) seen.push(t);
  return seen;
}

const parisDay = (ms: number) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(ms);
const parisTime = (ms: number) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);

test("DST: a 02:30 daily schedule in Europe/Paris fires once each day across the spring change", () => {
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
  const slots = walk("30 2 * * *", "Europe/Paris", Date.UTC(2026, 2, 26), Date.UTC(2026, 2, 31, 12));
  assert.deepEqual(slots.map(parisDay), ["2026-03-26", "2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]);
  // croner: a fixed time inside the gap runs once, at the first valid time after it.
  assert.deepEqual(slots.map(parisTime), ["02:30", "02:30", "02:30", "03:00", "02:30", "02:30"]);
  assert.equal(slots[3], Date.UTC(2026, 2, 29, 1));
});

test("DST: a 02:30 daily schedule in Europe/Paris fires once each day across the autumn change", () => {
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice; it runs at the first.
  const slots = walk("30 2 * * *", "Europe/Paris", Date.UTC(2026, 9, 22), Date.UTC(2026, 9, 28, 12));
  assert.deepEqual(slots.map(parisDay), ["2026-10-22", "2026-10-23", "2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27", "2026-10-28"]);
  assert.ok(slots.map(parisTime).every((t) => t === "02:30"));
  assert.equal(slots[3], Date.UTC(2026, 9, 25, 0, 30)); // 02:30 CEST, the first occurrence
  // A scheduler that wakes between the two 02:30s does not fire again that day.
  const sched = slotsOf({ cron: "30 2 * * *" }, "Europe/Paris");
  assert.equal(parisDay(sched.next(Date.UTC(2026, 9, 25, 1, 0))!), "2026-10-26");
});

test("every: counted from creation, the first slot one period after it", () => {
  const created = Date.UTC(2026, 11, 1, 10, 7, 13);
  const slots = slotsOf(whenOf(scheduleSchema.parse({ every: "2h", prompt: "x" }), undefined, created));
  assert.equal(slots.next(created), created + 2 * HOUR);
  assert.equal(slots.next(created + 2 * HOUR), created + 4 * HOUR);
  assert.equal(slots.previous(created + HOUR), null);
  assert.equal(slots.previous(created + 5 * HOUR), created + 4 * HOUR);
  assert.equal(slots.count(created, created + 7 * HOUR, 100), 3);
});

test("catch-up: one run for the latest missed slot, carrying how many were missed", () => {
  const slots = slotsOf({ cron: "*/2 * * * * *" });
  const last = Date.UTC(2026, 11, 1, 9, 0, 0);
  const now = last + 10_500; // slots at +2 … +10 s missed
  assert.deepEqual(catchUpPlan(slots, last, null, now), { action: "fire", slot: last + 10_000, missedSlots: 5 });
  assert.deepEqual(catchUpPlan(slots, last + 10_000, null, now), { action: "none" }, "nothing missed since the last fire");
  assert.deepEqual(catchUpPlan(slots, null, null, now), { action: "none" }, "first start (the heartbeat): nothing missed");
  // A schedule created during the downtime only counts the slots since its creation.
  assert.deepEqual(catchUpPlan(slots, null, last + 5_000, now), { action: "fire", slot: last + 10_000, missedSlots: 3 });
  assert.deepEqual(catchUpPlan(slots, last, last + 9_000, now), { action: "fire", slot: last + 10_000, missedSlots: 1 });
});

test("catch-up: an `at` missed by under 24 h fires once; by more it is reported missed; never twice", () => {
  const at = Date.UTC(2026, 11, 2, 9);
  const slots = slotsOf({ at });
  assert.deepEqual(catchUpPlan(slots, null, at - DAY, at - 1), { action: "none" }, "not due yet");
  assert.deepEqual(catchUpPlan(slots, null, at - DAY, at + 23 * HOUR), { action: "fire", slot: at, missedSlots: 1 });
  assert.deepEqual(catchUpPlan(slots, null, at - DAY, at + 25 * HOUR), { action: "missed", slot: at, lateBy: 25 * HOUR });
  assert.deepEqual(catchUpPlan(slots, at, at - DAY, at + HOUR), { action: "none" }, "fired already");
  assert.equal(slots.next(at), null);
});
