// `agent-gateway watch <file>` / `watch --config-entries`: follow log files like `tail -F` and
// push matching lines as events, until SIGTERM or Ctrl-C.
import { EXIT } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { checkEventNames, configFrom, parse, UsageError, untilSignal, type Command } from "../cli-kit.ts";
import { startWatcher, type WatchEntry } from "../sources/watcher.ts";

const usage = `Usage: agent-gateway watch <file> [--match REGEX] [--type T] [--source S] [--from-start]
       agent-gateway watch --config-entries

Follows <file> like \`tail -F\`: through rotation (rename and a new file) and truncation, and
before the file exists. Each matching line becomes an event (type log.line, source watch by
default, payload { file, count, lines, omitted }); a burst is one event per second with the
count of its lines and the first 50 of them. Lines are cut at 2000 characters. The position is
kept in <home>/watch/, so lines written while watch was stopped are pushed once when it starts
again; the first start begins at the end of the file (--from-start: at its beginning).
Redis unreachable: events are spooled, as with \`push\`. Runs until SIGTERM or Ctrl-C.

--config-entries runs every entry of \`watch\` in config.json, e.g.
  "watch": [{ "file": "/var/log/backup.log", "match": "ERROR|done", "type": "backup.log" }]
This is the entry point for running watch as a service beside the worker.

Options:
  --match REGEX   only lines matching this regular expression (JavaScript syntax)
  --type T        event type (default log.line)
  --source S      event source (default watch)
  --from-start    with no saved position, read the file from its beginning`;

export const command: Command = {
  summary: "follow log files (tail -F) and push matching lines as events",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      match: { type: "string" },
      type: { type: "string" },
      source: { type: "string" },
      "from-start": { type: "boolean", default: false },
      "config-entries": { type: "boolean", default: false },
    });
    const config = configFrom(io);
    let entries: WatchEntry[];
    if (values["config-entries"]) {
      if (positionals.length > 0) throw new UsageError("--config-entries takes no file: the files come from `watch` in config.json");
      entries = config.watch;
      if (entries.length === 0) {
        io.stderr(`agent-gateway watch: no \`watch\` entries in ${config.paths.configFile}; add e.g. "watch": [{ "file": "/var/log/app.log" }]`);
        return EXIT.config;
      }
    } else {
      if (positionals.length !== 1) throw new UsageError("expected exactly one file, e.g. `watch /var/log/app.log` (or --config-entries)");
      checkEventNames(values.type, values.source);
      if (values.match !== undefined) {
        try {
          new RegExp(values.match);
        } catch (error) {
          throw new UsageError(`--match is not a valid regular expression: ${(error as Error).message}`);
        }
      }
      entries = [{ file: positionals[0]!, match: values.match, type: values.type, source: values.source, fromStart: values["from-start"] }];
    }
    const log = createLogger({ dir: config.paths.logs, kind: "watch", level: config.logLevel, echo: (line) => io.stderr(line) });
    const stopped = untilSignal();
    const watchers = entries.map((entry) =>
      startWatcher(config, entry, log, (position) => log.info("watching", { file: entry.file, offset: position?.offset ?? null })),
    );
    const failed = Promise.race(watchers.map((w) => w.done.then(() => undefined, (error: Error) => error)));
    const outcome = await Promise.race([stopped.then(() => undefined), failed]);
    await Promise.all(watchers.map((w) => w.stop().catch(() => {})));
    await log.close();
    if (outcome) {
      io.stderr(`agent-gateway watch: ${outcome.message}`);
      return EXIT.failure;
    }
    return EXIT.ok;
  },
};
