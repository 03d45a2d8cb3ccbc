// The consumer loop, written once for every consumer (the pi extension, the tier-4 daemon):
// drain a batch (core's atomic script) → prepare it (heartbeat intake, format) → hand it to an
// injector → acknowledge once the injector says its pi took it. One batch outstanding at a time;
// the consumer knows nothing of pi, only the small Injector below. A full batch may be a storm:
// the rest of the backlog (up to storm.maxEvents) is drained onto the same in-flight batch in
// chunks and becomes ONE prompt (core/storm.ts), acknowledged together. Every drained event
// but heartbeats goes into the session's history (core/history.ts) before the hand-over.
// Between drain and hand-over the budget gate (core/budget-gate.ts) may hold part or all of the
// batch: held entries stay in flight, unacknowledged, and join the next prompt.
//
// States (exactly one at a time; `wake` in any state but idle only marks "again"):
//   idle           nothing outstanding.        wake → draining (acknowledging when an ack is owed);
//                                              stays idle while paused or the injector has no room
//   draining       drain script + budget gate + prepare. empty → idle · nothing to show →
//                                              acknowledging · a prompt → handedOver · all held
//                                              by a budget → waiting · failure → retrying
//   handedOver     the injector has the prompt. taken → acknowledging · not taken → retrying
//                                              (the batch stays in flight; the next drain redelivers it)
//   acknowledging  ack script runs.            done → idle (and drains again) · failure → retrying,
//                                              and the ack is retried before any new drain
//   retrying       back-off timer.             timer → idle (and wake)
//   waiting        a budget holds the batch.   its reset time → idle (and wake) · a wake when new
//                                              events may pass (another source, an urgent one) or
//                                              /gateway resume → idle (and wake); other wakes wait
//   stopped        final; reached from any state by stop().
// A drain or ack refused because this consumer no longer holds the session's lease is not
// retried: the new holder gets the batch (redelivered) and this loop goes idle.
import type { Redis } from "ioredis";
import { backoffDelay, type BackoffPolicy } from "./backoff.ts";
import { systemClock, type BudgetWait, type Clock } from "./budget.ts";
import { BudgetGate, type Admission, type BudgetExhausted } from "./budget-gate.ts";
import type { Config } from "./config.ts";
import { ackBatch, drainBatch, drainMore, LeaseNotHeldError, type Batch } from "./drain.ts";
import { formatBatch, isHeartbeat } from "./format.ts";
import { holdEntries, isRunaway, runDepth } from "./chain.ts";
import type { GatewayEvent } from "./event.ts";
import { recordHistory } from "./history.ts";
import { formatStorm } from "./storm.ts";
import type { Heartbeats } from "./heartbeat-intake.ts";
import type { Logger } from "./log.ts";
import { scheduleResolver, type SchedulePrompt } from "./schedule-prompt.ts";

export type ConsumerState = "idle" | "draining" | "handedOver" | "acknowledging" | "retrying" | "waiting" | "stopped";

const RETRY: BackoffPolicy = { minMs: 500, maxMs: 60_000 };
// A storm is drained in chunks this size (entries, bytes) until the inboxes are empty or
// storm.maxEvents is reached; no single script blocks Redis for long.
const STORM_CHUNK = 5_000;
const STORM_CHUNK_BYTES = 8 * 1024 * 1024;
// Ids a log line lists; a storm's are summarised by count and the first and last id.
const LOGGED_IDS = 100;

function loggedIds(batch: Batch): Record<string, unknown> {
  const ids = batch.entries.map((e) => e.event.id);
  if (ids.length <= LOGGED_IDS) return { ids };
  return { events: ids.length, first: ids[0], last: ids.at(-1) };
}

/** A verified schedule firing the injector runs on its own (Injector.schedulesApart). */
export interface ScheduledRun {
  /** Its own prompt: a one-event batch, formatted like any other. */
  prompt: string;
  schedule: SchedulePrompt;
}

