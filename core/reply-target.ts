// Where a schedule's settled reply may go (tier 4): only a Telegram chat the gateway already
// talks to — one in telegram.allowedChats, or one paired with a signed pairing — so no schedule,
// least of all one the agent set for itself, can send the agent's words to a stranger.
// Checked when the daemon starts (config schedules: exit 78) and when a run-time one is added.
import type { Redis } from "ioredis";
import { ConfigError, type Config } from "./config.ts";
import { pairingOf } from "./paired-chats.ts";
import { REPLY_TARGET_RULE, TELEGRAM_TARGET } from "./schedules.ts";
import type { Signer } from "./signing.ts";

/** Set by the daemon while a human's run goes: the chat it came from, the default replyTo of a
 *  reminder the agent sets in that run (gateway_schedule). */
export const REPLY_TO_ENV = "GATEWAY_REPLY_TO";

/** Why the reply cannot go to `replyTo`, naming the fix; undefined when it may. */
export async function replyTargetProblem(
  redis: Redis,
  config: Pick<Config, "prefix" | "telegram">,
  signer: Pick<Signer, "seal">,
  replyTo: string,
): Promise<string | undefined> {
  const match = TELEGRAM_TARGET.exec(replyTo);
  if (!match) return `${JSON.stringify(replyTo)} is not a chat address; ${REPLY_TARGET_RULE}`;
  const chatId = Number(match[1]);
  if (config.telegram.allowedChats.includes(chatId)) return undefined;
  if ((await pairingOf(redis, config.prefix, chatId, signer)) === "paired") return undefined;
  return `${replyTo} is not a chat the gateway talks to; add ${chatId} to telegram.allowedChats, or pair the chat (it writes to the bot, then \`agent-gateway pairing approve <code>\`)`;
}

/** Config schedules whose replyTo is not a known chat stop the daemon (exit 78, schedule and field named). */
export async function checkScheduleTargets(redis: Redis, config: Pick<Config, "prefix" | "telegram" | "schedules" | "paths">, signer: Pick<Signer, "seal">): Promise<void> {
  for (const [id, def] of Object.entries(config.schedules)) {
    if (def.replyTo === undefined) continue;
    const problem = await replyTargetProblem(redis, config, signer, def.replyTo);
    if (problem) throw new ConfigError(`schedules.${id}.replyTo`, problem, config.paths.configFile);
  }
}
