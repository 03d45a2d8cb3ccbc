// The delivery loop: one batch outstanding at a time. Wake → drain (core's atomic script) →
// prepare (format) → inject into pi → acknowledge when pi's user `message_end` for that prompt
// fired. A batch pi never takes (idle pi, no message_end within TAKEN_BOUND_MS) is left in the
// in-flight list and drained again, marked redelivered. Events that arrive while a run is
// ending (after its last turn, before pi reports idle) are held and flushed once idle: a
// follow-up queued in that window would be stranded until the next prompt.
import { writeFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { ackBatch, drainBatch, type Batch, type DrainSettings } from "../core/drain.ts";
import type { Logger } from "../core/log.ts";

/** How long an idle pi may sit on an injected prompt before the batch is redelivered. */
export const TAKEN_BOUND_MS = 10_000;
const IDLE_POLL_MS = 25;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 60_000;

/** What the loop needs from pi. */
export interface Injector {
  isIdle(): boolean;
  send(prompt: string, deliverAs?: "followUp" | "steer"): void;
}

/** A drained batch turned into a prompt; undefined prompt = nothing to show, acknowledge at once. */
export interface Prepared {
  prompt?: string;
  urgent: boolean;
  /** Called once pi took the prompt (before the ack). */
  onTaken?(): void;
}

export interface DeliveryOptions {
  redis: Redis;
  settings: DrainSettings;
  session: () => string;
  injector: Injector;
  prepare(batch: Batch): Promise<Prepared>;
  log: Logger;
  /** State changed (for the status line). */
  onChange(): void;
  /**
   * TEST ONLY (GATEWAY_TEST_SEAM_PAUSE_BEFORE_ACK): once pi took a prompt, write this file and
   * never acknowledge, so a test can SIGKILL pi between drain and ack.
   */
  pauseBeforeAckFile?: string;
}

interface InFlight {
  batch: Batch;
  prepared: Prepared & { prompt: string };
  idleSince?: number;
}

export interface DeliveryState {
  paused: boolean;
  outstanding?: { events: number; redelivered: boolean };
  held: boolean;
  delivered: number;
  lastError?: string;
}

export class Delivery {
  private readonly o: DeliveryOptions;
  private paused = false;
  private stopped = false;
  private draining = false;
  private again = false;
  private ending = false;
  private outstanding: InFlight | undefined;
  private held: InFlight | undefined;
  private frozen = false;
  private delivered = 0;
  private lastError: string | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Runs only while there is something to watch, so an idle extension wakes nobody. */
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(options: DeliveryOptions) {
    this.o = options;
  }

  /** Something may be waiting: drain unless a batch is already on its way. */
  wake(reason: string): void {
    if (this.stopped || this.paused) return;
    if (this.draining || this.outstanding || this.held || this.frozen) {
      this.again = true;
      return;
    }
    this.o.log.debug("wake", { reason });
    void this.drain();
  }

  pause(): void {
    this.paused = true;
    this.o.onChange();
  }

  resume(): void {
    this.paused = false;
    this.o.onChange();
    this.wake("resume");
  }

  /** pi's loop started a run or another turn: a follow-up queued now is picked up. */
  running(): void {
    this.ending = false;
  }

  /** The run may be ending (a turn with no tool calls, or agent_end): hold until idle. */
  mayEnd(): void {
    this.ending = true;
    this.watchWhileBusy();
  }

  /** pi emitted message_end for a user message with this text. */
  userMessage(text: string): void {
    const current = this.outstanding;
    if (!current || text !== current.prepared.prompt) return;
    current.prepared.onTaken?.();
    if (this.o.pauseBeforeAckFile) {
      this.frozen = true;
      writeFileSync(this.o.pauseBeforeAckFile, JSON.stringify(current.batch.entries.map((e) => e.event.id)));
      this.o.log.warn("test seam: taken batch left unacknowledged", { file: this.o.pauseBeforeAckFile });
      return;
    }
    void this.acknowledge(current);
  }

  state(): DeliveryState {
    const batch = (this.outstanding ?? this.held)?.batch;
    return {
      paused: this.paused,
      outstanding: batch && { events: batch.entries.length, redelivered: batch.redelivered },
      held: this.held !== undefined,
      delivered: this.delivered,
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    clearTimeout(this.retryTimer);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.again = false;
    try {
      const batch = await drainBatch(this.o.redis, this.o.settings, this.o.session());
      for (const { raw, reason } of batch.deadLettered) this.o.log.warn("dead-lettered", { reason, raw: raw.slice(0, 200) });
      if (batch.entries.length === 0) return this.succeeded();
      this.o.log.info("drained", { events: batch.entries.length, redelivered: batch.redelivered, ids: batch.entries.map((e) => e.event.id) });
      const prepared = await this.o.prepare(batch);
      this.succeeded();
      if (this.stopped) return;
      if (prepared.prompt === undefined) {
        await ackBatch(this.o.redis, this.o.settings, batch);
        this.again = true;
        return;
      }
      this.inject({ batch, prepared: { ...prepared, prompt: prepared.prompt } });
    } catch (error) {
      this.failed(error);
    } finally {
      this.draining = false;
      this.o.onChange();
      if (this.again) this.wake("more");
    }
  }

  private inject(flight: InFlight): void {
    if (this.ending || this.stopped) {
      if (!this.held) this.o.log.info("run ending: batch held until pi is idle", { events: flight.batch.entries.length });
      this.held = flight;
      this.watchWhileBusy();
      return;
    }
    this.held = undefined;
    const { prompt, urgent } = flight.prepared;
    if (this.o.injector.isIdle()) this.o.injector.send(prompt);
    else this.o.injector.send(prompt, urgent ? "steer" : "followUp");
    this.outstanding = flight;
    this.watchWhileBusy();
    this.o.log.info("injected", { ids: flight.batch.entries.map((e) => e.event.id), idle: this.o.injector.isIdle(), urgent });
  }

  private async acknowledge(flight: InFlight): Promise<void> {
    try {
      await ackBatch(this.o.redis, this.o.settings, flight.batch);
      this.delivered += flight.batch.entries.length;
      this.o.log.info("acknowledged", { ids: flight.batch.entries.map((e) => e.event.id) });
    } catch (error) {
      // Left in flight: the next drain returns it as redelivered; the ack memory drops it there.
      this.o.log.warn("ack failed; the batch stays in flight", { error });
    }
    if (this.outstanding === flight) this.outstanding = undefined;
    this.o.onChange();
    this.wake("acknowledged");
  }

  private watchWhileBusy(): void {
    if (this.watchTimer || this.stopped) return;
    this.watchTimer = setInterval(() => this.watch(), IDLE_POLL_MS);
    this.watchTimer.unref();
  }

  /**
   * Polls pi's idleness while a run is ending, a batch is held or one is outstanding: flushes
   * a held batch, and gives up on a prompt an idle pi never took.
   */
  private watch(): void {
    if (this.stopped) return;
    const idle = this.o.injector.isIdle();
    if (idle) this.ending = false;
    if (this.held && !this.ending) this.inject(this.held);
    if (!this.ending && !this.held && !this.outstanding) {
      clearInterval(this.watchTimer);
      this.watchTimer = undefined;
      return;
    }
    const current = this.outstanding;
    if (!current || this.frozen) return;
    if (!idle || this.ending) {
      current.idleSince = undefined;
      return;
    }
    current.idleSince ??= Date.now();
    if (Date.now() - current.idleSince < TAKEN_BOUND_MS) return;
    this.o.log.warn("pi did not take the injected batch; redelivering", { ids: current.batch.entries.map((e) => e.event.id) });
    this.outstanding = undefined;
    this.failed(new Error("pi did not take the injected prompt"));
  }

  private succeeded(): void {
    this.failures = 0;
    this.lastError = undefined;
  }

  /** Retries with exponential back-off; the in-flight list keeps the batch meanwhile. */
  private failed(error: unknown): void {
    this.failures += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
    this.o.log.warn("delivery failed; retrying", { error: this.lastError, delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.wake("retry"), delay);
    this.retryTimer.unref();
    this.o.onChange();
  }
}
