// Who may talk to the agent: a chat or user id in config.telegram.allowedChats, or a chat let
// in through an approved pairing code. Anyone else is refused once, politely, with a code the
// owner can approve from the CLI; later messages from them are only logged.
import type { Redis } from "ioredis";
import { formatDuration } from "../../../core/duration.ts";
import type { Logger } from "../../../core/log.ts";
import { isPaired, requestPairing } from "./pairing-store.ts";

export interface Asker {
  chatId: number;
  userId?: number;
  who: string;
}

export type Admission = { admitted: true } | { admitted: false; refusal?: string };

export class AccessControl {
  private readonly allowed: Set<number>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    allowedChats: number[],
    private readonly pairingTtlMs: number,
    private readonly log: Logger,
  ) {
    this.allowed = new Set(allowedChats);
  }

  /** Admits the asker, or says what (if anything) to answer them. */
  async admit(asker: Asker): Promise<Admission> {
    if (this.allowed.has(asker.chatId) || (asker.userId !== undefined && this.allowed.has(asker.userId))) return { admitted: true };
    if (await isPaired(this.redis, this.prefix, asker.chatId)) return { admitted: true };
    const { code, fresh } = await requestPairing(this.redis, this.prefix, asker, this.pairingTtlMs);
    if (!fresh) {
      this.log.info("telegram: ignored a message from an unknown chat (already refused)", { ...asker, code });
      return { admitted: false };
    }
    this.log.warn("telegram: refused an unknown chat and gave it a pairing code", { ...asker, code });
    return {
      admitted: false,
      refusal:
        "Sorry, this is a private agent and I don't know this chat yet, so I can't pass your message on.\n\n" +
        `If you own this gateway, run this on its machine within ${formatDuration(this.pairingTtlMs)}:\n\n` +
        `agent-gateway pairing approve ${code}`,
    };
  }
}
