// One watched file: matching lines become events, at most one per second (a burst is one event
// with the count of its lines and the first of them), pushed or spooled like `push`. The
// position is saved in <home>/watch/ only once the lines before it were pushed, so a restart
// pushes what was written while it was down, once.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { FileFollower, type Position } from "./follow.ts";

export interface WatchEntry {
  file: string;
  match?: string;
  type?: string;
  source?: string;
  fromStart?: boolean;
}

const POLL_MS = 200;
const EVENT_EVERY_MS = 1000;
const LINE_CHARS = 2000;
/** Lines quoted in one event; the count covers every line. */
const QUOTED_LINES = 50;
const ENVELOPE_ROOM = 512;

function positionFile(config: Config, file: string): string {
  return join(config.home, "watch", `${createHash("sha256").update(file).digest("hex").slice(0, 16)}.json`);
}

function loadPosition(path: string): Position | undefined {
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as Position;
    return Number.isInteger(saved.ino) && Number.isInteger(saved.offset) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function savePosition(path: string, file: string, position: Position): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify({ file, ...position }));
  renameSync(`${path}.tmp`, path);
}

export interface Watcher {
  /** Stops after pushing what was already read. */
  stop(): Promise<void>;
  /** Resolves when the watcher stops on its own (an error it cannot get past). */
  done: Promise<void>;
}

export function startWatcher(config: Config, entry: WatchEntry, log: Logger, onReady?: (position: Position | undefined) => void): Watcher {
  const file = resolve(entry.file);
  const saved = positionFile(config, file);
  const match = entry.match === undefined ? undefined : new RegExp(entry.match);
  const follower = new FileFollower(file, { maxLineChars: LINE_CHARS, from: loadPosition(saved), fromStart: entry.fromStart });
  let pending: { count: number; lines: string[]; position: Position } | undefined;
  let lastPush = 0;
  let lastSaved = "";
  let stopping = false;

  const save = (position: Position) => {
    const text = JSON.stringify(position);
    if (text === lastSaved || position.ino === 0) return;
    savePosition(saved, file, position);
    lastSaved = text;
  };

  const push = async () => {
    if (!pending) return;
    const { count, lines, position } = pending;
    const payload = { file, count, lines, omitted: count - lines.length };
    while (payload.lines.length > 1 && Buffer.byteLength(JSON.stringify(payload)) > config.maxEventBytes - ENVELOPE_ROOM) {
      payload.lines = payload.lines.slice(0, Math.ceil(payload.lines.length / 2));
      payload.omitted = count - payload.lines.length;
    }
    const outcome = await pushOrSpool(config, { type: entry.type ?? "log.line", source: entry.source ?? "watch", payload, originSession: config.session }, { name: "agent-gateway-watch" });
    if (outcome.spooled) log.warn("Redis unreachable: watch event spooled", { file, id: outcome.ids[0], count, reason: outcome.spoolReason });
    else log.debug("watch event pushed", { file, id: outcome.ids[0], count });
    pending = undefined;
    lastPush = Date.now();
    save(position);
  };

  const tick = async () => {
    const batch = follower.read();
    for (const line of batch.lines) {
      if (match && !match.test(line)) continue;
      pending ??= { count: 0, lines: [], position: batch.position };
      pending.count++;
      if (pending.lines.length < QUOTED_LINES) pending.lines.push(line);
    }
    if (pending) pending.position = batch.position;
    // Lines of a file that was replaced are pushed before the position moves to the new one.
    if (pending && (batch.rotated || stopping || Date.now() - lastPush >= EVENT_EVERY_MS)) await push();
    if (!pending && follower.current) save(follower.current);
  };

  let wake: (() => void) | undefined;
  const done = (async () => {
    try {
      await tick();
      onReady?.(follower.current);
      while (!stopping) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, POLL_MS);
        });
        try {
          await tick();
        } catch (error) {
          // Lines stay unpushed and the position unsaved: the next tick tries them again.
          log.error("watch: reading or pushing failed; retrying", { file, error });
        }
      }
      await tick();
    } finally {
      follower.close();
    }
  })();
  return {
    done,
    stop: async () => {
      stopping = true;
      wake?.();
      await done;
    },
  };
}
