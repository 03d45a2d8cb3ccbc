// The command queue: every input becomes an entry {source, replyTo, prompt, kind}; the lane
// takes one at a time, humans first, then automated events, then heartbeats, oldest first
// within a kind. Human entries are durable: stored in a Redis list before `submitHuman`
// resolves (so a channel may acknowledge upstream) and removed only once their reply was
// handed to the router, so a crash in between answers them once after a restart. Automated
// entries stay in Redis's own inbox/in-flight lists until pi takes them (redis-source.ts).
// Stored entries are sealed with the gateway's signing key (core/signing.ts): an entry written
// into the list by anyone else is dead-lettered with the reason at restore, never run.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { DaemonQueueItem } from "../core/daemon-state.ts";
import type { Logger } from "../core/log.ts";
import { isSealed, type Signer } from "../core/signing.ts";
import type { ScheduleDef } from "../core/schedules.ts";
import type { HumanMessage, ReplyTo, SubmitResult } from "./channel.ts";
import type { Delivery } from "./router.ts";

export type EntryKind = "human" | "event" | "heartbeat";
const RANK: Record<EntryKind, number> = { human: 0, event: 1, heartbeat: 2 };

export interface QueueEntry {
  id: string;
  kind: EntryKind;
  source: string;
  replyTo: ReplyTo;
  prompt: string;
  queuedAt: number;
  messageId?: string;
  /** An automated entry's chain depth (core/chain.ts): what its run pushes carries one more. */
  chain?: number;
  /** A schedule firing's own entry: the verified schedule and slot it runs, and how its reply is sent. */
  schedule?: { id: string; slot: string; notify: ScheduleDef["notify"] };
  /** pi took the prompt into the session. */
  onTaken?(): Promise<void>;
  /** The run settled and its reply went to the router (`taken`: pi had the prompt; `delivery`: what the router did). */
  onDone?(reply: string, taken: boolean, delivery: Delivery): Promise<void>;
  /** The stored form of a human entry, removed by value. */
  raw?: string;
}

interface StoredHuman {
  id: string;
  source: string;
  replyTo: string;
  text: string;
  messageId?: string;
  queuedAt: number;
}

/** The signature purpose of daemon queue entries. */
export const QUEUE_PURPOSE = "daemon-queue";

export interface QueueKeys {
  /** The durable list of human messages. */
  queue: string;
  /** Where entries that fail the signature check go, as {reason, at, raw}. */
  dead: string;
}