/** A drained batch as the agent will see it. */
export interface PreparedPrompt {
  /** Empty when the batch held only schedule firings run apart. */
  prompt: string;
  /** Schedule firings taken out of `prompt`, one run each (only with Injector.schedulesApart). */
  schedules: ScheduledRun[];
  urgent: boolean;
  /** The batch's events are all heartbeats. */
  onlyHeartbeats: boolean;
  /** It carries the heartbeat checklist: the run's reply feeds the heartbeat back-off. */
  heartbeat: boolean;
  events: number;
  redelivered: boolean;
  /** The run this prompt starts has this chain depth; what it pushes carries one more (core/chain.ts). */
  chain: number;
}

/** What the injector reports back for one handed-over prompt (call one of them, once). */
export interface Handover {
  /** pi took the prompt into its session; resolves once the batch is acknowledged (or given up). */
  taken(): Promise<void>;
  /** pi will never take it: the batch stays in flight and is redelivered. */
  notTaken(reason: string): void;
}

/** How the loop reaches pi: the extension's pi API or the daemon's command queue. */
export interface Injector {
  /** Runs each verified schedule firing as its own prompt (the daemon: its reply goes to the
   *  schedule's replyTo); otherwise firings stay sections of the batch's prompt. */
  readonly schedulesApart?: boolean;
  /** Room for a batch now; when false the loop waits until the injector wakes it. */
  hasRoom(): boolean;
  send(prepared: PreparedPrompt, handover: Handover): void;
}

export interface ConsumerOptions {
  redis: Redis;
  config: Pick<
    Config,
    "prefix" | "maxEventBytes" | "drainBatch" | "drainBatchBytes" | "ackMemory" | "maxEventAge" | "heartbeat" | "schedules" | "home" | "storm" | "history" | "budget" | "inboxCap" | "pushDedupeWindow"
  >;
  /** The session drained and the lease owner token it is held with; undefined before the lease is taken. */
  session(): { session: string; owner: string } | undefined;
  heartbeats: Heartbeats;
  injector: Injector;
  log: Logger;
  /** Every transition, and pause/resume (for status lines). */
  onChange?(state: ConsumerState): void;
  /** This consumer was the first to see today's daily budget reached (once per local day). */
  onBudgetExhausted?(exhausted: BudgetExhausted): void;
  /** The budgets' clock (the system's by default). */
  clock?: Clock;
}

export interface ConsumerReport {
  state: ConsumerState;
  paused: boolean;
  outstanding?: { events: number; redelivered: boolean };
  delivered: number;
  lastError?: string;
  /** Events held by a budget wait for this. */
  budget?: BudgetWait & { held: number };
}

export class Consumer {
  private current: ConsumerState = "idle";
  private paused = false;
  private again = false;
  /** The batch handed over, until acknowledged or given back. */
  private outstanding: Batch | undefined;
  /** Taken by pi, but the ack failed: acknowledged before anything new is drained. */
  private owed: Batch | undefined;
  private delivered = 0;
  private failures = 0;
  private lastError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private settled: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly gate: BudgetGate;
  /** Held by a budget: in flight, not handed over; drained onto and re-admitted by the next drain. */
  private held: { batch: Batch; wait: BudgetWait } | undefined;
  private cancelWait: (() => void) | undefined;

  constructor(private readonly o: ConsumerOptions) {
    this.clock = o.clock ?? systemClock;
    this.gate = new BudgetGate(o.redis, o.config, o.log, this.clock);
  }

  get state(): ConsumerState {
    return this.current;
  }

  /** Something may be waiting: drain unless a batch is already on its way. */
  wake(reason: string): void {
    if (this.current === "waiting" && this.held && (this.held.wait.newEventsMayPass || this.clock.now() >= this.held.wait.until)) this.endWait();
    if (this.current !== "idle") {
      if (this.current !== "stopped") this.again = true;
      return;
    }
    if (this.paused || !this.o.session()) return;
    if (this.owed) return void this.acknowledge(this.owed);
    if (!this.o.injector.hasRoom()) return;
    this.o.log.debug("wake", { reason });
    void this.drain();
  }

  pause(): void {
    this.paused = true;
    this.o.onChange?.(this.current);
  }

