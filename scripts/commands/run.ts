// `agent-gateway run -- CMD`: runs a command with its output passed through, then pushes one
// event saying how it ended (exit code or signal, duration, the last lines of output). The
// command always runs and its exit code is always ours: a broken gateway config or an
// unreachable Redis changes only the report.
import { spawn, type ChildProcess } from "node:child_process";
import { constants, hostname } from "node:os";
import type { Readable, Writable } from "node:stream";
import { chainFromEnv } from "../../core/chain.ts";
import { ConfigError, loadConfig, type Config } from "../../core/config.ts";
import { prioritySchema, type EventInput } from "../../core/event.ts";
import { pushOrSpool } from "../../core/producer.ts";
import { checkEventNames, parse, UsageError, type Command, type CommandIO } from "../cli-kit.ts";
import { LastLines, LineSplitter } from "../sources/lines.ts";
import { logOutcome, outcomeNotes } from "./push.ts";

const usage = `Usage: agent-gateway run [options] -- CMD [ARGS...]

Runs CMD (no shell; use \`sh -c '...'\` for one) with its output passed through as it arrives
and standard input passed on, then pushes one event: job.done when it exits 0, job.failed
otherwise, with the command line, exit code or signal, duration, cwd, host and the last lines
of its output. CMD's output is a pipe, not a terminal: programs that colour or page only on a
terminal do not. Exits with CMD's exit code (128+n when a signal ended it, 127 when it could
not be started). Ctrl-C, SIGTERM, SIGHUP and SIGQUIT are passed on to CMD and still reported.
Redis unreachable: the event is spooled, as with \`push\`. A bad gateway config never stops
CMD: it runs, and only the report fails.

Options:
  --type T        event type for both outcomes (payload.ok tells them apart; default job.done / job.failed)
  --source S      who is pushing (default: run)
  --tail N        lines of output to report, 0-1000 (default 20; each cut at 1000 characters)
  --priority P    low | normal | urgent
  --notify WHEN   always | failure | success (default always): when to push the event

Example:
  agent-gateway run --type build.finished -- make -j4 release`;

const NOTIFY = ["always", "failure", "success"] as const;
const MAX_TAIL = 1000;
const LINE_CHARS = 1000;
/** Room kept for what buildEvent adds (id, ts, v) when fitting the tail into maxEventBytes. */
const ENVELOPE_ROOM = 200;
/** How long output may still arrive after CMD exits (a background child may hold the pipe). */
const OUTPUT_GRACE_MS = 2000;
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

interface Ending {
  exitCode: number;
  /** The signal that ended CMD, if one did. */
  signal?: NodeJS.Signals;
  /** Why CMD could not be started. */
  startError?: string;
}

/** Options before `--`, the command after it (or the positionals when there is no `--`). */
function splitArgs(args: string[]) {
  const at = args.indexOf("--");
  const own = at === -1 ? args : args.slice(0, at);
  const { values, positionals } = parse(own, {
    type: { type: "string" },
    source: { type: "string", default: "run" },
    tail: { type: "string", default: "20" },
    priority: { type: "string" },
    notify: { type: "string", default: "always" },
  });
  const argv = at === -1 ? positionals : [...positionals, ...args.slice(at + 1)];
  if (argv.length === 0) throw new UsageError("no command given: `agent-gateway run [options] -- CMD [ARGS...]`");
  const tail = Number(values.tail);
  if (!Number.isInteger(tail) || tail < 0 || tail > MAX_TAIL) throw new UsageError(`--tail must be 0-${MAX_TAIL}, not "${values.tail}"`);
  const notify = NOTIFY.find((n) => n === values.notify);
  if (!notify) throw new UsageError(`--notify must be always, failure or success, not "${values.notify}"`);
  const priority = values.priority === undefined ? undefined : prioritySchema.safeParse(values.priority);
  if (priority && !priority.success) throw new UsageError(`--priority must be low, normal or urgent, not "${values.priority}"`);
  // A bad --type or --source is a usage error found before CMD runs, not after.
  checkEventNames(values.type, values.source);
  return { argv, type: values.type, source: values.source, tail, notify, priority: priority?.data };
}

/** The command line as a shell would read it back. */
function quoted(argv: string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(" ");
}

/**
 * Copies a child's stream to ours (pausing it while ours is full) and into the line splitter.
 * Once ours is closed (`run ... | head`), the output is still read, so CMD never blocks on it.
 */
