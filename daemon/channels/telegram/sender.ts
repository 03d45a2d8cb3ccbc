// Delivers a reply to one chat: split the Markdown into pieces, convert each to Telegram
// HTML, send them in order. A piece Telegram rejects as bad markup (400 "can't parse
// entities") is sent again as plain text; a 429 waits its retry_after; network failures are
// retried with back-off until a deadline, then the error goes to the caller (the router).
import type { Api } from "grammy";
import type { Logger } from "../../../core/log.ts";
import { Backoff, sleep } from "./backoff.ts";
import { classify, describe, isTransient } from "./errors.ts";
import { markdownToTelegramHtml } from "./markdown.ts";
import { splitMarkdown } from "./split.ts";

export interface SenderOptions {
  api: Api;
  token: string;
  log: Logger;
  /** How long one piece may keep failing transiently before the send fails. */
  giveUpAfterMs?: number;
  signal?: AbortSignal;
}

export class Sender {
  constructor(private readonly options: SenderOptions) {}

  /** Calls `call` until it succeeds, a non-transient error occurs, or the deadline passes. */
  async withRetry<T>(method: string, call: () => Promise<T>): Promise<T> {
    const { log, token, giveUpAfterMs = 120_000, signal } = this.options;
    const deadline = Date.now() + giveUpAfterMs;
    const backoff = new Backoff();
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const failure = classify(error);
        if (!isTransient(failure) || Date.now() > deadline || signal?.aborted) throw error;
        const wait = failure.kind === "rate-limited" ? failure.retryAfterMs : backoff.next();
        log.warn("telegram call failed, retrying", { method, failure: failure.kind, waitMs: wait, error: describe(error, token) });
        await sleep(wait, signal);
      }
    }
  }

  /** Sends a Markdown reply as one or more messages. */
  async sendMarkdown(chatId: number, markdown: string): Promise<void> {
    const { api, log } = this.options;
    for (const piece of splitMarkdown(markdown)) {
      try {
        await this.withRetry("sendMessage", () => api.sendMessage(chatId, markdownToTelegramHtml(piece), { parse_mode: "HTML" }));
      } catch (error) {
        if (classify(error).kind !== "bad-markup") throw error;
        log.warn("telegram rejected the reply's markup; sending it as plain text", { chatId, error: describe(error, this.options.token) });
        await this.withRetry("sendMessage", () => api.sendMessage(chatId, piece));
      }
    }
  }

  /** Sends a short plain-text notice (refusals, "not supported yet"). */
  async sendPlain(chatId: number, text: string): Promise<void> {
    await this.withRetry("sendMessage", () => this.options.api.sendMessage(chatId, text));
  }
}
