// A session's history of delivered events: a Redis stream per session, bounded by count and
// age (oldest dropped first, and counted), written by the consumer before it hands a batch
// over (a batch redelivered after a crash is kept once), read by the agent's gateway_events
// tool and `agent-gateway history`. Best-effort: a history that cannot
// be written (Redis full) never holds up delivery; the caller logs it.
import type { Redis } from "ioredis";
import { parseEntry, type GatewayEvent } from "./event.ts";
import { keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export interface HistorySettings {
  prefix: string;
  maxEventBytes: number;
  history: { maxEvents: number; maxAge: number };
}

/** Entries per history-add call: no single script blocks Redis for long. */
const WRITE_CHUNK = 2_000;
/** Stream entries read per round trip while filtering. */
const READ_CHUNK = 1_000;

/**
 * Adds the events (exact raw entries) to the session's history; returns how many the bounds
 * dropped. `redelivered`: the batch was in flight before (pi died before the ack), so the
 * history's newest entries may hold it already; ids found there are skipped. Only a
 * redelivery pays for that look, so the drain path writes as fast as before.
 */
export async function recordHistory(
  redis: Redis,
  settings: HistorySettings,
  session: string,
  batch: { event: GatewayEvent; raw: Buffer }[],
  redelivered = false,
): Promise<number> {
  const keys = keysFor(settings.prefix);
  const entries = redelivered ? await notYetKept(redis, keys.history(session), batch) : batch;
  let dropped = 0;
  for (let start = 0; start < entries.length; start += WRITE_CHUNK) {
    const args = entries
      .slice(start, start + WRITE_CHUNK)
      .flatMap(({ event, raw }) => [event.id, event.type, event.source, String(event.ts), raw]);
    const [, gone] = (await runScript(redis, "historyAdd", [keys.history(session), keys.historyDropped(session)], [
      settings.history.maxEvents,
      settings.history.maxAge,
      ...args,
    ])) as [number, number];
    dropped += gone;
  }
  return dropped;
}

export interface HistoryQuery {
  type?: string;
  source?: string;
  /** ms since the epoch: only events whose ts is at or after / before this. */
  since?: number;
  until?: number;
  /** Events per page. */
  limit: number;
  /** From a previous page's `next`: continue after that entry. */
  cursor?: string;
}

export interface HistoryEntry {
  /** The stream entry id: a cursor that continues after this event. */
  at: string;
  event: GatewayEvent;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** Pass as `cursor` for the next page; undefined when this was the last. */
  next?: string;
  /** Entries the count/age bounds dropped so far (gone for good). */
  dropped: number;
  /** Entries now kept for the session. */
  kept: number;
}

function fieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

function matches(fields: Record<string, string>, query: HistoryQuery): boolean {
  const ts = Number(fields.ts);
  return (
    (query.type === undefined || fields.type === query.type) &&
    (query.source === undefined || fields.source === query.source) &&
    (query.since === undefined || ts >= query.since) &&
    (query.until === undefined || ts < query.until)
  );
}

/** A page of the history, oldest first, filtered by type, source and event time. */
export async function listHistory(redis: Redis, settings: Pick<HistorySettings, "prefix" | "maxEventBytes">, session: string, query: HistoryQuery): Promise<HistoryPage> {
  const keys = keysFor(settings.prefix);
  const entries: HistoryEntry[] = [];
  let more = false;
  await scan(redis, keys.history(session), query.cursor, (streamId, fields) => {
    if (!matches(fields, query)) return true;
    if (entries.length === query.limit) {
      more = true;
      return false;
    }
    const parsed = parseEntry(fields.raw ?? "", settings.maxEventBytes);
    if (parsed.ok) entries.push({ at: streamId, event: parsed.event });
    return true;
  });
  const [kept, dropped] = await Promise.all([redis.xlen(keys.history(session)), redis.get(keys.historyDropped(session))]);
  return { entries, next: more ? entries.at(-1)?.at : undefined, kept, dropped: Number(dropped ?? 0) };
}

/** The event with this id in the session's history (the first kept, should it be there twice). */
export async function findInHistory(redis: Redis, settings: Pick<HistorySettings, "prefix" | "maxEventBytes">, session: string, id: string): Promise<GatewayEvent | undefined> {
  let found: GatewayEvent | undefined;
  await scan(redis, keysFor(settings.prefix).history(session), undefined, (_streamId, fields) => {
    if (fields.id !== id) return true;
    const parsed = parseEntry(fields.raw ?? "", settings.maxEventBytes);
    if (parsed.ok) found = parsed.event;
    return !parsed.ok;
  });
  return found;
}

/**
 * The entries whose ids are not among the history's newest `entries.length`: where an earlier
 * recording of the same in-flight batch (whole or cut short) can only be, as the session's one
 * consumer records nothing else while that batch is in flight.
 */
async function notYetKept<T extends { event: GatewayEvent }>(redis: Redis, key: string, entries: T[]): Promise<T[]> {
  const kept = new Set<string>();
  let from = "+";
  for (let left = entries.length; left > 0; ) {
    const chunk = (await redis.xrevrange(key, from, "-", "COUNT", Math.min(left, READ_CHUNK))) as [string, string[]][];
    for (const [, flat] of chunk) {
      const id = fieldsOf(flat).id;
      if (id !== undefined) kept.add(id);
    }
    left -= chunk.length;
    if (chunk.length < READ_CHUNK) break;
    from = `(${chunk.at(-1)![0]}`;
  }
  return kept.size === 0 ? entries : entries.filter((e) => !kept.has(e.event.id));
}

/** Reads the stream after `cursor` in chunks, calling `visit` per entry until it returns false. */
async function scan(redis: Redis, key: string, cursor: string | undefined, visit: (streamId: string, fields: Record<string, string>) => boolean): Promise<void> {
  let from = cursor ? `(${cursor}` : "-";
  for (;;) {
    const chunk = (await redis.xrange(key, from, "+", "COUNT", READ_CHUNK)) as [string, string[]][];
    for (const [streamId, flat] of chunk) if (!visit(streamId, fieldsOf(flat))) return;
    if (chunk.length < READ_CHUNK) return;
    from = `(${chunk.at(-1)![0]}`;
  }
}
