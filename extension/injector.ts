// How core's consumer loop reaches an interactive pi: a prompt goes in as a user message (a
// follow-up, or a steer when urgent, while pi is busy) and counts as taken when pi's user
// `message_end` for exactly that text fires. A prompt an idle pi sits on for TAKEN_BOUND_MS is
// given back (redelivered). While a run is ending (its last turn done, pi not idle yet) there is
// no room: a follow-up queued in that window would be stranded until the next prompt, so the
// loop is woken again once pi is idle.
import type { Handover, Injector, PreparedPrompt } from "../core/delivery.ts";
import type { Logger } from "../core/log.ts";

/** How long an idle pi may sit on an injected prompt before the batch is redelivered. */
export const TAKEN_BOUND_MS = 10_000;
const IDLE_POLL_MS = 25;

export interface PiLink {
  isIdle(): boolean;
  send(prompt: string, deliverAs?: "followUp" | "steer"): void;
}

interface Sent {
  prepared: PreparedPrompt;
  prompt: string;
  urgent: boolean;
  handover: Handover;
  /** Drained as a run began to end: sent once pi is idle. */
  held: boolean;
  idleSince?: number;
}

export class PiInjector implements Injector {
  private ending = false;
  private sent: Sent | undefined;
  private stopped = false;
  /** Runs only while there is something to watch, so an idle extension wakes nobody. */
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pi: PiLink,
    /** There is room again (pi became idle after a run ended). */
    private readonly onRoom: () => void,
    private readonly log: Logger,
  ) {}

  hasRoom(): boolean {
    return !this.ending && !this.stopped;
  }

  send(prepared: PreparedPrompt, handover: Handover): void {
    this.sent = { prepared, prompt: prepared.prompt, urgent: prepared.urgent, handover, held: this.ending };
    if (this.ending) this.log.info("run ending: batch held until pi is idle", { events: prepared.events });
    else this.inject(this.sent);
    this.watch();
  }

  private inject(sent: Sent): void {
    sent.held = false;
    const idle = this.pi.isIdle();
    if (idle) this.pi.send(sent.prompt);
    else this.pi.send(sent.prompt, sent.urgent ? "steer" : "followUp");
    this.log.info("injected", { idle, urgent: sent.urgent });
  }

  /** pi's loop started a run or another turn: a follow-up queued now is picked up. */
  running(): void {
    if (!this.ending) return;
    this.ending = false;
    this.roomAgain();
  }

  /** The run may be ending (a turn with no tool calls, or agent_end): no room until idle. */
  mayEnd(): void {
    this.ending = true;
    this.watch();
  }

  /** pi emitted message_end for a user message with this text; the prompt, when it was the one injected. */
  userMessage(text: string): PreparedPrompt | undefined {
    const sent = this.sent;
    if (!sent || text !== sent.prompt) return undefined;
    this.sent = undefined;
    void sent.handover.taken();
    return sent.prepared;
  }

  private roomAgain(): void {
    if (this.sent?.held) this.inject(this.sent);
    this.onRoom();
  }

  /** Drops the prompt handed over by a consumer that is gone (a handover). */
  forget(): void {
    this.sent = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  private watch(): void {
    if (this.watchTimer || this.stopped) return;
    this.watchTimer = setInterval(() => this.poll(), IDLE_POLL_MS);
    this.watchTimer.unref();
  }

  /** Polls pi's idleness while a run is ending or a prompt is untaken. */
  private poll(): void {
    const idle = this.pi.isIdle();
    if (idle && this.ending) {
      this.ending = false;
      this.roomAgain();
    }
    const sent = this.sent;
    if (!this.ending && !sent) {
      clearInterval(this.watchTimer);
      this.watchTimer = undefined;
      return;
    }
    if (!sent || sent.held) return;
    if (!idle || this.ending) {
      sent.idleSince = undefined;
      return;
    }
    sent.idleSince ??= Date.now();
    if (Date.now() - sent.idleSince < TAKEN_BOUND_MS) return;
    this.sent = undefined;
    sent.handover.notTaken("pi did not take the injected prompt");
  }
}
