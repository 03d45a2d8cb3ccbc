// Producer spool: events that could not reach Redis wait in <home>/spool.jsonl, one JSON line
// each, already built (id and ts fixed). A flush re-pushes the same ids, so the push-side
// idempotency marker makes delivery exactly-once even when a flush is interrupted and rerun.
//
// Two processes may append and flush at once. Appends and the flush's claim (a rename of the
// spool to a file only that flush owns) happen under a lock file held for microseconds, so an
// append never lands in a file a flush has already read. A flush that dies leaves its claimed
// file behind; the next flush adopts it once the owner's pid is gone. Lines that are not valid
// events are moved to spool.rejected.jsonl with the reason, never dropped.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import type { Redis } from "ioredis";
import { parseEntry, type GatewayEvent } from "./event.ts";
import { pidAlive } from "./host.ts";
import { ensurePrivateDir, narrow, PRIVATE_FILE } from "./private-files.ts";
import { pushInBatches, type PushSettings } from "./push.ts";
import { confirmReplicated, type Durability } from "./replication.ts";

/** Events per atomic push while flushing (two such batches are in flight at once). */
const FLUSH_CHUNK = 200;
/** A lock older than this is stale: the critical sections last microseconds. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

export interface RejectedLine {
  line: string;
  reason: string;
}

export interface FlushReport {
  /** Events delivered by this flush. */
  delivered: number;
  /** Events whose id had already been delivered (an earlier flush was interrupted). */
  duplicates: number;
  /** Events pushed but not confirmed by redis.waitReplicas replicas: back in the spool. */
  unreplicated: number;
  /** Corrupt lines, now in the rejected file. */
  rejected: RejectedLine[];
  rejectedFile: string;
}

export function rejectedPath(spool: string): string {
  return spool.replace(/\.jsonl$/, "") + ".rejected.jsonl";
}

const claimPrefix = (spool: string) => `${basename(spool)}.flushing-`;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs fn while holding <spool>.lock (created exclusively; stale locks are taken over). */
function withLock<T>(spool: string, fn: () => T): T {
  const lock = `${spool}.lock`;
  ensurePrivateDir(dirname(spool));
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, "wx", PRIVATE_FILE);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (lockIsStale(lock)) {
      try {
        unlinkSync(lock);
      } catch {
        // someone else removed it first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`the spool is locked by another process (${lock}); remove that file if no agent-gateway is running`);
    }
    Atomics.wait(sleeper, 0, 0, 5);
  }
  try {
    return fn();
  } finally {
    unlinkSync(lock);
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, "utf8"));
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) return true;
    return Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS;
  } catch {
    return false; // vanished or half-written: retry the create
  }
}

function appendDurably(file: string, text: string): void {
  const fd = openSync(file, "a", PRIVATE_FILE);
  narrow(file, PRIVATE_FILE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Appends built events (id and ts already fixed) to the spool. */
export function appendToSpool(spool: string, events: readonly GatewayEvent[]): void {
  if (events.length === 0) return;
  const text = events.map((event) => JSON.stringify(event) + "\n").join("");
  withLock(spool, () => appendDurably(spool, text));
}

function readLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** Events waiting in the spool, including a flush in progress or interrupted. */
export function countSpooled(spool: string): number {
  return spoolFiles(spool).reduce((sum, file) => sum + readLines(file).length, 0);
}

function spoolFiles(spool: string): string[] {
  const dir = dirname(spool);
  if (!existsSync(dir)) return [];
  const claimed = readdirSync(dir)
    .filter((name) => name.startsWith(claimPrefix(spool)))
    .map((name) => join(dir, name));
  return existsSync(spool) ? [...claimed, spool] : claimed;
}

/** Claims files to flush: orphans of dead flushes first (older events), then the spool itself. */
function claim(spool: string): string[] {
  const dir = dirname(spool);
  if (!existsSync(dir)) return [];
  const own = () => join(dir, `${claimPrefix(spool)}${process.pid}-${randomBytes(4).toString("hex")}`);
  const claimed: string[] = [];
  const orphans = readdirSync(dir)
    .filter((name) => name.startsWith(claimPrefix(spool)))
    .filter((name) => !pidAlive(Number(name.slice(claimPrefix(spool).length).split("-")[0])))
    .sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs);
  for (const orphan of orphans) {
    const mine = own();
    try {
      renameSync(join(dir, orphan), mine); // atomic: a second adopter gets ENOENT
      claimed.push(mine);
    } catch {
      // adopted by a concurrent flush
    }
  }
  withLock(spool, () => {
    if (!existsSync(spool)) return;
    const mine = own();
    renameSync(spool, mine);
    claimed.push(mine);
  });
  return claimed;
}

/** Puts unflushed lines back at the head of the spool, ahead of anything appended since. */
function putBack(spool: string, lines: string[]): void {
  if (lines.length === 0) return;
  withLock(spool, () => {
    const newer = existsSync(spool) ? readFileSync(spool, "utf8") : "";
    const tmp = `${spool}.tmp-${process.pid}`;
    appendDurably(tmp, lines.map((line) => line + "\n").join("") + newer);
    renameSync(tmp, spool);
  });
}

/**
 * Pushes every spooled event with its original id. On a failure the unpushed lines go back to
 * the spool (re-pushing the rest later is safe: the idempotency marker drops repeats) and the
 * error is rethrown.
 */
export async function flushSpool(redis: Redis, settings: PushSettings & { redis?: Durability }, spool: string): Promise<FlushReport> {
  const report: FlushReport = { delivered: 0, duplicates: 0, unreplicated: 0, rejected: [], rejectedFile: rejectedPath(spool) };
  const files = claim(spool);
  for (const [index, file] of files.entries()) {
    const valid: { line: string; event: GatewayEvent }[] = [];
    const rejected: RejectedLine[] = [];
    for (const line of readLines(file)) {
      const parsed = parseEntry(line, settings.maxEventBytes);
      if (parsed.ok) valid.push({ line, event: parsed.event });
      else rejected.push({ line, reason: parsed.reason });
    }
    keepRejected(report.rejectedFile, file, rejected);
    report.rejected = report.rejected.concat(rejected); // no spread: there may be 100 000s
    let confirmed = 0;
    try {
      await pushInBatches(redis, settings, valid.map((v) => v.event), {
        batchSize: FLUSH_CHUNK,
        onBatch: (results) => {
          confirmed += results.length;
          for (const result of results) result.duplicate ? report.duplicates++ : report.delivered++;
        },
      });
    } catch (error) {
      const unpushed = [...valid.slice(confirmed).map((v) => v.line), ...files.slice(index + 1).flatMap(readLines)];
      putBack(spool, unpushed);
      for (const later of files.slice(index)) unlinkSync(later);
      throw error;
    }
    if (settings.redis && (await confirmReplicated(redis, settings.redis)) === false) {
      putBack(spool, valid.map((v) => v.line));
      report.unreplicated += valid.length;
    }
    unlinkSync(file);
  }
  return report;
}

/** Appends corrupt lines, with their reason, to the rejected file before their file goes. */
function keepRejected(rejectedFile: string, from: string, rejected: RejectedLine[]): void {
  if (rejected.length === 0) return;
  const at = Date.now();
  appendDurably(
    rejectedFile,
    rejected.map(({ line, reason }) => JSON.stringify({ reason, at, from: basename(from), raw: line }) + "\n").join(""),
  );
}
