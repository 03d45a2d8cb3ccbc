// The grammY middleware: access first, then /start and /help, the daemon's commands (/new,
// /status, /abort), text for the agent, and a clear answer for everything else. Replies go
// through the Sender (retries, markup fallback), not ctx.reply.
import type { Bot, Context } from "grammy";
import type { ChannelCommand, ChannelSink } from "../../channel.ts";
import type { AccessControl } from "./access.ts";
import type { Sender } from "./sender.ts";

export const replyToOf = (chatId: number) => `telegram:${chatId}`;

const HELP =
  "You are talking to the agent on this gateway. Send a message and it answers when its run is done.\n\n" +
  "/new starts a fresh conversation\n/status shows what the agent is doing\n/abort stops the current run";
const NOT_SUPPORTED =
  "Sorry, only text messages are supported yet: I can't pass photos, files, voice notes, stickers or locations to the agent. Please send it as text.";
const COMMANDS: ChannelCommand[] = ["new", "status", "abort"];

const whoOf = (ctx: Context) => {
  const from = ctx.from;
  const name = [from?.first_name, from?.last_name].filter(Boolean).join(" ") || ctx.chat?.title || "unknown";
  return from?.username ? `${name} (@${from.username})` : name;
};

export interface BotParts {
  bot: Bot;
  access: AccessControl;
  sender: Sender;
  sink: () => ChannelSink;
}

export function installHandlers({ bot, access, sender, sink }: BotParts): void {
  bot.on("message", async (ctx, next) => {
    const admission = await access.admit({ chatId: ctx.chat.id, userId: ctx.from?.id, who: whoOf(ctx) });
    if (admission.admitted) return next();
    if (admission.refusal) await sender.sendPlain(ctx.chat.id, admission.refusal);
  });
  bot.command(["start", "help"], (ctx) => sender.sendPlain(ctx.chat.id, HELP));
  for (const name of COMMANDS) {
    bot.command(name, async (ctx) => sender.sendMarkdown(ctx.chat.id, await sink().command(name, replyToOf(ctx.chat.id))));
  }
  bot.on("message:text", async (ctx) => {
    const result = await sink().submit({
      source: "telegram",
      replyTo: replyToOf(ctx.chat.id),
      text: ctx.message.text,
      messageId: `telegram:${ctx.update.update_id}`,
    });
    if (!result.accepted) await sender.sendPlain(ctx.chat.id, `Sorry, your message was not queued: ${result.reason}`);
  });
  bot.on("message", (ctx) => sender.sendPlain(ctx.chat.id, NOT_SUPPORTED));
}
