// Long polling with an offset that moves only after an update has been handled (for a text
// message: after the daemon has queued it durably). grammY's bot.start() records an update as
// tried before handling it and moves on when a handler fails, and stops for good on 409; this
// loop instead re-fetches a failed update after a pause, so neither a crash nor a Redis or
// network outage skips a message. Each handled update is marked in Redis, so one Telegram
// delivers again after a restart (handled, not yet confirmed) is not handled twice.
import type { Api } from "grammy";
import type { Update } from "grammy/types";
import type { Redis } from "ioredis";
import { keysFor } from "../../../core/keys.ts";
import type { Logger } from "../../../core/log.ts";
import { Backoff, forGrammy, sleep } from "./backoff.ts";
import { classify, describe } from "./errors.ts";

const HANDLED_MARK_MS = 48 * 3_600_000;

export interface PollerOptions {
  api: Api;
  token: string;
  redis: Redis;
  prefix: string;
  log: Logger;
  handle: (update: Update) => Promise<void>;
  /** getUpdates long-poll timeout, seconds. */
  pollTimeoutSeconds?: number;
  backoff?: Backoff;
}

export class Poller {
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  /** The outage being reported, so one outage is one log line (and one on recovery). */
  private trouble?: string;
  /** The update whose handling failed last, so its retries are logged once. */
  private failedUpdate?: number;

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.running ??= this.loop().catch((error: unknown) =>
      this.options.log.error("telegram: polling stopped", { error: describe(error, this.options.token) }),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private get stopped() {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    const { api, token, redis, prefix, log, pollTimeoutSeconds = 30 } = this.options;
    const backoff = this.options.backoff ?? new Backoff();
    const keys = keysFor(prefix);
    const botId = Number(token.split(":")[0]);
    // In memory only: after a restart Telegram hands out every unconfirmed update again. (A
    // stored high-water mark would confirm, unseen, the lower random ids Telegram may pick
    // after a week without updates.)
    let offset: number | undefined;
    while (!this.stopped) {
      try {
        const updates = await api.getUpdates({ offset, timeout: pollTimeoutSeconds, allowed_updates: ["message"] }, forGrammy(this.abort.signal));
        this.recovered();
        backoff.reset();
        for (const update of updates) {
          const handledKey = keys.telegramHandled(botId, update.update_id);
          if (await redis.exists(handledKey)) {
            // Handled before a crash that came ahead of Telegram's confirmation.
            log.info("telegram: update already handled before a restart; not handled again", { updateId: update.update_id });
          } else {
            if (!(await this.handled(update, backoff))) break;
            // Telegram keeps unconfirmed updates for 24 h; the mark only has to outlive that.
            await redis.set(handledKey, "1", "PX", HANDLED_MARK_MS).catch((error: unknown) => log.warn("telegram: could not mark an update handled", { updateId: update.update_id, error }));
          }
          offset = update.update_id + 1;
        }
      } catch (error) {
        if (this.stopped) break;
        const failure = classify(error);
        if (failure.kind === "unauthorized") {
          log.error("telegram: the bot token was rejected (401 Unauthorized); polling stopped. Check TELEGRAM_BOT_TOKEN / telegram.botToken");
          return;
        }
        if (failure.kind === "conflict") {
          this.report("conflict", "telegram: 409 Conflict — another process is polling this bot token (only one may). Stop the other instance; retrying quietly until it is gone");
        } else if (failure.kind === "rate-limited") {
          log.warn("telegram: 429 Too Many Requests; waiting retry_after", { waitMs: failure.retryAfterMs });
          await sleep(failure.retryAfterMs, this.abort.signal);
          continue;
        } else {
          this.report(failure.kind, "telegram: polling failed; backing off and retrying", { failure: failure.kind, error: describe(error, this.options.token) });
        }
        await sleep(backoff.next(), this.abort.signal);
      }
    }
  }

  /** Handles one update; on failure waits and returns false, so the same update is fetched again. */
  private async handled(update: Update, backoff: Backoff): Promise<boolean> {
    try {
      await this.options.handle(update);
      return true;
    } catch (error) {
      if (this.failedUpdate !== update.update_id) {
        this.failedUpdate = update.update_id;
        this.options.log.error("telegram: could not hand a message to the daemon; it stays unconfirmed and is retried", {
          updateId: update.update_id,
          error: describe(error, this.options.token),
        });
      }
      await sleep(backoff.next(), this.abort.signal);
      return false;
    }
  }

  private report(trouble: string, message: string, fields?: Record<string, unknown>): void {
    if (this.trouble === trouble) return;
    this.trouble = trouble;
    (trouble === "conflict" ? this.options.log.error : this.options.log.warn)(message, fields);
  }

  private recovered(): void {
    if (!this.trouble) return;
    this.options.log.info("telegram: polling resumed", { after: this.trouble });
    this.trouble = undefined;
  }
}
