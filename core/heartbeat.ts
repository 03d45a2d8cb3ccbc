// Heartbeat cost controls, shared by the pi extension and the tier-4 daemon. Pure: no timers,
// no I/O, an injected clock. The caller asks `decide()` when a cron.heartbeat arrives and feeds
// the agent's settled reply to that prompt into `reply()`. The rule:
//
// - `enabled: false` → never prompt.
// - A human typed within `quietAfterHuman` ms → no prompt (the human is there; the watchdog
//   still counts the heartbeat, which is the caller's business, not this class's).
// - Back-off: after `backoffAfter` consecutive HEARTBEAT_OK replies, prompt only on every 2nd
//   heartbeat; each further OK doubles the spacing (every 4th, then every 8th, capped at 8).
//   Any other reply, or human input, resets the count and the spacing. `backoffAfter <= 0`
//   turns back-off off.
//
// `isHeartbeatOk` is OpenClaw's rule for replies that are never forwarded to a channel:
// HEARTBEAT_OK at the start or end (whitespace and markdown emphasis ignored) and at most
// 300 other characters.

export const HEARTBEAT_OK = "HEARTBEAT_OK";
/** Other characters a HEARTBEAT_OK reply may carry and still count as "nothing to report". */
export const HEARTBEAT_OK_MAX_EXTRA = 300;
/** The widest back-off: a prompt on every 8th heartbeat. */
export const MAX_BACKOFF_SPACING = 8;

// The token as a word of its own, possibly wrapped in emphasis: **HEARTBEAT_OK**, `HEARTBEAT_OK`.
// Never part of a longer word (NOT_HEARTBEAT_OK, HEARTBEAT_OKAY).
const WRAP = "[*_`~]*";
const TOKEN_AT_START = new RegExp(`^\\s*>?\\s*${WRAP}${HEARTBEAT_OK}${WRAP}(?=$|[\\s.!,:;)—-])`);
const TOKEN_AT_END = new RegExp(`(?:^|\\s)${WRAP}${HEARTBEAT_OK}${WRAP}[.!]?\\s*$`);

/** True when the reply means "nothing needs attention" and must not reach a channel. */
export function isHeartbeatOk(text: string): boolean {
  for (const token of [TOKEN_AT_START, TOKEN_AT_END]) {
    const match = token.exec(text);
    if (!match) continue;
    const rest = (text.slice(0, match.index) + text.slice(match.index + match[0].length)).trim();
    if (rest.length <= HEARTBEAT_OK_MAX_EXTRA) return true;
  }
  return false;
}

// Spacing is always a power of two up to 8: 2nd, 4th, 8th.
const nth = (n: number) => `${n}${n === 2 ? "nd" : "th"}`;

export interface HeartbeatPolicyOptions {
  enabled: boolean;
  /** Consecutive HEARTBEAT_OK replies before back-off starts; <= 0 never backs off. */
  backoffAfter: number;
  /** ms after a human's input during which heartbeats do not prompt. */
  quietAfterHuman: number;
  now?: () => number;
}

export interface HeartbeatDecision {
  prompt: boolean;
  reason: string;
}

export interface HeartbeatPolicyState {
  consecutiveOk: number;
  /** Prompt on every Nth heartbeat (1 = every heartbeat). */
  spacing: number;
  lastHumanInput?: number;
}

export class HeartbeatPolicy {
  private readonly options: HeartbeatPolicyOptions;
  private readonly now: () => number;
  private consecutiveOk = 0;
  private sinceLastPrompt = 0;
  private lastHumanInput: number | undefined;

  constructor(options: HeartbeatPolicyOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** A human typed in the session: quiet period starts, back-off resets. */
  humanInput(): void {
    this.lastHumanInput = this.now();
    this.resetBackoff();
  }

  /** Called once per received heartbeat: should it become a prompt? */
  decide(): HeartbeatDecision {
    if (!this.options.enabled) return { prompt: false, reason: "heartbeats are switched off" };
    this.sinceLastPrompt += 1;
    if (this.lastHumanInput !== undefined) {
      const quietFor = this.now() - this.lastHumanInput;
      if (quietFor < this.options.quietAfterHuman) {
        return { prompt: false, reason: `a human typed ${Math.round(quietFor / 1000)}s ago` };
      }
    }
    const spacing = this.spacing();
    if (this.sinceLastPrompt < spacing) {
      return {
        prompt: false,
        reason: `backing off after ${this.consecutiveOk} consecutive ${HEARTBEAT_OK}: prompting on every ${nth(spacing)} heartbeat`,
      };
    }
    this.sinceLastPrompt = 0;
    return {
      prompt: true,
      reason: spacing > 1 ? `every ${nth(spacing)} heartbeat while backing off` : "heartbeat due",
    };
  }

  /** The agent's settled reply to a heartbeat prompt. */
  reply(text: string): void {
    if (isHeartbeatOk(text)) this.consecutiveOk += 1;
    else this.resetBackoff();
  }

  state(): HeartbeatPolicyState {
    return { consecutiveOk: this.consecutiveOk, spacing: this.spacing(), lastHumanInput: this.lastHumanInput };
  }

  private spacing(): number {
    const { backoffAfter } = this.options;
    if (backoffAfter <= 0 || this.consecutiveOk < backoffAfter) return 1;
    return Math.min(MAX_BACKOFF_SPACING, 2 ** (this.consecutiveOk - backoffAfter + 1));
  }

  private resetBackoff(): void {
    this.consecutiveOk = 0;
    this.sinceLastPrompt = 0;
  }
}
