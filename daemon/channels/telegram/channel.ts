// The Telegram channel of the daemon (grammY): long polling with a durable offset (poller.ts),
// access control with pairing codes (access.ts), replies split and converted safely
// (sender.ts), and a typing indicator while a run goes. The token is never logged.
import { Bot } from "grammy";
import type { Update } from "grammy/types";
import type { Redis } from "ioredis";
import { ConfigError, type Config } from "../../../core/config.ts";
import type { Logger } from "../../../core/log.ts";
import type { Channel, ChannelSink, ReplyTo } from "../../channel.ts";
import { loadSigner } from "../../../core/signing.ts";
import { AccessControl } from "./access.ts";
import { Backoff, forGrammy, sleep } from "./backoff.ts";
import { installHandlers } from "./bot.ts";
import { classify, describe } from "./errors.ts";
import { Poller } from "./poller.ts";
import { Sender } from "./sender.ts";
import { TypingIndicator } from "./typing.ts";

/** How long start() waits for getMe before going on without it (polling retries anyway). */
const IDENTIFY_WAIT_MS = 10_000;

export interface TelegramChannelOptions {
  token: string;
  config: Config;
  redis: Redis;
  log: Logger;
  /** getUpdates long-poll timeout, seconds (default 30). */
  pollTimeoutSeconds?: number;
  /** Pause bounds between failed polls (default 1 s … 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class TelegramChannel implements Channel {
  readonly name = "telegram";
  private readonly bot: Bot;
  private readonly sender: Sender;
  private readonly typing: TypingIndicator;
  private readonly stopping = new AbortController();
  private poller?: Poller;
  private sink?: ChannelSink;

  constructor(private readonly options: TelegramChannelOptions) {
    const { token, config, log, pollTimeoutSeconds = 30 } = options;
    // A request that outlives the long poll by this much is a dead connection: give up on it.
    this.bot = new Bot(token, { client: { apiRoot: config.telegram.apiRoot, timeoutSeconds: pollTimeoutSeconds + 15 } });
    this.sender = new Sender({ api: this.bot.api, token, log, signal: this.stopping.signal });
    this.typing = new TypingIndicator(this.bot.api, log);
  }

  async start(sink: ChannelSink): Promise<void> {
    const { token, config, redis, log } = this.options;
    this.sink = sink;
    // A silently dead network would hold getMe until its timeout: the daemon does not wait that long.
    const identifying = this.identify();
    const slow = await Promise.race([identifying.then(() => false), sleep(IDENTIFY_WAIT_MS, this.stopping.signal).then(() => true)]);
    if (slow) identifying.catch((error: unknown) => log.error("telegram: start failed", { error: describe(error, token) }));
    const access = new AccessControl(redis, config.prefix, config.telegram.allowedChats, config.telegram.pairingTtl, loadSigner(config.home), log);
    installHandlers({ bot: this.bot, access, sender: this.sender, sink: () => this.sink! });
    this.poller = new Poller({
      api: this.bot.api,
      token,
      redis,
      prefix: config.prefix,
      log,
      handle: (update) => this.handleUpdate(update),
      pollTimeoutSeconds: this.options.pollTimeoutSeconds,
      backoff: new Backoff(this.options.retryMinMs, this.options.retryMaxMs),
    });
    this.poller.start();
  }

  /**
   * getMe once: a rejected token is a configuration error (exit 78). When Telegram is
   * unreachable the daemon starts anyway; polling retries, and getMe runs before the first update.
   */
  private async identify(): Promise<void> {
    const { token, log } = this.options;
    try {
      await this.bot.init(forGrammy(this.stopping.signal));
      log.info("telegram: connected", { bot: this.bot.botInfo.username });
    } catch (error) {
      const failure = classify(error);
      if (failure.kind === "unauthorized") {
        throw new ConfigError("telegram.botToken", "Telegram rejected the bot token (401 Unauthorized); get a new one from @BotFather", "TELEGRAM_BOT_TOKEN or config.json");
      }
      log.warn("telegram: unreachable at start; polling will keep trying", { failure: failure.kind, error: describe(error, token) });
    }
  }

  private async handleUpdate(update: Update): Promise<void> {
    if (!this.bot.isInited()) await this.bot.init(forGrammy(this.stopping.signal));
    await this.bot.handleUpdate(update);
  }

  async send(replyTo: ReplyTo, text: string): Promise<void> {
    const chatId = chatIdOf(replyTo);
    this.typing.stop(chatId);
    if (!text.trim()) return this.options.log.info("telegram: empty reply not sent", { chatId });
    await this.sender.sendMarkdown(chatId, text);
  }

  runState(replyTo: ReplyTo, state: "running" | "settled"): void {
    const chatId = chatIdOf(replyTo);
    if (state === "running") this.typing.start(chatId);
    else this.typing.stop(chatId);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.typing.stopAll();
    await this.poller?.stop();
  }
}

export function chatIdOf(replyTo: ReplyTo): number {
  const chatId = Number(/^telegram:(-?\d+)$/.exec(replyTo)?.[1]);
  if (!Number.isSafeInteger(chatId)) throw new Error(`not a Telegram address: ${replyTo}`);
  return chatId;
}

/** The Telegram channel when a bot token is configured (env TELEGRAM_BOT_TOKEN or config). */
export function telegramChannelFromConfig(config: Config, redis: Redis, log: Logger): TelegramChannel | undefined {
  const token = config.telegram.botToken;
  return token ? new TelegramChannel({ token, config, redis, log }) : undefined;
}
