// `agent-gateway history <sid>`: a session's history of delivered events, as the agent's
// gateway_events tool shows it (filters, pages, one event by id, or JSON).
import { EXIT } from "../../core/config.ts";
import { sessionIdSchema } from "../../core/event.ts";
import { findInHistory, listHistory } from "../../core/history.ts";
import { renderHistoryPage } from "../../core/history-view.ts";
import { configFrom, parse, UsageError, withRedis, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway history <session> [--type T] [--source S] [--since TIME] [--until TIME]
                             [--limit N] [--cursor C] [--id ID] [--json]

Lists the events delivered to the session, oldest first, exactly as the agent's gateway_events
tool shows them (payloads quoted as data). Kept for history.maxAge (default 7d), at most
history.maxEvents (default 100 000); the oldest are dropped first and counted.

Options:
  --type T       only events of this type
  --source S     only events from this source
  --since TIME   only events at or after this time (ISO 8601, e.g. 2026-01-02T14:00:00Z)
  --until TIME   only events before this time
  --limit N      events per page (default 50)
  --cursor C     continue after a previous page (it prints the cursor)
  --id ID        only the event with this id
  --json         {"events":[...],"next","kept","dropped"}

Examples:
  agent-gateway history gateway --type build.failed
  agent-gateway history gateway --id 01J9Z...`;

function time(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} expects an ISO 8601 time like 2026-01-02T14:00:00Z, got "${text}"`);
  return ms;
}

export const command: Command = {
  summary: "show the events delivered to a session (its history)",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      type: { type: "string" },
      source: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string", default: "50" },
      cursor: { type: "string" },
      id: { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one session id, e.g. `history gateway`");
    const session = positionals[0]!;
    if (!sessionIdSchema.safeParse(session).success) throw new UsageError(`"${session}" is not a session id`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit expects a positive whole number, got "${values.limit}"`);
    const query = { type: values.type, source: values.source, since: time(values.since, "--since"), until: time(values.until, "--until"), limit, cursor: values.cursor };
    const config = configFrom(io);
    return withRedis(config, async (redis) => {
      if (values.id !== undefined) {
        const event = await findInHistory(redis, config, session, values.id);
        if (!event) {
          io.stderr(`agent-gateway history: no event ${values.id} in the history of ${session} (never delivered, or dropped by the bounds)`);
          return EXIT.failure;
        }
        io.stdout(values.json ? JSON.stringify(event, null, 2) : renderHistoryPage({ entries: [{ at: "", event }], kept: 1, dropped: 0 }, { maxChars: Infinity, session, timeZone: config.heartbeat.timezone, heading: `Event ${values.id} from the history of ${session}` }).text);
        return EXIT.ok;
      }
      const page = await listHistory(redis, config, session, query);
      if (values.json) {
        io.stdout(JSON.stringify({ events: page.entries.map((e) => e.event), next: page.next, kept: page.kept, dropped: page.dropped }, null, 2));
      } else {
        io.stdout(renderHistoryPage(page, { maxChars: Infinity, session, timeZone: config.heartbeat.timezone }).text);
      }
      return EXIT.ok;
    }, "agent-gateway-history");
  },
};
