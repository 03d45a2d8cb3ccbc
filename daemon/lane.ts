// The lane: runs queue entries one at a time through pi. Each run is bounded by the turn time
// limit: past it the run is aborted, the asker is told, and the lane moves on. The reply goes
// to the router when the whole run has settled, then the entry is finished (removed for good).
import { EventEmitter } from "node:events";
import { formatDuration } from "../core/duration.ts";
import type { Logger } from "../core/log.ts";
import { CHAIN_ENV } from "../core/chain.ts";
import { REPLY_TO_ENV } from "../core/reply-target.ts";
import { TELEGRAM_TARGET } from "../core/schedules.ts";
import type { RunKind } from "../core/spend.ts";
import type { QueueView } from "./channel.ts";
import { toItem, type CommandQueue, type QueueEntry } from "./queue.ts";
import type { Router } from "./router.ts";
import type { PiSession } from "./session.ts";

/** How long pi gets to stop after an abort before its session is reopened. */
export const ABORT_GRACE_MS = 10_000;

export interface LaneOptions {
  queue: CommandQueue;
  pi: PiSession;
  router: Router;
  turnTimeout: number;
  log: Logger;
  /** A human entry's run starts: the runaway breaker's held events are released to it. */
  onHumanRun?(): void;
  /** Every settled run, with who started it (a human entry, or the gateway) and its messages. */
  onRunSettled?(kind: RunKind, messages: unknown[]): void;
}

export class Lane extends EventEmitter<{ change: [] }> {
  private current: { entry: QueueEntry; startedAt: number; abortedBecause?: string } | undefined;
  private loop: Promise<void> | undefined;
  private runningOne: Promise<void> | undefined;
  /** Held by `exclusive()`: the lane starts no entry meanwhile. */
  private gate: Promise<void> = Promise.resolve();

  constructor(private readonly options: LaneOptions) {
    super();
  }

  start(): void {
    this.loop ??= this.run();
  }

  view(): QueueView {
    const { queue } = this.options;
    const running = this.current ? { ...toItem(this.current.entry), startedAt: this.current.startedAt } : undefined;
    return { running, waiting: queue.items() };
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Aborts the running entry (its asker is told why). False when nothing runs. */
  async abortCurrent(reason: string): Promise<boolean> {
    const current = this.current;
    if (!current) return false;
    current.abortedBecause ??= reason;
    await this.options.pi.abort(ABORT_GRACE_MS);
    return true;
  }

  /** Runs fn between entries: after the running one settled, before the next starts. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const previous = this.gate;
    this.gate = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    await previous;
    await this.runningOne;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Closes the queue and lets the running entry finish within `bound` ms, then aborts it. */
  async stop(bound: number): Promise<void> {
    this.options.queue.close();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.loop.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), bound))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      await this.abortCurrent(`the daemon is shutting down (the turn did not finish within ${formatDuration(bound)})`);
      await this.loop;
    }
  }

  private async run(): Promise<void> {
    for (;;) {
      const entry = await this.options.queue.take();
      if (!entry) return;
      await this.gate;
      this.runningOne = this.runOne(entry);
      await this.runningOne;
      this.runningOne = undefined;
    }
  }

  private async runOne(entry: QueueEntry): Promise<void> {
    const { pi, router, log, turnTimeout } = this.options;
    const context = { messageId: entry.messageId };
    this.current = { entry, startedAt: Date.now() };
    this.emit("change");
    log.info("run started", { id: entry.id, kind: entry.kind, source: entry.source, replyTo: entry.replyTo });
    router.runState(entry.replyTo, "running", context);
    // The run's tools read from here: the chain depth (gateway_push, `agent-gateway push` from
    // bash), and the chat a human asked from (where a reminder set with gateway_schedule answers).
    if (entry.kind === "human") {
      this.options.onHumanRun?.();
      if (TELEGRAM_TARGET.test(entry.replyTo)) process.env[REPLY_TO_ENV] = entry.replyTo;
    } else process.env[CHAIN_ENV] = String((entry.chain ?? 0) + 1);
    const timer = setTimeout(() => {
      log.warn("turn past its time limit; aborting", { id: entry.id, turnTimeout });
      void this.abortCurrent(`it ran past the time limit of ${formatDuration(turnTimeout)}`);
    }, turnTimeout);
    const result = await pi.run(entry.prompt, {
      onTaken: () => void entry.onTaken?.().catch((error) => log.error("acknowledging a taken entry failed", { id: entry.id, error })),
      // Only humans see text as it streams; automated runs may end as HEARTBEAT_OK.
      onDelta: entry.kind === "human" ? (delta) => router.stream(entry.replyTo, delta, context) : undefined,
    });
    clearTimeout(timer);
    const abortedBecause = this.current?.abortedBecause;
    let reply = result.text;
    if (abortedBecause) reply = `${reply ? reply + "\n\n" : ""}(The agent's turn was stopped: ${abortedBecause}.)`;
    else if (result.error) reply = `${reply ? reply + "\n\n" : ""}(The agent could not answer: ${result.error})`;
    log.info("run settled", { id: entry.id, taken: result.taken, aborted: result.aborted, error: result.error, chars: reply.length });
    delete process.env[CHAIN_ENV];
    delete process.env[REPLY_TO_ENV];
    this.options.onRunSettled?.(entry.kind === "human" ? "human" : "automated", result.messages);
    const delivery = await router.deliver(entry.replyTo, reply, context, { notify: entry.schedule?.notify });
    await this.options.queue.finish(entry);
    try {
      await entry.onDone?.(result.text, result.taken, delivery);
    } catch (error) {
      log.error("entry completion hook failed", { id: entry.id, error });
    }
    router.runState(entry.replyTo, "settled", context);
    this.current = undefined;
    this.emit("change");
  }
}
