// `agent-gateway tail <sid>`: follow the events pushed to a session's inbox without consuming
// them. It only reads (LRANGE of the newest entries) on each wake-up, on reconnect and on a
// slow poll, and prints the entries that were not there before.
import type { Redis } from "ioredis";
import { EXIT } from "../../core/config.ts";
import { parseEntry, sessionIdSchema } from "../../core/event.ts";
import { keysFor } from "../../core/keys.ts";
import { oneLine } from "../../core/quote.ts";
import { connectRedis, ensureConnected } from "../../core/redis.ts";
import { configFrom, parse, untilSignal, UsageError, type Command, type CommandIO } from "../cli-kit.ts";

const usage = `Usage: agent-gateway tail <session> [--lines N] [--json]

Prints the events waiting in the session's inbox (the last N), then each new one as it is
pushed, one line each, until Ctrl-C. Nothing is consumed: the inbox is only read.
An event a running session drains before tail looks at it is not shown.

Options:
  -n, --lines N   events already waiting to show first (default 10; 0 for none)
  --json          print each entry exactly as stored (one JSON line)`;

/** How many of the newest entries each look reads. */
const WINDOW = 1000;
/** A slow re-read, in case a wake-up was lost (pub/sub is fire-and-forget). */
const POLL_MS = 2000;

/**
 * Entries of `next` that `prev` did not have. Both are oldest first; between two looks the
 * consumer removes from the old end and producers add at the new end, so the longest overlap
 * of prev's newest part with next's oldest part is what was already seen.
 */
export function newEntries(prev: readonly string[], next: readonly string[]): string[] {
  for (let dropped = 0; dropped < prev.length; dropped++) {
    const overlap = prev.length - dropped;
    if (overlap > next.length) continue;
    let same = true;
    for (let k = 0; k < overlap && same; k++) same = prev[dropped + k] === next[k];
    if (same) return next.slice(overlap);
  }
  return [...next];
}

function formatTime(ts: number): string {
  return ts > 0 ? new Date(ts).toLocaleString("sv-SE") : "-";
}

export function formatEntry(raw: string, maxEventBytes: number): string {
  const parsed = parseEntry(raw, maxEventBytes);
  // Producer-given text is shown with control characters made visible (as in prompts), so an
  // entry cannot move the cursor, retitle or clear the terminal.
  if (!parsed.ok) return `(invalid entry: ${oneLine(parsed.reason, 300)}) ${oneLine(raw, 200)}`;
  const e = parsed.event;
  const parts = [formatTime(e.ts), oneLine(e.type, 200), `from ${oneLine(e.source, 200)}`, `id ${oneLine(e.id, 200)}`];
  if (e.originSession) parts.push(`origin ${e.originSession}`);
  if (e.priority && e.priority !== "normal") parts.push(e.priority);
  parts.push(oneLine(JSON.stringify(e.payload), 200));
  return parts.join("  ");
}

async function follow(reader: Redis, subscriber: Redis, inbox: string, channel: string, print: (raw: string) => void, lines: number, io: CommandIO) {
  const look = async () => (await reader.lrange(inbox, 0, WINDOW - 1)).reverse();
  let seen: string[] = [];
  // One look at a time; wake-ups during a look cause exactly one more.
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const now = await look();
          for (const raw of newEntries(seen, now)) print(raw);
          seen = now;
        } catch (error) {
          io.stderr(`agent-gateway tail: ${(error as Error).message}; retrying`);
        }
      } while (again);
      running = undefined;
    })();
    return running;
  };

  subscriber.on("message", () => void refresh());
  subscriber.on("ready", () => void refresh()); // a reconnect may have lost wake-ups
  await subscriber.subscribe(channel);
  seen = await look();
  for (const raw of lines > 0 ? seen.slice(-lines) : []) print(raw);
  io.stderr(`following ${inbox} (Ctrl-C to stop)`);
  const poll = setInterval(() => void refresh(), POLL_MS);
  await untilSignal();
  clearInterval(poll);
  await running;
}

export const command: Command = {
  summary: "follow events pushed to a session's inbox without consuming them",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      lines: { type: "string", short: "n", default: "10" },
      json: { type: "boolean", default: false },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one session id, e.g. `tail gateway`");
    const session = positionals[0]!;
    if (!sessionIdSchema.safeParse(session).success) throw new UsageError(`"${session}" is not a session id`);
    const lines = Number(values.lines);
    if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`--lines must be a whole number, not "${values.lines}"`);
    const config = configFrom(io);
    const keys = keysFor(config.prefix);
    const reader = connectRedis(config, { kind: "consumer", name: "agent-gateway-tail" });
    const subscriber = connectRedis(config, { kind: "subscriber", name: "agent-gateway-tail-sub" });
    try {
      await ensureConnected(reader);
      await ensureConnected(subscriber);
      const print = values.json ? io.stdout : (raw: string) => io.stdout(formatEntry(raw, config.maxEventBytes));
      await follow(reader, subscriber, keys.inbox(session), keys.notify(session), print, lines, io);
      return EXIT.ok;
    } finally {
      reader.disconnect();
      subscriber.disconnect();
    }
  },
};
