// The worker's local scheduler: fires the heartbeat (when no Inngest server is configured) and
// every user schedule (always: run-time schedules live in Redis, which static Inngest functions
// cannot follow). Each job sleeps until its next slot; each slot is claimed with a Redis lock
// (SET NX PX keyed by job and slot), so any number of workers fire it once. The last fired slot
// is kept in Redis: a worker that starts (or sees Redis come back) after missed slots fires ONE
// catch-up run per job, not one per slot (core/schedule-slots.ts has the rules).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { EventInput } from "../core/event.ts";
import { keysFor } from "../core/keys.ts";
import type { Logger } from "../core/log.ts";
import { pushEvent } from "../core/push.ts";
import { catchUpPlan, lockTtlFor, slotsOf, type Slots } from "../core/schedule-slots.ts";
import { heartbeatInput } from "./heartbeat.ts";
import type { PushTarget } from "./notify.ts";
import type { HeartbeatSchedule } from "./schedule.ts";

export interface ScheduledJob {
  /** Lock and last-fired name: "heartbeat" or "schedule:<id>". */
  name: string;
  slots: Slots;
  /** When the job came to be (ms); slots before it were never due. Null: catch up only after a fire. */
  createdAt: number | null;
  /** A job set again with another fingerprint is restarted (its definition changed). */
  fingerprint: string;
  /** The slot's event; `extra` holds worker id and catch-up facts. */
  input(slot: number, extra: Record<string, unknown>): EventInput & { id: string };
  /** The event reporting an `at` slot missed by more than 24 h. */
  missedInput?(slot: number, lateBy: number): EventInput & { id: string };
  /** After the slot was fired or reported missed (a one-shot run-time entry leaves the list). */
  settled?(slot: number, outcome: "fired" | "missed"): Promise<void>;
  /** Log line on a fire, e.g. "heartbeat fired". */
  firedMessage: string;
  logFields?: Record<string, unknown>;
}

export interface LocalScheduler {
  readonly workerId: string;
  /** The heartbeat's next run (null when this scheduler does not fire the heartbeat). */
  nextRun(): Date | null;
  /** Replaces the user schedules' jobs (names starting "schedule:"); unchanged ones keep running. */
  setSchedules(jobs: ScheduledJob[]): void;
  /** Next run of each job by name. */
  nextRuns(): Map<string, number | null>;
  /** Stops firing; resolves once work already under way has been pushed and recorded. */
  stop(): Promise<void>;
}

// setTimeout holds at most 2^31-1 ms (about 24.8 days); a longer wait is taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Running {
  job: ScheduledJob;
  timer?: NodeJS.Timeout;
  lockTtl: number;
}

export function heartbeatJob(schedule: HeartbeatSchedule): ScheduledJob {
  return {
    name: "heartbeat",
    slots: slotsOf({ cron: schedule.pattern }, schedule.timezone),
    createdAt: null,
    fingerprint: `${schedule.pattern} ${schedule.timezone ?? ""}`,
    input: (slot, extra) => ({
      ...heartbeatInput({ scheduler: "local", trigger: "schedule", slot: new Date(slot).toISOString(), ...extra }),
      // The id repeats per slot, so even a lock lost to a Redis failover cannot deliver twice.
      id: `heartbeat-local-${slot}`,
    }),
    firedMessage: "heartbeat fired",
  };
}

