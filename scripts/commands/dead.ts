// `agent-gateway dead <sid>`: list a session's dead letters, requeue them to its inbox, or purge them.
import { EXIT } from "../../core/config.ts";
import { listDead, purgeDead, requeueable, requeueDead, type DeadLetter } from "../../core/dead.ts";
import { formatDuration } from "../../core/duration.ts";
import { sessionIdSchema } from "../../core/event.ts";
import { oneLine } from "../../core/quote.ts";
import { configFrom, parse, UsageError, withRedis, type Command } from "../cli-kit.ts";
import { table } from "../table.ts";

const usage = `Usage: agent-gateway dead <session> [--requeue | --purge] [--id ID] [--json]

Lists the session's dead letters, oldest first: entries that failed validation, overflowed
the inbox cap, or were suppressed as redeliveries, each with its reason.

Options:
  --requeue   move them back to the session's inbox (atomically; it is woken). Entries that
              would fail validation again are left in place and reported.
  --purge     delete them
  --id ID     only the dead letters of the event with this id
  --json      list as JSON: [{"reason","at","raw","id","type"}]

Examples:
  agent-gateway dead gateway
  agent-gateway dead gateway --requeue --id 01J9Z...`;

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

function render(letters: DeadLetter[], session: string, now: number): string[] {
  if (letters.length === 0) return [`no dead letters for ${session}`];
  const rows = letters.map((l) => [
    l.at === undefined ? "-" : `${formatDuration(Math.max(0, now - l.at))} ago`,
    // Control characters made visible: a dead letter is whatever someone wrote into Redis.
    l.id === undefined ? "-" : oneLine(l.id, 60),
    l.type === undefined ? "-" : oneLine(l.type, 60),
    shorten(oneLine(l.reason, 500), 70),
  ]);
  return [`${letters.length} dead letter(s) for ${session}, oldest first:`, ...table(["WHEN", "ID", "TYPE", "REASON"], rows)];
}

export const command: Command = {
  summary: "list, requeue or purge a session's dead letters",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      requeue: { type: "boolean", default: false },
      purge: { type: "boolean", default: false },
      id: { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one session id, e.g. `dead gateway`");
    const session = positionals[0]!;
    if (!sessionIdSchema.safeParse(session).success) throw new UsageError(`"${session}" is not a session id`);
    if (values.requeue && values.purge) throw new UsageError("--requeue and --purge exclude each other");
    const config = configFrom(io);
    return withRedis(config, async (redis) => {
      const all = await listDead(redis, config.prefix, session);
      const chosen = values.id === undefined ? all : all.filter((l) => l.id === values.id);
      if (values.id !== undefined && chosen.length === 0) {
        io.stderr(`agent-gateway dead: no dead letter with id ${values.id} for ${session}`);
        return EXIT.failure;
      }
      if (values.purge) {
        const removed = await purgeDead(redis, config.prefix, session, values.id === undefined ? "all" : chosen);
        io.stdout(`purged ${removed} dead letter(s) of ${session}`);
        return EXIT.ok;
      }
      if (values.requeue) {
        const { ok, invalid } = requeueable(chosen, config.maxEventBytes);
        const moved = await requeueDead(redis, config.prefix, session, ok);
        io.stdout(`requeued ${moved} dead letter(s) to the inbox of ${session}`);
        for (const { letter, reason } of invalid) {
          io.stderr(`left ${oneLine(letter.id ?? shorten(letter.raw, 40), 60)}: it would fail again (${oneLine(reason, 300)}); use --purge to delete it`);
        }
        return EXIT.ok;
      }
      if (values.json) {
        io.stdout(JSON.stringify(chosen.map(({ stored: _stored, ...letter }) => letter), null, 2));
      } else {
        for (const line of render(chosen, session, Date.now())) io.stdout(line);
      }
      return EXIT.ok;
    }, "agent-gateway-dead");
  },
};
