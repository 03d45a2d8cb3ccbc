// The command queue: every input becomes an entry {source, replyTo, prompt, kind}; the lane
// takes one at a time, humans first, then automated events, then heartbeats, oldest first
// within a kind. Human entries are durable: stored in a Redis list before `submitHuman`
// resolves (so a channel may acknowledge upstream) and removed only once their reply was
// handed to the router, so a crash in between answers them once after a restart. Automated
// entries stay in Redis's own inbox/in-flight lists until pi takes them (redis-source.ts).
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { DaemonQueueItem } from "../core/daemon-state.ts";
import type { Logger } from "../core/log.ts";
import type { HumanMessage, ReplyTo, SubmitResult } from "./channel.ts";

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
  /** pi took the prompt into the session. */
  onTaken?(): Promise<void>;
  /** The run settled and its reply went to the router (`taken`: pi had the prompt). */
  onDone?(reply: string, taken: boolean): Promise<void>;
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

export class CommandQueue extends EventEmitter<{ change: [] }> {
  private readonly waiting: QueueEntry[] = [];
  /** Human messages waiting or being stored: the count the limit applies to, raised before the
   *  RPUSH is awaited so that messages arriving together cannot all see room. */
  private humans = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    /** Most human messages waiting at once; one more is refused with a reply. */
    private readonly limit: number,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Loads human entries a previous run stored and never answered (oldest first). */
  async restore(): Promise<number> {
    const raws = await this.redis.lrange(this.key, 0, -1);
    for (const raw of raws) {
      let stored: StoredHuman;
      try {
        stored = JSON.parse(raw) as StoredHuman;
        if (typeof stored.text !== "string" || typeof stored.replyTo !== "string") throw new Error("missing text or replyTo");
      } catch (error) {
        // Never silently dropped: the entry stays visible in the log with the reason.
        this.log.error("unreadable entry in the daemon queue; removed", { raw, error });
        await this.redis.lrem(this.key, 1, raw);
        continue;
      }
      this.insert({ ...this.humanEntry(stored), raw });
      this.humans += 1;
    }
    if (raws.length > 0) this.log.info("restored queued human messages", { count: raws.length });
    return raws.length;
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
    const raw = JSON.stringify(stored);
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