export function startLocalScheduler(heartbeat: HeartbeatSchedule | undefined, { redis, settings }: PushTarget, log: Logger): LocalScheduler {
  const keys = keysFor(settings.prefix);
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const jobs = new Map<string, Running>();
  let stopped = false;

  // What is under way when stop() is called, so the caller can close Redis after it, not during.
  const underWay = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    underWay.add(work);
    void work.finally(() => underWay.delete(work));
    return work;
  };
  const report = (job: ScheduledJob, what: string) => (error: unknown) =>
    log.warn(`${job.name} ${what} failed: ${(error as Error).message}`, job.logFields);

  const claim = (run: Running, slot: number) => redis.set(keys.lock(`${run.job.name}:${slot}`), workerId, "PX", run.lockTtl, "NX");

  /** Claims the slot and pushes its event; false when another worker had it already. */
  async function fire(run: Running, slot: number, extra: Record<string, unknown> = {}): Promise<boolean> {
    if ((await claim(run, slot)) !== "OK") return false;
    const { job } = run;
    const result = await pushEvent(redis, settings, job.input(slot, { worker: workerId, ...extra }));
    await redis.set(keys.lastFired(job.name), String(slot));
    await job.settled?.(slot, "fired");
    log.info(job.firedMessage, { ...job.logFields, slot: new Date(slot).toISOString(), id: result.id, duplicate: result.duplicate, ...extra });
    return true;
  }

  async function reportMissed(run: Running, slot: number, lateBy: number): Promise<void> {
    if ((await claim(run, slot)) !== "OK") return;
    const { job } = run;
    if (job.missedInput) await pushEvent(redis, settings, job.missedInput(slot, lateBy));
    await redis.set(keys.lastFired(job.name), String(slot));
    await job.settled?.(slot, "missed");
    log.warn(`${job.name} missed: its slot passed more than 24 h ago while no worker ran; not fired`, { ...job.logFields, slot: new Date(slot).toISOString() });
  }

  async function catchUp(run: Running): Promise<void> {
    const stored = await redis.get(keys.lastFired(run.job.name));
    const plan = catchUpPlan(run.job.slots, stored === null ? null : Number(stored), run.job.createdAt, Date.now());
    if (plan.action === "fire") await fire(run, plan.slot, { catchUp: true, missedSlots: plan.missedSlots });
    if (plan.action === "missed") await reportMissed(run, plan.slot, plan.lateBy);
  }

  function arm(run: Running): void {
    if (stopped || jobs.get(run.job.name) !== run) return;
    const now = Date.now();
    const slot = run.job.slots.next(now);
    if (slot === null) return;
    run.timer = setTimeout(() => {
      arm(run); // woke early (or a long wait taken in steps): this re-arms for the same slot
      if (Date.now() >= slot) void track(fire(run, slot).catch(report(run.job, `slot ${new Date(slot).toISOString()}`)));
    }, Math.min(slot - now, MAX_TIMER_MS));
  }

  const runCatchUp = (run: Running) => void track(catchUp(run).catch(report(run.job, "catch-up")));

  function add(job: ScheduledJob): void {
    const run: Running = { job, lockTtl: lockTtlFor(job.slots, Date.now()) };
    jobs.set(job.name, run);
    arm(run);
    if (redis.status === "ready") runCatchUp(run);
  }

  function remove(name: string): void {
    clearTimeout(jobs.get(name)?.timer);
    jobs.delete(name);
  }

  const catchUpAll = () => {
    for (const run of jobs.values()) runCatchUp(run);
  };
  redis.on("ready", catchUpAll);
  if (heartbeat) {
    add(heartbeatJob(heartbeat));
    log.info("local heartbeat scheduler started", { pattern: heartbeat.pattern, timezone: heartbeat.timezone, workerId });
  }

  const nextOf = (name: string) => jobs.get(name)?.job.slots.next(Date.now()) ?? null;
  return {
    workerId,
    nextRun() {
      const next = nextOf("heartbeat");
      return next === null ? null : new Date(next);
    },
    setSchedules(wanted) {
      if (stopped) return;
      const byName = new Map(wanted.map((job) => [job.name, job]));
      for (const name of [...jobs.keys()]) {
        if (name.startsWith("schedule:") && byName.get(name)?.fingerprint !== jobs.get(name)!.job.fingerprint) remove(name);
      }
      for (const job of wanted) if (!jobs.has(job.name)) add(job);
    },
    nextRuns: () => new Map([...jobs.keys()].map((name) => [name, nextOf(name)])),
    async stop() {
      stopped = true;
      for (const name of [...jobs.keys()]) remove(name);
      redis.off("ready", catchUpAll);
      await Promise.all(underWay);
    },
  };
}