export class CommandQueue extends EventEmitter<{ change: [] }> {
  private readonly waiting: QueueEntry[] = [];
  /** Human messages waiting or being stored: the count the limit applies to, raised before the
   *  RPUSH is awaited so that messages arriving together cannot all see room. */
  private humans = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    /** Most human messages waiting at once; one more is refused with a reply. */
    private readonly limit: number,
    private readonly signer: Signer,
    private readonly log: Logger,
  ) {
    super();
    this.key = keys.queue;
  }

  /**
   * Loads human entries a previous run stored and never answered (oldest first). Entries whose
   * seal does not hold are dead-lettered. `signUnsigned` (the first start after the upgrade that
   * brought signatures) seals entries stored unsigned by an older version instead, once.
   */
  async restore({ signUnsigned = false } = {}): Promise<number> {
    if (signUnsigned) await this.sealUnsigned();
    const raws = await this.redis.lrange(this.key, 0, -1);
    let restored = 0;
    for (const raw of raws) {
      const read = this.read(raw);
      if (typeof read === "string") {
        // Never silently dropped: a dead letter with the reason, and a log line.
        this.log.error("daemon queue entry refused; dead-lettered, not run", { reason: read });
        await this.redis.multi().lrem(this.key, 1, raw).lpush(this.keys.dead, JSON.stringify({ reason: read, at: Date.now(), raw })).exec();
        continue;
      }
      this.insert({ ...this.humanEntry(read), raw });
      this.humans += 1;
      restored += 1;
    }
    if (restored > 0) this.log.info("restored queued human messages", { count: restored });
    return restored;
  }

  /** The stored message, or why it is refused. */
  private read(raw: string): StoredHuman | string {
    if (!isSealed(raw)) return "daemon queue entry is not signed: not written by this gateway (an entry added to Redis by hand is never run)";
    const data = this.signer.open(QUEUE_PURPOSE, raw);
    if (data === undefined) return "daemon queue entry's signature does not match the gateway's key (forged, or signed with a key since replaced)";
    try {
      const stored = JSON.parse(data) as StoredHuman;
      if (typeof stored.text !== "string" || typeof stored.replyTo !== "string") return "daemon queue entry is missing text or replyTo";
      return stored;
    } catch (error) {
      return `daemon queue entry is not JSON: ${(error as Error).message}`;
    }
  }

  /** Seals every unsigned entry in place, keeping the order (nothing else writes the list yet). */
  private async sealUnsigned(): Promise<void> {
    const raws = await this.redis.lrange(this.key, 0, -1);
    const unsigned = raws.filter((raw) => !isSealed(raw)).length;
    if (unsigned === 0) return;
    const sealed = raws.map((raw) => (isSealed(raw) ? raw : this.signer.seal(QUEUE_PURPOSE, raw)));
    await this.redis.multi().del(this.key).rpush(this.key, ...sealed).exec();
    this.log.info("signed the human messages an older version had queued unsigned", { count: unsigned });
  }

  async submitHuman(message: HumanMessage): Promise<SubmitResult> {
    if (this.closed) return { accepted: false, reason: "the agent is shutting down; send it again in a minute" };
    if (this.humans >= this.limit) {
      return { accepted: false, reason: `the queue is full (${this.humans} messages waiting, daemon.queueLimit); try again when the agent has answered some` };
    }
    this.humans += 1;
    const result = await this.store(message);
    if (!result.accepted) this.humans -= 1;
    return result;
  }

  private async store(message: HumanMessage): Promise<SubmitResult> {
    const stored: StoredHuman = {
      id: randomUUID(),
      source: message.source,
      replyTo: message.replyTo,
      text: message.text,
      messageId: message.messageId,
      queuedAt: Date.now(),
    };
    const raw = this.signer.seal(QUEUE_PURPOSE, JSON.stringify(stored));
    try {
      await this.redis.rpush(this.key, raw);
    } catch (error) {
      this.log.error("could not store a human message", { source: message.source, error });
      return { accepted: false, reason: "the agent cannot store messages right now (Redis is unreachable); try again shortly" };
    }
    const entry = { ...this.humanEntry(stored), raw };
    this.insert(entry);
    return { accepted: true, position: this.waiting.indexOf(entry) + 1 };
  }

  /** Automated entries are not stored here: their events stay in Redis until pi takes them. */
  addAutomated(entry: Omit<QueueEntry, "id" | "queuedAt">): QueueEntry {
    const full = { ...entry, id: randomUUID(), queuedAt: Date.now() };
    this.insert(full);
    return full;
  }

  /** Waits for the next entry; undefined once the queue is closed. */
  async take(): Promise<QueueEntry | undefined> {
    while (!this.closed) {
      const next = this.waiting.shift();
      if (next) {
        if (next.kind === "human") this.humans -= 1;
        this.emit("change");
        return next;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return undefined;
  }

  /** The entry's reply was handed to the router: forget it for good. */
  async finish(entry: QueueEntry): Promise<void> {
    if (!entry.raw) return;
    try {
      await this.redis.lrem(this.key, 1, entry.raw);
    } catch (error) {
      // It stays stored and is answered again after a restart; better twice than never.
      this.log.error("could not remove an answered message from the daemon queue", { id: entry.id, error });
    }
  }

  /** Stops handing out entries (shutdown); waiting human entries stay stored for the next start. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  get size(): number {
    return this.waiting.length;
  }

  /** Automated entries waiting (the Redis source drains only while there is none). */
  get automatedWaiting(): number {
    return this.waiting.filter((e) => e.kind !== "human").length;
  }

  items(): DaemonQueueItem[] {
    return this.waiting.map(toItem);
  }

  private humanEntry(stored: StoredHuman): QueueEntry {
    return { id: stored.id, kind: "human", source: stored.source, replyTo: stored.replyTo, prompt: stored.text, queuedAt: stored.queuedAt, messageId: stored.messageId };
  }

  private insert(entry: QueueEntry): void {
    // Stable: after every entry of the same or a more urgent kind.
    let at = this.waiting.length;
    while (at > 0 && RANK[this.waiting[at - 1]!.kind] > RANK[entry.kind]) at--;
    this.waiting.splice(at, 0, entry);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.emit("change");
  }
}

export function toItem(entry: QueueEntry): DaemonQueueItem {
  return { id: entry.id, kind: entry.kind, source: entry.source, replyTo: entry.replyTo, queuedAt: entry.queuedAt };
}

/** Re-signs the stored queue with a new key (`agent-gateway signing rotate`, daemon stopped).
 *  Entries that do not verify with the old key are left as they are: the next start dead-letters them. */
export async function resignQueue(redis: Redis, key: string, old: Signer, next: Signer): Promise<number> {
  const raws = await redis.lrange(key, 0, -1);
  let resigned = 0;
  const rewritten = raws.map((raw) => {
    const data = old.open(QUEUE_PURPOSE, raw);
    if (data === undefined) return raw;
    resigned += 1;
    return next.seal(QUEUE_PURPOSE, data);
  });
  if (rewritten.length > 0) await redis.multi().del(key).rpush(key, ...rewritten).exec();
  return resigned;
}
