// Drain and acknowledge: the consumer's half of the protocol. `drainBatch` takes the oldest
// events atomically into the in-flight list (or returns the batch already there), validates
// them, and dead-letters what fails; `ackBatch` clears the batch once pi has taken it. Given the
// lease owner token, both are refused (LeaseNotHeldError) unless that token holds the session's
// lease at that moment, so two consumers never drain one inbox or take one in-flight batch.
import type { Redis } from "ioredis";
import { parseEntry, type GatewayEvent } from "./event.ts";
import { inboxesOf, keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export interface DrainSettings {
  prefix: string;
  maxEventBytes: number;
  drainBatch: number;
  drainBatchBytes: number;
  /** ms an acknowledged id is remembered to suppress a redelivery of its batch. */
  ackMemory: number;
}

export interface DrainedEntry {
  event: GatewayEvent;
  /** The entry's exact bytes as stored; the ack removes it by value. */
  raw: Buffer;
}

export interface Batch {
  session: string;
  /** True when this batch was already in flight: a consumer crashed or never acknowledged it. */
  redelivered: boolean;
  entries: DrainedEntry[];
  /** Entries that failed validation, now in the dead-letter list. */
  deadLettered: { raw: Buffer; reason: string }[];
}

/** The session's lease is not held by the token the caller gave: another consumer has it. */
export class LeaseNotHeldError extends Error {
  override name = "LeaseNotHeldError";
}

const NOT_HELD = -1;
const ACK_CHUNK = 5_000;

/**
 * `owner`: the lease owner token this consumer holds the session with. Without one the call is
 * unguarded (tools and tests that hold no lease).
 */
export async function drainBatch(redis: Redis, settings: DrainSettings, session: string, owner = ""): Promise<Batch> {
  const keys = keysFor(settings.prefix);
  const now = Date.now();
  // Buffers, not strings: an entry of invalid UTF-8 must be acked or dead-lettered by its exact
  // bytes, or it would stay in flight and block the session for ever.
  const reply = (await runScript(
    redis,
    "drain",
    [keys.lease(session), keys.inflight(session), keys.acked(session), keys.dead(session), ...inboxesOf(session).map(keys.inbox)],
    [owner, settings.drainBatch, settings.drainBatchBytes, now, settings.ackMemory],
    true,
  )) as [number, ...Buffer[]];
  const [redelivered, ...raws] = reply;
  if (redelivered === NOT_HELD) throw new LeaseNotHeldError(`drain of session ${session} refused: this consumer does not hold its lease`);
  const batch: Batch = { session, redelivered: redelivered === 1, entries: [], deadLettered: [] };
  const dead = validateInto(batch, raws, settings.maxEventBytes);
  if (dead.length > 0) await deadLetter(redis, settings.prefix, session, dead);
  return batch;
}

/** Parses each raw entry into the batch; returns the ones that failed (also in batch.deadLettered). */
function validateInto(batch: Batch, raws: Buffer[], maxEventBytes: number): Batch["deadLettered"] {
  const failed: Batch["deadLettered"] = [];
  for (const raw of raws) {
    const parsed = parseEntry(raw.toString("utf8"), maxEventBytes);
    if (parsed.ok) batch.entries.push({ event: parsed.event, raw });
    else failed.push({ raw, reason: parsed.reason });
  }
  batch.deadLettered.push(...failed);
  return failed;
}

async function deadLetter(redis: Redis, prefix: string, session: string, failed: Batch["deadLettered"]): Promise<void> {
  const keys = keysFor(prefix);
  await runScript(redis, "deadLetter", [keys.inflight(session), keys.dead(session)], failed.flatMap(({ raw, reason }) => [raw, reason]));
}

/**
 * A storm's next chunk: up to `max` more of the oldest inbox entries (and `maxBytes`), appended
 * to the batch already in flight, so the storm is acknowledged or redelivered as one. Entries
 * that fail validation are dead-lettered, as in drainBatch.
 */
export async function drainMore(
  redis: Redis,
  settings: Pick<DrainSettings, "prefix" | "maxEventBytes">,
  batch: Batch,
  owner: string,
  max: number,
  maxBytes: number,
): Promise<number> {
  const keys = keysFor(settings.prefix);
  const session = batch.session;
  const reply = (await runScript(
    redis,
    "drainMore",
    [keys.lease(session), keys.inflight(session), ...inboxesOf(session).map(keys.inbox)],
    [owner, max, maxBytes],
    true,
  )) as [number, ...Buffer[]];
  const [status, ...raws] = reply;
  if (status === NOT_HELD) throw new LeaseNotHeldError(`drain of session ${session} refused: this consumer does not hold its lease`);
  const dead = validateInto(batch, raws, settings.maxEventBytes);
  if (dead.length > 0) await deadLetter(redis, settings.prefix, session, dead);
  return raws.length;
}

/** Clears the batch's entries from the in-flight list; returns how many were removed. */
export async function ackBatch(
  redis: Redis,
  settings: Pick<DrainSettings, "prefix" | "ackMemory">,
  batch: Pick<Batch, "session" | "entries">,
  owner = "",
): Promise<number> {
  if (batch.entries.length === 0) return 0;
  const keys = keysFor(settings.prefix);
  // A storm is acknowledged in chunks, oldest first (each LREM then finds its entry at the head),
  // so no single script blocks Redis for long; a crash between chunks redelivers only the rest.
  let removed = 0;
  for (let start = 0; start < batch.entries.length; start += ACK_CHUNK) {
    const chunk = batch.entries.slice(start, start + ACK_CHUNK);
    const count = (await runScript(
      redis,
      "ack",
      [keys.lease(batch.session), keys.inflight(batch.session), keys.acked(batch.session)],
      [owner, Date.now(), settings.ackMemory, ...chunk.flatMap(({ event, raw }) => [event.id, raw])],
    )) as number;
    if (count === NOT_HELD) throw new LeaseNotHeldError(`ack of session ${batch.session} refused: this consumer does not hold its lease`);
    removed += count;
  }
  return removed;
}
