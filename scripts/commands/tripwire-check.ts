// `agent-gateway tripwire-check [--every DURATION]`: watchdog layer 2, run from outside pi by a
// launchd/systemd timer (or a loop in the fallback). When the tripwire file (touched on each
// heartbeat received) is older than the threshold: a notification (macOS) or a log/journal
// line, and a `watchdog.tripwire` event when Redis is reachable. One alarm per silence: the
// alarm is remembered until a new heartbeat moves the tripwire.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { watchdogThreshold, type Config } from "../../core/config.ts";
import { formatDuration, parseDuration } from "../../core/duration.ts";
import { createLogger } from "../../core/log.ts";
import { pushEvent } from "../../core/push.ts";
import { configFrom, parse, UsageError, withRedis, type Command, type CommandIO } from "../cli-kit.ts";

const usage = `Usage: agent-gateway tripwire-check [--every DURATION]

Checks the tripwire file (<home>/last-heartbeat, touched on every heartbeat the central
session receives). Older than the watchdog threshold: raises one alarm per silence — a
macOS notification or a log line (<home>/logs/tripwire.log and stderr, which the journal
keeps) — and pushes a "watchdog.tripwire" event when Redis is reachable.

Options:
  --every DURATION   keep checking at this interval (e.g. 5m); for machines with no timer`;

function notifyDesktop(message: string): void {
  if (process.platform !== "darwin") return;
  const script = `display notification ${JSON.stringify(message)} with title "agent-gateway"`;
  spawnSync("osascript", ["-e", script], { timeout: 10_000 });
}

/** Which layer went silent: the worker sends the heartbeats, the central pi takes them. */
async function silentLayer(config: Config): Promise<string> {
  const host = config.worker.host === "0.0.0.0" || config.worker.host === "::" ? "127.0.0.1" : config.worker.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.worker.port}/health`;
  const answer = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, () => undefined);
  if (answer === undefined) return `the worker, which sends them, does not answer at ${url}: agent-gateway service restart worker`;
  if (answer !== 200) return `the worker answers ${answer} at ${url} (Redis unreachable?): agent-gateway doctor`;
  return `the worker runs, so no pi takes them: is the central pi session running? tmux attach -t agent-gateway (or agent-gateway service restart central)`;
}

async function checkOnce(config: Config, io: CommandIO): Promise<void> {
  const file = config.paths.tripwire;
  if (!config.heartbeat.enabled) return io.stdout("heartbeats are switched off (heartbeat.enabled): nothing to check");
  if (!existsSync(file)) return io.stdout(`no heartbeat recorded yet (${file} does not exist)`);
  const threshold = watchdogThreshold(config);
  const touched = Math.floor(statSync(file).mtimeMs);
  const age = Date.now() - touched;
  if (age <= threshold) return io.stdout(`ok: last heartbeat ${formatDuration(age)} ago (threshold ${formatDuration(threshold)})`);

  const alarmed = join(config.home, "tripwire-alarmed");
  if (existsSync(alarmed) && readFileSync(alarmed, "utf8").trim() === String(touched)) {
    return io.stdout(`stale: last heartbeat ${formatDuration(age)} ago; alarm already raised`);
  }
  const message = `No heartbeat for ${formatDuration(age)} (threshold ${formatDuration(threshold)}): ${await silentLayer(config)}`;
  const log = createLogger({ dir: config.paths.logs, kind: "tripwire", level: config.logLevel });
  log.warn("tripwire: heartbeats stopped", { ageMs: age, thresholdMs: threshold, file });
  await log.close();
  io.stderr(`agent-gateway tripwire: ${message}`);
  notifyDesktop(message);
  try {
    await withRedis(
      config,
      (redis) =>
        pushEvent(redis, config, {
          // Keyed by the heartbeat it is about: the push-side marker keeps it to one event.
          id: `watchdog-tripwire-${touched}`,
          type: "watchdog.tripwire",
          source: "tripwire-check",
          priority: "urgent",
          payload: { lastHeartbeat: new Date(touched).toISOString(), ageMs: age, thresholdMs: threshold },
        }),
      "agent-gateway-tripwire",
    );
    io.stdout("alarm raised and watchdog.tripwire pushed");
  } catch (error) {
    io.stdout(`alarm raised; Redis unreachable, so no watchdog.tripwire event (${(error as Error).message})`);
  }
  writeFileSync(alarmed, `${touched}\n`);
}

export const command: Command = {
  summary: "watchdog layer 2: alarm when heartbeats stopped (run by a timer)",
  usage,
  async run(args, io) {
    const { values } = parse(args, { every: { type: "string" } }, false);
    const config = configFrom(io);
    if (values.every === undefined) {
      await checkOnce(config, io);
      return 0;
    }
    const interval = parseDuration(values.every);
    if (!interval) throw new UsageError(`--every expects a duration like 5m, got "${values.every}"`);
    for (;;) {
      await checkOnce(config, io).catch((error: Error) => io.stderr(`agent-gateway tripwire: check failed: ${error.message}`));
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  },
};