function passThrough(from: Readable, to: Writable, lines: LineSplitter): void {
  let closed = false;
  to.on("error", () => {
    closed = true;
    from.resume();
  });
  from.on("data", (chunk: Buffer) => {
    lines.write(chunk);
    if (closed) return;
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
}

function outputClosed(child: ChildProcess): Promise<void> {
  const ended = (stream: Readable | null) => new Promise<void>((resolve) => (!stream || stream.readableEnded || stream.destroyed ? resolve() : stream.once("close", resolve)));
  return Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => {});
}

async function runChild(argv: string[], tail: LastLines): Promise<Ending> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["inherit", "pipe", "pipe"] });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  // Each stream has its own splitter, so interleaved chunks never mix within a line.
  const splitters = [new LineSplitter(LINE_CHARS, (line) => tail.push(line)), new LineSplitter(LINE_CHARS, (line) => tail.push(line))] as const;
  passThrough(child.stdout!, process.stdout, splitters[0]);
  passThrough(child.stderr!, process.stderr, splitters[1]);
  try {
    return await new Promise<Ending>((resolve) => {
      child.on("error", (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) resolve({ exitCode: 127, startError: `cannot start ${argv[0]}: ${error.code === "ENOENT" ? "command not found" : error.message}` });
      });
      child.once("exit", async (code, signal) => {
        const grace = new Promise<void>((r) => setTimeout(r, OUTPUT_GRACE_MS).unref());
        await Promise.race([outputClosed(child), grace]);
        child.stdout!.destroy();
        child.stderr!.destroy();
        for (const splitter of splitters) splitter.end();
        if (signal) resolve({ exitCode: 128 + (constants.signals[signal] ?? 0), signal });
        else resolve({ exitCode: code ?? 1 });
      });
    });
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}

/** The event input, with the oldest output lines dropped until it fits maxEventBytes. */
function reportOf(options: ReturnType<typeof splitArgs>, config: Config, ending: Ending, tail: LastLines, startedAt: number): EventInput {
  const ok = ending.exitCode === 0;
  const lines = tail.lines();
  const payload: Record<string, unknown> = {
    command: quoted(options.argv),
    ok,
    exitCode: ending.exitCode,
    ...(ending.signal && { signal: ending.signal }),
    ...(ending.startError && { error: ending.startError }),
    durationMs: Date.now() - startedAt,
    cwd: process.cwd(),
    host: hostname(),
    outputLines: tail.total,
    tail: lines,
  };
  const input: EventInput = {
    type: options.type ?? (ok ? "job.done" : "job.failed"),
    source: options.source,
    payload,
    originSession: config.session,
    priority: options.priority,
  };
  while (lines.length > 0 && Buffer.byteLength(JSON.stringify(input)) > config.maxEventBytes - ENVELOPE_ROOM) lines.shift();
  return input;
}

function wanted(notify: (typeof NOTIFY)[number], ok: boolean): boolean {
  return notify === "always" || (notify === "success") === ok;
}

async function report(config: Config, input: EventInput, io: CommandIO): Promise<void> {
  // Run from inside a gateway-started run (the agent's bash tool), the report carries its chain depth.
  const outcome = await pushOrSpool(config, { ...input, chain: chainFromEnv(io.env) }, { name: "agent-gateway-run" });
  const notes = outcomeNotes(config, outcome);
  if (!outcome.spooled) notes.unshift(`reported ${input.type} (event ${outcome.ids[0]})`);
  for (const note of notes) io.stderr(`agent-gateway run: ${note}`);
  await logOutcome(config, outcome);
}

export const command: Command = {
  summary: "run a command and push an event when it ends (exit code, duration, last lines)",
  usage,
  async run(args, io) {
    const options = splitArgs(args);
    let config: Config | undefined;
    let configError: ConfigError | undefined;
    try {
      config = loadConfig(io.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      configError = error;
    }
    const tail = new LastLines(options.tail);
    const startedAt = Date.now();
    const ending = await runChild(options.argv, tail);
    if (ending.startError) io.stderr(`agent-gateway run: ${ending.startError}`);
    if (!wanted(options.notify, ending.exitCode === 0)) return ending.exitCode;
    if (!config) {
      io.stderr(`agent-gateway run: not reported: ${configError!.message} (exit code ${ending.exitCode} is the command's)`);
      return ending.exitCode;
    }
    try {
      await report(config, reportOf(options, config, ending, tail, startedAt), io);
    } catch (error) {
      io.stderr(`agent-gateway run: not reported: ${(error as Error).message} (exit code ${ending.exitCode} is the command's)`);
    }
    return ending.exitCode;
  },
};
