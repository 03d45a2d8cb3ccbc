// Watchdog layer 1: raises ONE alarm when no real cron.heartbeat arrived within `threshold` ms,
// and stays quiet until the next beat re-arms it. Checks on a timer every `checkEvery` ms
// (default a quarter of the threshold), so an alarm fires between threshold and
// threshold + checkEvery after the last beat. The timer is unref()ed: a watchdog never keeps
// a process alive. Clock injectable; `check()` is public so callers can also poll it.

export interface WatchdogOptions {
  threshold: number;
  checkEvery?: number;
  onAlarm: (silentFor: number) => void;
  /** A throwing onAlarm is reported here instead of crashing the timer. */
  onError?: (error: unknown) => void;
  now?: () => number;
}

export interface WatchdogState {
  running: boolean;
  alarmed: boolean;
  lastBeat: number;
  silentFor: number;
}

export class Watchdog {
  private readonly options: WatchdogOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat: number;
  private alarmed = false;

  constructor(options: WatchdogOptions) {
    if (!(options.threshold > 0)) throw new RangeError(`watchdog threshold must be > 0 ms, got ${options.threshold}`);
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lastBeat = this.now();
  }

  /** Starts watching; the silence is counted from now (or from the last beat, if later). */
  start(): void {
    if (this.timer) return;
    this.lastBeat = Math.max(this.lastBeat, this.now());
    const every = Math.max(1, this.options.checkEvery ?? this.options.threshold / 4);
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  /** A real cron.heartbeat was received (at `at`, default now): clears and re-arms the alarm. */
  beat(at: number = this.now()): void {
    this.lastBeat = Math.max(this.lastBeat, at);
    this.alarmed = false;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Raises the alarm if the silence passed the threshold and it has not been raised yet. */
  check(): boolean {
    const silentFor = this.now() - this.lastBeat;
    if (this.alarmed || silentFor < this.options.threshold) return false;
    this.alarmed = true;
    try {
      this.options.onAlarm(silentFor);
    } catch (error) {
      this.options.onError?.(error);
    }
    return true;
  }

  state(): WatchdogState {
    return {
      running: this.timer !== undefined,
      alarmed: this.alarmed,
      lastBeat: this.lastBeat,
      silentFor: this.now() - this.lastBeat,
    };
  }
}
