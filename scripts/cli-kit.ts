// What every CLI command shares: argument parsing that turns mistakes into usage errors
// (exit 2), config loading (exit 78 on a bad value), and a Redis connection that is closed
// afterwards.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Redis } from "ioredis";
import { loadConfig, type Config } from "../core/config.ts";
import { buildEvent, EventError } from "../core/event.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { withProducer } from "../core/redis.ts";


export class UsageError extends Error {
  override name = "UsageError";
}

export interface Command {
  /** One line for `agent-gateway --help`. */
  summary: string;
  /** The whole `--help` text. */
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  env: NodeJS.ProcessEnv;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readStdin: () => Promise<string>;
}

// Named so the build can write its declaration (node's ParseArgsOptionsConfig is not exported).
type ParsedArgs<T extends NonNullable<ParseArgsConfig["options"]>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>
>;

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
  allowPositionals = true,
): ParsedArgs<T> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A --type or --source the event schema would refuse is a usage error, found before any work. */
export function checkEventNames(type: string | undefined, source: string | undefined): void {
  try {
    buildEvent({ type: type ?? "check", source: source ?? "check" });
  } catch (error) {
    if (error instanceof EventError) throw new UsageError(error.message.replace(/^invalid event: /, ""));
    throw error;
  }
}

export function configFrom(io: CommandIO): Config {
  return loadConfig(io.env);
}

/** Connects as a producer (fails fast), runs fn, and always closes the connection. */
export function withRedis<T>(config: Config, fn: (redis: Redis) => Promise<T>, name = "agent-gateway-cli"): Promise<T> {
  return withProducer(config, name, fn);
}

/** Resolves on Ctrl-C or SIGTERM: the end of a following command (tail, logs --follow). */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** The CLI's log, <home>/logs/cli.log: what an operator may look for later (spools, flushes). */
export function cliLogger(config: Config): Logger {
  return createLogger({ dir: config.paths.logs, kind: "cli", level: config.logLevel });
}
