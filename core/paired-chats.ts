// Telegram chats let in through an approved pairing code: a Redis set of chat ids sealed with
// the gateway's signing key, so a chat id added by hand is not a pairing. Read by the daemon's
// Telegram channel (who may talk) and by schedules (where a reply may go); written by the
// pairing store (daemon/channels/telegram/pairing-store.ts).
import type { Redis } from "ioredis";
import { keysFor } from "./keys.ts";
import type { Signer } from "./signing.ts";

/** The signature purpose of a paired chat. */
export const PAIRING_PURPOSE = "telegram-pairing";

/** The set member that pairs `chatId`. */
export const pairedMember = (signer: Pick<Signer, "seal">, chatId: number) => signer.seal(PAIRING_PURPOSE, String(chatId));

/** "paired": a sealed pairing; "forged": only an unsigned entry for the chat (never admitted). */
export async function pairingOf(redis: Redis, prefix: string, chatId: number, signer: Pick<Signer, "seal">): Promise<"paired" | "forged" | "none"> {
  const key = keysFor(prefix).telegramPaired;
  const [sealed, plain] = await redis.smismember(key, pairedMember(signer, chatId), String(chatId));
  return sealed ? "paired" : plain ? "forged" : "none";
}
