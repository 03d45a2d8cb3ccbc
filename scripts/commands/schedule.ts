// `agent-gateway schedule list | add | rm | run | next`: the owner's run-time schedules (kept in
// Redis, signed with the gateway's local key), next to the ones in config.json, which this
// command shows but never changes.
import { EXIT, type Config } from "../../core/config.ts";
import { loadSigner } from "../../core/signing.ts";
import { localClock } from "../../core/local-time.ts";
import { pushEvent } from "../../core/push.ts";
import { scheduleEvent } from "../../core/schedule-event.ts";
import { addRuntimeSchedule, removeRuntimeSchedule, ScheduleError } from "../../core/schedule-store.ts";
import { scheduleJson, scheduleRows, viewSchedules } from "../../core/schedule-view.ts";
import { describeWhen } from "../../core/schedules.ts";
import { configFrom, parse, UsageError, withRedis, type Command, type CommandIO } from "../cli-kit.ts";
import { table } from "../table.ts";

const usage = `Usage: agent-gateway schedule <action> [options]

  list                   every schedule: config.json's and the run-time ones, with next and last
                         run and the last result
  add <id> --cron P | --every D | --at T  --prompt TEXT
                         add (or replace) a run-time schedule; --cron takes 5 fields (minute
                         first) or 6 (second first), --every a duration ("2h", counted from now),
                         --at an ISO 8601 time ("2026-12-02T09:00", in --timezone if no offset)
     [--timezone Z] [--type T] [--priority low|normal|urgent] [--notify unless-ok|always]
     [--reply-to telegram:<chat id>]   tier 4: where the reply goes (an allowed or paired chat);
                         --notify always sends even a HEARTBEAT_OK reply
  rm <id>                remove a run-time schedule
  run <id>               fire it once now (its next slots are unchanged)
  next [<id>]            next run of each schedule, or the next 5 runs of one

Schedules in config.json are changed there, not here. At most 50 run-time schedules.
Options: --json (list, next) prints JSON.

Exit codes: 0 ok, 1 refused (unknown id, a config schedule, the cap, a chat the gateway does not
talk to) or Redis failed, 2 usage error.`;

const options = {
  json: { type: "boolean", default: false },
  cron: { type: "string" },
  every: { type: "string" },
  at: { type: "string" },
  prompt: { type: "string" },
  timezone: { type: "string" },
  type: { type: "string" },
  priority: { type: "string" },
  notify: { type: "string" },
  "reply-to": { type: "string" },
} as const;

type Values = ReturnType<typeof parse<typeof options>>["values"];

function addInput(values: Values): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of ["cron", "every", "at", "prompt", "timezone", "type", "priority", "notify"] as const) {
    if (values[field] !== undefined) input[field] = values[field];
  }
  if (values["reply-to"] !== undefined) input.replyTo = values["reply-to"];
  return input;
}

function printList(io: CommandIO, config: Config, views: Awaited<ReturnType<typeof viewSchedules>>, json: boolean): void {
  if (json) {
    io.stdout(JSON.stringify({ schedules: views.schedules.map(scheduleJson), refused: views.refused }));
    return;
  }
  const clock = localClock(config.heartbeat.timezone);
  if (views.schedules.length === 0) io.stdout("no schedules (add one with `agent-gateway schedule add` or in config.json's schedules)");
  else {
    for (const line of table(...scheduleRows(views.schedules.map(scheduleJson), clock))) io.stdout(line);
  }
  for (const { id, refused } of views.refused) io.stderr(`warning: run-time schedule "${id}" is refused and never fires: ${refused}`);
}

export const command: Command = {
  summary: "list, add, remove, run or preview schedules (cron / every / at prompts)",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, options);
    const [action, id, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (!action || !["list", "add", "rm", "run", "next"].includes(action)) {
      throw new UsageError(action ? `unknown action "${action}" (list, add, rm, run, next)` : "missing action (list, add, rm, run, next)");
    }
    if ((action === "add" || action === "rm" || action === "run") && !id) throw new UsageError(`"${action}" needs a schedule id`);
    if (action === "list" && id) throw new UsageError(`"list" takes no argument`);
    if (action === "add" && values.prompt === undefined) throw new UsageError(`"add" needs --prompt TEXT`);
    const config = configFrom(io);
    const signer = loadSigner(config.home);
    return withRedis(config, async (redis) => {
      try {
        if (action === "add") {
          const added = await addRuntimeSchedule(redis, config, signer, { id: id!, input: addInput(values), createdBy: "cli" });
          const [view] = (await viewSchedules(redis, config, signer)).schedules.filter((v) => v.id === added.id);
          io.stdout(`schedule "${added.id}" added (${describeWhen(added.def)}); next run ${view?.next ? localClock(config.heartbeat.timezone).format(view.next) : "-"}`);
          return EXIT.ok;
        }
        if (action === "rm") {
          if (!(await removeRuntimeSchedule(redis, config, signer, id!, "cli"))) {
            io.stderr(`agent-gateway schedule: no run-time schedule "${id}" (see \`agent-gateway schedule list\`)`);
            return EXIT.failure;
          }
          io.stdout(`schedule "${id}" removed`);
          return EXIT.ok;
        }
        const views = await viewSchedules(redis, config, signer);
        if (action === "list") {
          printList(io, config, views, values.json);
          return EXIT.ok;
        }
        const chosen = id ? views.schedules.filter((v) => v.id === id) : views.schedules;
        if (id && chosen.length === 0) {
          io.stderr(`agent-gateway schedule: no schedule "${id}" (see \`agent-gateway schedule list\`)`);
          return EXIT.failure;
        }
        if (action === "run") {
          if (!chosen[0]!.def.enabled) {
            io.stderr(`agent-gateway schedule: "${id}" is disabled (enabled: false in ${config.paths.configFile}); a firing would not be shown as your instruction`);
            return EXIT.failure;
          }
          const now = Date.now();
          const result = await pushEvent(redis, config, scheduleEvent(id!, chosen[0]!.def, now, signer, { trigger: "manual" }));
          io.stdout(`schedule "${id}" fired now as ${result.id}`);
          return EXIT.ok;
        }
        // next: five upcoming runs of one schedule, or the next run of each.
        const clock = localClock(config.heartbeat.timezone);
        const upcoming = chosen.map((v) => {
          const runs: number[] = [];
          for (let t = v.next; t !== null && runs.length < (id ? 5 : 1); t = v.slots.next(t)) runs.push(t);
          return { id: v.id, runs };
        });
        if (values.json) io.stdout(JSON.stringify(upcoming.map((u) => ({ id: u.id, next: u.runs.map((t) => new Date(t).toISOString()) }))));
        else for (const u of upcoming) io.stdout(`${u.id}: ${u.runs.length ? u.runs.map(clock.format).join(", ") : "no next run"}`);
        return EXIT.ok;
      } catch (error) {
        if (!(error instanceof ScheduleError)) throw error;
        io.stderr(`agent-gateway schedule: ${error.message}`);
        return EXIT.failure;
      }
    });
  },
};
