// Dead letters for the operator: list them, put them back in the inbox (requeue), or delete
// them (purge). Each dead-letter entry is {"reason","at","raw"}: the raw entry exactly as it was.
import type { Redis } from "ioredis";
import { parseEntry } from "./event.ts";
import { keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export interface DeadLetter {
  /** The dead-letter entry exactly as stored (requeue and purge remove it by value). */
  stored: string;
  reason: string;
  /** ms since epoch when it was dead-lettered. */
  at?: number;
  /** The original entry. */
  raw: string;
  /** The event's id and type, when the raw entry has them. */
  id?: string;
  type?: string;
}

function decode(stored: string): DeadLetter {
  let entry: { reason?: unknown; at?: unknown; raw?: unknown } = {};
  try {
    entry = JSON.parse(stored);
  } catch {
    // written by hand: show it as its own raw entry
  }
  const raw = typeof entry.raw === "string" ? entry.raw : stored;
  let event: { id?: unknown; type?: unknown } = {};
  try {
    event = JSON.parse(raw) ?? {};
  } catch {
    // not JSON: no id or type to show
  }
  return {
    stored,
    reason: typeof entry.reason === "string" ? entry.reason : "(no reason recorded)",
    at: typeof entry.at === "number" ? entry.at : undefined,
    raw,
    id: typeof event.id === "string" ? event.id : undefined,
    type: typeof event.type === "string" ? event.type : undefined,
  };
}

/** Dead letters of one session, oldest first. */
export async function listDead(redis: Redis, prefix: string, session: string): Promise<DeadLetter[]> {
  const stored = await redis.lrange(keysFor(prefix).dead(session), 0, -1);
  return stored.reverse().map(decode);
}

/** The newest `count` dead letters of one session, newest first. */
export async function newestDead(redis: Redis, prefix: string, session: string, count: number): Promise<DeadLetter[]> {
  return (await redis.lrange(keysFor(prefix).dead(session), 0, count - 1)).map(decode);
}

/**
 * Splits dead letters into those that can go back (a valid event) and those that would only
 * fail validation again, with the reason.
 */
export function requeueable(letters: DeadLetter[], maxEventBytes: number): { ok: DeadLetter[]; invalid: { letter: DeadLetter; reason: string }[] } {
  const ok: DeadLetter[] = [];
  const invalid: { letter: DeadLetter; reason: string }[] = [];
  for (const letter of letters) {
    const parsed = parseEntry(letter.raw, maxEventBytes);
    if (parsed.ok) ok.push(letter);
    else invalid.push({ letter, reason: parsed.reason });
  }
  return { ok, invalid };
}

/** Moves the given dead letters (oldest first) back to the session's inbox; returns how many moved. */
export async function requeueDead(redis: Redis, prefix: string, session: string, letters: DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  const keys = keysFor(prefix);
  return (await runScript(
    redis,
    "requeue",
    [keys.dead(session), keys.inbox(session)],
    [keys.notify(session), ...letters.flatMap((l) => [l.stored, l.raw])],
  )) as number;
}

/** Deletes the given dead letters, or all of them; returns how many were removed. */
export async function purgeDead(redis: Redis, prefix: string, session: string, letters: DeadLetter[] | "all"): Promise<number> {
  const key = keysFor(prefix).dead(session);
  if (letters === "all") {
    const [[, count] = []] = (await redis.multi().llen(key).del(key).exec()) ?? [];
    return count as number;
  }
  if (letters.length === 0) return 0;
  const pipeline = redis.pipeline();
  for (const { stored } of letters) pipeline.lrem(key, 1, stored);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [error, removed]) => {
    if (error) throw error;
    return sum + (removed as number);
  }, 0);
}
