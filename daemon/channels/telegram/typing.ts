// The "typing…" indicator while a run goes. Telegram shows a chat action for about five
// seconds (sendChatAction), so it is repeated until the run settles. Failures only cost the
// indicator and are logged at debug level.
import type { Api } from "grammy";
import type { Logger } from "../../../core/log.ts";
import { classify } from "./errors.ts";

const REPEAT_MS = 4000;

export class TypingIndicator {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly api: Api,
    private readonly log: Logger,
  ) {}

  start(chatId: number): void {
    if (this.timers.has(chatId)) return;
    const tick = () =>
      this.api.sendChatAction(chatId, "typing").catch((error: unknown) => this.log.debug("telegram: typing indicator failed", { chatId, failure: classify(error).kind }));
    void tick();
    this.timers.set(chatId, setInterval(tick, REPEAT_MS));
  }

  stop(chatId: number): void {
    clearInterval(this.timers.get(chatId));
    this.timers.delete(chatId);
  }

  stopAll(): void {
    for (const chatId of [...this.timers.keys()]) this.stop(chatId);
  }
}
