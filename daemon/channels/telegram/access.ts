// Who may talk to the agent: a chat or user id in config.telegram.allowedChats, or a chat let
// in through an approved pairing code. Anyone else is refused once, politely, with a code the
// owner can approve from the CLI; later messages from them are only logged. A chat id written
// into the paired set by hand (no valid signature) is not a pairing: ignored and logged.
import type { Redis } from "ioredis";
import { formatDuration } from "../../../core/duration.ts";
import type { Logger } from "../../../core/log.ts";
import type { Signer } from "../../../core/signing.ts";
import { pairingOf } from "../../../core/paired-chats.ts";
import { requestPairing } from "./pairing-store.ts";

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
    private readonly signer: Signer,
    private readonly log: Logger,
  ) {
    this.allowed = new Set(allowedChats);
  }

  /** Admits the asker, or says what (if anything) to answer them. */
  async admit(asker: Asker): Promise<Admission> {
    if (this.allowed.has(asker.chatId) || (asker.userId !== undefined && this.allowed.has(asker.userId))) return { admitted: true };
    const pairing = await pairingOf(this.redis, this.prefix, asker.chatId, this.signer);
    if (pairing === "paired") return { admitted: true };
    if (pairing === "forged") {
      this.log.warn("telegram: ignored an unsigned pairing (a chat id added to Redis by hand is not a pairing)", { ...asker });
      return { admitted: false };
    }
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
