// The layer-1 watchdog: one alarm per silence, re-armed by the next heartbeat, never keeping a
// process alive. Real timers with a 200 ms threshold; waits are on events, not sleeps.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";
import { Watchdog } from "../../core/watchdog.ts";

const THRESHOLD = 200;

/** A real clock that can wake a waiter once the watchdog has looked at it past a given time. */
function watchedClock() {
  const waiters: { at: number; resolve: () => void }[] = [];
  const now = () => {
    const t = Date.now();
    for (const w of waiters.filter((w) => t >= w.at)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return t;
  };
  /** Resolves once the watchdog has checked at or after `at`. */
  const checkedAfter = (at: number) => new Promise<void>((resolve) => waiters.push({ at, resolve }));
  return { now, checkedAfter };
}

/** The watchdog's timer is unref'd, so a test awaiting it holds the event loop open itself. */
async function keepingAlive<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1_000);
  try {
    return await promise;
  } finally {
    clearInterval(hold);
  }
}

function alarms() {
  const silences: number[] = [];
  let next: (silentFor: number) => void = () => {};
  return {
    silences,
    onAlarm: (silentFor: number) => {
      silences.push(silentFor);
      next(silentFor);
    },
    nextAlarm: () => new Promise<number>((resolve) => (next = resolve)),
  };
}

test("no heartbeat within the threshold: exactly one alarm over several thresholds", async (t) => {
  const clock = watchedClock();
  const alarm = alarms();
  const dog = new Watchdog({ threshold: THRESHOLD, onAlarm: alarm.onAlarm, now: clock.now });
  t.after(() => dog.stop());
  const started = Date.now();
  const first = alarm.nextAlarm();
  dog.start();
  const silentFor = await keepingAlive(first);
  assert.ok(silentFor >= THRESHOLD, `silent ${silentFor} ms`);
  assert.ok(Date.now() - started >= THRESHOLD);
  // Let the watchdog keep checking for five more thresholds: still exactly one alarm.
  await keepingAlive(clock.checkedAfter(Date.now() + 5 * THRESHOLD));
  assert.equal(alarm.silences.length, 1);
  assert.equal(dog.state().alarmed, true);
});

test("a heartbeat re-arms the watchdog: the next silence raises one new alarm", async (t) => {
  const clock = watchedClock();
  const alarm = alarms();
  const dog = new Watchdog({ threshold: THRESHOLD, checkEvery: 20, onAlarm: alarm.onAlarm, now: clock.now });
  t.after(() => dog.stop());
  const first = alarm.nextAlarm();
  dog.start();
  await keepingAlive(first);
  const second = alarm.nextAlarm();
  const beatAt = Date.now();
  dog.beat();
  assert.equal(dog.state().alarmed, false);
  const silentFor = await keepingAlive(second);
  assert.ok(silentFor >= THRESHOLD && Date.now() - beatAt >= THRESHOLD, "counted from the beat");
  await keepingAlive(clock.checkedAfter(Date.now() + 3 * THRESHOLD));
  assert.equal(alarm.silences.length, 2);
});

test("heartbeats arriving in time keep the alarm silent (injected clock)", () => {
  let now = 0;
  const alarm = alarms();
  const dog = new Watchdog({ threshold: 1_000, onAlarm: alarm.onAlarm, now: () => now });
  for (let i = 0; i < 20; i++) {
    now += 900;
    assert.equal(dog.check(), false);
    dog.beat();
  }
  now += 999;
  assert.equal(dog.check(), false);
  now += 1;
  assert.equal(dog.check(), true);
  assert.equal(dog.check(), false, "one alarm per silence");
  assert.deepEqual(alarm.silences, [1_000]);
  const lastBeat = dog.state().lastBeat;
  dog.beat(lastBeat - 5_000);
  assert.equal(dog.state().lastBeat, lastBeat, "a late-reported older beat never moves the clock back");
});

test("a throwing alarm handler is reported, and the watchdog keeps working", () => {
  let now = 0;
  const errors: unknown[] = [];
  const dog = new Watchdog({
    threshold: 100,
    onAlarm: () => {
      throw new Error("status line gone");
    },
    onError: (error) => errors.push(error),
    now: () => now,
  });
  now = 100;
  assert.equal(dog.check(), true);
  dog.beat();
  now = 200;
  assert.equal(dog.check(), true);
  assert.equal(errors.length, 2);
});

test("a started watchdog never keeps a process alive (timer unref'd)", async () => {
  const moduleUrl = new URL("../../core/watchdog.ts", import.meta.url).href;
  const script = `
    import { Watchdog } from ${JSON.stringify(moduleUrl)};
    new Watchdog({ threshold: 60_000, checkEvery: 10, onAlarm: () => {} }).start();
    console.log("started");`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    timeout: 30_000,
  });
  assert.equal(stdout.trim(), "started", "the child exited by itself, without stop()");
});

test("a threshold that is not positive is refused with a clear error", () => {
  assert.throws(() => new Watchdog({ threshold: 0, onAlarm: () => {} }), /threshold must be > 0 ms, got 0/);
});