  /** Also lifts today's daily budget once it is reached (/gateway resume). */
  resume(): void {
    this.paused = false;
    this.o.onChange?.(this.current);
    void this.gate
      .resumeToday()
      .then((lifted) => {
        if (lifted && this.current === "waiting") this.endWait();
      })
      .catch((error: unknown) => this.o.log.warn("daily budget not lifted (Redis)", { error }))
      .finally(() => this.wake("resume"));
  }

  report(): ConsumerReport {
    const batch = this.outstanding;
    return {
      state: this.current,
      paused: this.paused,
      outstanding: batch && { events: batch.entries.length, redelivered: batch.redelivered },
      delivered: this.delivered,
      lastError: this.lastError,
      budget: this.held && { ...this.held.wait, held: this.held.batch.entries.length },
    };
  }

  /** Final: nothing new is drained. A batch pi takes later is still acknowledged; one it never takes stays in flight. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.cancelWait?.();
    this.to("stopped");
    this.settle();
  }

  /**
   * Stops draining for a handover: waits (at most `bound` ms) until the batch pi already has is
   * acknowledged or given back, then stops. What was never handed over stays in Redis.
   */
  async finish(bound: number): Promise<void> {
    this.paused = true;
    if (this.current === "handedOver" || this.current === "acknowledging" || this.current === "draining") {
      const done = new Promise<void>((resolve) => (this.settled = resolve));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, bound)))]);
      clearTimeout(timer);
    }
    this.stop();
  }

  private holder(): { session: string; owner: string } {
    const holder = this.o.session();
    if (!holder) throw new LeaseNotHeldError("no lease taken yet");
    return holder;
  }

  private to(state: ConsumerState): void {
    if (this.current === "stopped") return;
    this.current = state;
    this.o.onChange?.(state);
  }

  private settle(): void {
    const settled = this.settled;
    this.settled = undefined;
    settled?.();
  }

  /** Back to idle; drains again when something woke it meanwhile (or `more` says so). */
  private rest(more = false): void {
    if (this.current === "stopped") return;
    this.to("idle");
    this.settle();
    const again = this.again || more;
    this.again = false;
    if (again) this.wake("more");
  }

  private async drain(): Promise<void> {
    this.to("draining");
    this.again = false;
    const { redis, config, log } = this.o;
    try {
      const { session, owner } = this.holder();
      // Kept (for report()) until admitted again; a failure meanwhile drops it (catch below).
      const held = this.held?.batch.session === session ? this.held.batch : undefined;
      if (!held) this.held = undefined;
      const batch = held ?? (await drainBatch(redis, config, session, owner));
      // What arrived while a budget held the batch joins it (coalesced, up to storm.maxEvents).
      if (held || this.mayBeStorm(batch)) await this.drainStorm(batch, owner);
      for (const { raw, reason } of batch.deadLettered) log.warn("dead-lettered", { reason, raw: raw.subarray(0, 200).toString() });
      if (batch.entries.length === 0) {
        this.succeeded();
        return this.rest(batch.deadLettered.length > 0);
      }
      if (!held) log.info("drained", { redelivered: batch.redelivered, ...loggedIds(batch) });
      const admission = await this.gate.admit(batch.entries);
      if (admission.exhausted) this.o.onBudgetExhausted?.(admission.exhausted);
      const now: Batch = admission.held.length > 0 ? { ...batch, entries: admission.now, deadLettered: [] } : batch;
      this.held = undefined;
      if (admission.wait && admission.held.length > 0) this.holdBack({ ...batch, entries: admission.held, deadLettered: [] }, admission.wait);
      if (now.entries.length === 0) {
        this.succeeded();
        return this.startWait();
      }
      const prepared = await this.prepare(now, admission.heartbeatPrompts);
      this.succeeded();
      if (this.current === "stopped") return;
      if (!prepared) {
        await this.refund(admission);
        return void this.acknowledge(now);
      }
      this.handOver(now, prepared);
    } catch (error) {
      // The next drain takes the whole in-flight list back, what a budget held included.
      this.held = undefined;
      this.failed(error);
    }
  }

  private holdBack(batch: Batch, wait: BudgetWait): void {
    this.held = { batch, wait };
    this.o.log.info("budget: events wait in flight", { reason: wait.reason, until: new Date(wait.until).toISOString(), ...loggedIds(batch) });
  }

  /** Nothing of the batch runs now: wait until the budget's reset (or a wake that may change it). */
  private startWait(): void {
    const wait = this.held?.wait;
    if (!wait || this.current === "stopped") {
      this.rest();
      return;
    }
    this.to("waiting");
    this.settle();
    this.cancelWait?.();
    this.cancelWait = this.clock.setTimer(() => {
      if (this.current !== "waiting") return;
      this.endWait();
      this.wake("budget reset");
    }, Math.max(0, wait.until - this.clock.now()));
    // Woken while admitting: what arrived meanwhile may pass (an urgent event, another source).
    const again = this.again;
    this.again = false;
    if (again) this.wake("more");
  }

  private endWait(): void {
    this.cancelWait?.();
    this.cancelWait = undefined;
    this.to("idle");
  }

  /** A charged run no prompt came of does not count against the hourly windows. */
  private async refund(admission: Admission): Promise<void> {
    if (!admission.charge) return;
    await this.gate.refund(admission.charge).catch((error: unknown) => this.o.log.warn("budget: an unused run was not refunded", { error }));
  }

  /** A full batch: more may wait than one batch holds. */
  private mayBeStorm(batch: Batch): boolean {
    const { config } = this.o;
    const bytes = batch.entries.reduce((sum, e) => sum + e.raw.length, 0);
    return batch.entries.length >= config.drainBatch || bytes + config.maxEventBytes > config.drainBatchBytes;
  }

  /** Appends the rest of the backlog (up to storm.maxEvents) to the batch in flight. */
  private async drainStorm(batch: Batch, owner: string): Promise<void> {
    const { redis, config } = this.o;
    for (;;) {
      const room = config.storm.maxEvents - batch.entries.length - batch.deadLettered.length;
      if (room <= 0) return;
      const taken = await drainMore(redis, config, batch, owner, Math.min(STORM_CHUNK, room), STORM_CHUNK_BYTES);
      if (taken === 0) return;
    }
  }

  /** Every event but heartbeats goes into the session's history first; a failure only costs the history. */
  private async record(batch: Batch): Promise<void> {
    const { redis, config, log } = this.o;
    try {
      const dropped = await recordHistory(redis, config, batch.session, batch.entries.filter((e) => !isHeartbeat(e.event)), batch.redelivered);
      if (dropped > 0) log.info("history bounds dropped the oldest entries", { dropped });
    } catch (error) {
      log.warn("history not written (delivery goes on; gateway_events will miss these events)", { error, events: batch.entries.length });
    }
  }

  private async prepare(batch: Batch, heartbeatPrompts: boolean): Promise<PreparedPrompt | undefined> {
    const { redis, config, heartbeats } = this.o;
    await this.record(batch);
    const events = await this.holdRunaways(batch);
    const intake = await heartbeats.intake(redis, events, heartbeatPrompts);
    if (intake.events.length === 0) return undefined; // only heartbeats, and the policy says no prompt
    const storm = batch.entries.length > config.drainBatch;
    // Verified schedule firings show as their prompts, everything else as data (core/schedule-prompt.ts).
    const resolve = await scheduleResolver(redis, config, intake.events);
    const options = {
      redelivered: batch.redelivered,
      maxEventAge: config.maxEventAge,
      timeZone: config.heartbeat.timezone,
      scheduled: (event: GatewayEvent) => resolve(event)?.text ?? null,
      listed: config.storm.listed,
    };
    const apart = this.o.injector.schedulesApart ? intake.events.filter((e) => resolve(e) !== null) : [];
    const rest = intake.events.filter((e) => !apart.includes(e));
    const schedules = apart.map((e) => ({ prompt: formatBatch([e], options).prompt, schedule: resolve(e)! }));
    const formatted = (storm ? formatStorm : formatBatch)(rest, {
      ...options,
      heartbeat: intake.checklist === undefined ? undefined : { checklist: intake.checklist },
    });
    if (!formatted.prompt && schedules.length === 0) return undefined;
    return {
      prompt: formatted.prompt,
      schedules,
      urgent: intake.events.some((e) => e.priority === "urgent"),
      onlyHeartbeats: rest.length > 0 && formatted.heartbeats === rest.length,
      heartbeat: intake.checklist !== undefined,
      events: batch.entries.length,
      redelivered: batch.redelivered,
      chain: runDepth(intake.events),
    };
  }

  /** Events past budget.maxChainDepth move from the in-flight list to the held list and out of the batch; returns the rest. */
  private async holdRunaways(batch: Batch): Promise<GatewayEvent[]> {
    const { redis, config, log } = this.o;
    const held = batch.entries.filter((e) => isRunaway(e.event, config.budget.maxChainDepth));
    if (held.length === 0) return batch.entries.map((e) => e.event);
    await holdEntries(redis, config.prefix, batch.session, held.map((e) => e.raw));
    log.warn("runaway breaker: events past budget.maxChainDepth held until a human run or /gateway drain", {
      maxChainDepth: config.budget.maxChainDepth,
      ids: held.slice(0, LOGGED_IDS).map((e) => e.event.id),
    });
    // Not acknowledged with the batch: the ack remembers ids, and a released event whose id is
    // remembered would be dead-lettered as "already acknowledged" on a crash redelivery.
    batch.entries = batch.entries.filter((e) => !held.includes(e));
    return batch.entries.map((e) => e.event);
  }

  private handOver(batch: Batch, prepared: PreparedPrompt): void {
    this.to("handedOver");
    this.outstanding = batch;
    let answered = false;
    const answer = () => {
      // Still answered after stop(): a batch pi takes while the consumer stops is acknowledged.
      const first = !answered && this.outstanding === batch;
      answered = true;
      return first;
    };
    this.o.injector.send(prepared, {
      taken: async () => {
        if (!answer()) return;
        if (prepared.heartbeat) this.o.heartbeats.promptTaken();
        await this.acknowledge(batch);
      },
      notTaken: (reason) => {
        if (!answer()) return;
        this.o.log.warn("pi did not take the batch; it stays in flight and is redelivered", { reason, ...loggedIds(batch) });
        this.outstanding = undefined;
        // The next drain takes the whole in-flight list back, what a budget held included.
        this.held = undefined;
        this.failed(new Error(reason));
      },
    });
  }

  private async acknowledge(batch: Batch): Promise<void> {
    this.to("acknowledging");
    this.owed = undefined;
    try {
      await ackBatch(this.o.redis, this.o.config, batch, this.holder().owner);
      this.delivered += batch.entries.length;
      this.o.log.info("acknowledged", loggedIds(batch));
    } catch (error) {
      if (this.outstanding === batch) this.outstanding = undefined;
      if (error instanceof LeaseNotHeldError) {
        this.o.log.warn("ack refused: the session's lease is held by another consumer, which gets the batch again", loggedIds(batch));
        return this.rest();
      }
      this.owed = batch;
      this.o.log.warn("ack failed; retried before the next drain", { error });
      return this.failed(error);
    }
    if (this.outstanding === batch) this.outstanding = undefined;
    this.rest(true);
  }

  private succeeded(): void {
    this.failures = 0;
    this.lastError = undefined;
  }

  /** Waits with exponential back-off; the in-flight list keeps the batch meanwhile. */
  private failed(error: unknown): void {
    if (this.current === "stopped") return;
    if (error instanceof LeaseNotHeldError) {
      this.o.log.warn("drain refused: this consumer does not hold the session's lease", { session: this.o.session()?.session });
      this.lastError = error.message;
      this.rest();
      return;
    }
    this.failures += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
    const delay = backoffDelay(this.failures, RETRY);
    this.o.log.warn("delivery failed; retrying", { error: this.lastError, delay });
    this.to("retrying");
    this.settle();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.to("idle");
      this.wake("retry");
    }, delay);
    this.retryTimer.unref();
  }
}
