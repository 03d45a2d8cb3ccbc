// Structured logs: JSON lines in <home>/logs/<kind>.log, one file per process kind
// (extension, worker, daemon, cli). Never the console by default: inside pi the console is the
// TUI. A failing log write is swallowed rather than crashing the process it describes.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, narrow, PRIVATE_FILE } from "./private-files.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** Directory for the log file; omit for no file. */
  dir?: string;
  kind: string;
  level?: LogLevel;
  /** Also echo each line here (the worker and daemon echo to stderr for journald/launchd). */
  echo?: (line: string) => void;
}

function serialise(value: unknown): unknown {
  return value instanceof Error ? { message: value.message, name: value.name } : value;
}

export function createLogger({ dir, kind, level = "info", echo }: LoggerOptions): Logger {
  let stream: WriteStream | undefined;
  if (dir) {
    try {
      // Logs quote events and conversations: user-only, like the rest of the gateway's home.
      ensurePrivateDir(dir);
      const file = join(dir, `${kind}.log`);
      stream = createWriteStream(file, { flags: "a", mode: PRIVATE_FILE });
      narrow(file, PRIVATE_FILE);
      stream.on("error", () => (stream = undefined));
    } catch {
      stream = undefined;
    }
  }
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < RANK[level]) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, kind, pid: process.pid, msg };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = serialise(v);
    const line = JSON.stringify(record);
    stream?.write(line + "\n");
    echo?.(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    close: () => new Promise((resolve) => (stream ? stream.end(resolve) : resolve())),
  };
}
