// `agent-gateway logs`: read the gateway's JSON-line logs (<home>/logs/<kind>.log), merged by
// time across process kinds, optionally following new lines as they are written.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "../../core/config.ts";
import { configFrom, parse, untilSignal, UsageError, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway logs [--kind K] [--lines N] [--follow] [--json]

Shows the last lines of the gateway's logs in <home>/logs/ (one file per process kind:
extension, worker, daemon, cli, ...), merged by time, then with --follow each new line as
it is written, until Ctrl-C.

Options:
  --kind K        only <home>/logs/K.log
  -n, --lines N   how many lines to show first (default 50)
  -f, --follow    keep printing new lines
  --json          print the lines exactly as stored`;

/** Only the end of a big log is read for the first screen. */
const TAIL_BYTES = 4 * 1024 * 1024;
const POLL_MS = 300;

interface Line {
  time: number;
  text: string;
}

function readRange(file: string, start: number, end: number): string {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(end - start);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Human form of one JSON log line: time, level, kind[pid], message, then the other fields. */
export function prettyLine(text: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text);
  } catch {
    return text;
  }
  if (!record || typeof record !== "object") return text;
  const { time, level, kind, pid, msg, ...rest } = record;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [String(time ?? "-"), String(level ?? "-").toUpperCase().padEnd(5), `${kind ?? "?"}[${pid ?? "?"}]`, String(msg ?? ""), ...fields].join(" ");
}

function timeOf(text: string, fallback: number): number {
  try {
    const time = Date.parse((JSON.parse(text) as { time?: string }).time ?? "");
    return Number.isNaN(time) ? fallback : time;
  } catch {
    return fallback;
  }
}

/** Splits complete lines; an unfinished last line is left for the next read. */
function completeLines(text: string): { lines: string[]; rest: string } {
  const parts = text.split("\n");
  const rest = parts.pop()!;
  return { lines: parts.filter((l) => l.trim() !== ""), rest };
}

export const command: Command = {
  summary: "show (and follow) the gateway's logs from <home>/logs/",
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        kind: { type: "string" },
        lines: { type: "string", short: "n", default: "50" },
        follow: { type: "boolean", short: "f", default: false },
        json: { type: "boolean", default: false },
      },
      false,
    );
    const count = Number(values.lines);
    if (!Number.isInteger(count) || count < 0) throw new UsageError(`--lines must be a whole number, not "${values.lines}"`);
    if (values.kind !== undefined && !/^[A-Za-z0-9_.-]+$/.test(values.kind)) throw new UsageError(`--kind must be a name like "worker", not "${values.kind}"`);
    const dir = configFrom(io).paths.logs;
    const files = () =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((name) => name.endsWith(".log") && (values.kind === undefined || name === `${values.kind}.log`))
            .map((name) => join(dir, name))
        : [];
    const show = (text: string) => io.stdout(values.json ? text : prettyLine(text));

    // First screen: the last lines of every file, merged by time.
    const offsets = new Map<string, { at: number; rest: string }>();
    const first: Line[] = [];
    for (const file of files()) {
      const size = statSync(file).size;
      let { lines } = completeLines(readRange(file, Math.max(0, size - TAIL_BYTES), size));
      if (size > TAIL_BYTES) lines = lines.slice(1); // the first one is cut
      let last = 0;
      for (const text of lines) {
        last = timeOf(text, last);
        first.push({ time: last, text });
      }
      offsets.set(file, { at: size, rest: "" });
    }
    first.sort((a, b) => a.time - b.time);
    for (const { text } of first.slice(first.length - count)) show(text);
    if (first.length === 0 && !values.follow) {
      io.stderr(`no log lines in ${dir}${values.kind ? ` for kind ${values.kind}` : ""}`);
    }
    if (!values.follow) return EXIT.ok;

    io.stderr(`following ${values.kind ? join(dir, `${values.kind}.log`) : `${dir}/*.log`} (Ctrl-C to stop)`);
    const poll = () => {
      for (const file of files()) {
        const state = offsets.get(file) ?? { at: 0, rest: "" };
        const size = statSync(file).size;
        if (size < state.at) Object.assign(state, { at: 0, rest: "" }); // truncated or replaced
        if (size > state.at) {
          const { lines, rest } = completeLines(state.rest + readRange(file, state.at, size));
          for (const text of lines) show(text);
          Object.assign(state, { at: size, rest });
        }
        offsets.set(file, state);
      }
    };
    const timer = setInterval(() => {
      try {
        poll();
      } catch (error) {
        io.stderr(`agent-gateway logs: ${(error as Error).message}`);
      }
    }, POLL_MS);
    await untilSignal();
    clearInterval(timer);
    return EXIT.ok;
  },
};
