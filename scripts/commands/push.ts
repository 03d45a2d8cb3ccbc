// `agent-gateway push`: push one event from a shell script, a cron job or by hand.
import { readFileSync } from "node:fs";
import { EXIT } from "../../core/config.ts";
import { prioritySchema } from "../../core/event.ts";
import { pushEvent } from "../../core/push.ts";
import { configFrom, parse, UsageError, withRedis, type Command, type CommandIO } from "../cli-kit.ts";

const usage = `Usage: agent-gateway push <type> [options]

Pushes one event to the central session (and to --origin while it runs). Prints the event id.

Options:
  --source S        who is pushing (default: cli)
  --payload P       a JSON object, @file to read one, or - for standard input (default: {})
  --origin SID      the session that started this job (default: $GATEWAY_SESSION)
  --priority P      low | normal | urgent (urgent steers a busy session)
  --id ID           your own id; the same id pushed again is delivered once

Example:
  agent-gateway push build.done --source make --payload '{"target":"release","ok":true}'`;

async function readPayload(value: string | undefined, io: CommandIO): Promise<unknown> {
  if (value === undefined) return {};
  let text = value;
  if (value === "-") text = await io.readStdin();
  else if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (error) {
      throw new UsageError(`cannot read payload file ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
}

export const command: Command = {
  summary: "push an event to the gateway (prints its id)",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      source: { type: "string", default: "cli" },
      payload: { type: "string" },
      origin: { type: "string" },
      priority: { type: "string" },
      id: { type: "string" },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one event type, e.g. `push build.done`");
    const priority = values.priority === undefined ? undefined : prioritySchema.safeParse(values.priority);
    if (priority && !priority.success) throw new UsageError(`--priority must be low, normal or urgent, not "${values.priority}"`);
    const config = configFrom(io);
    const input = {
      type: positionals[0],
      source: values.source,
      payload: await readPayload(values.payload, io),
      originSession: values.origin ?? config.session,
      priority: priority?.data,
      id: values.id,
    };
    const result = await withRedis(config, (redis) => pushEvent(redis, config, input));
    io.stdout(result.id);
    if (result.duplicate) io.stderr(`note: an event with id ${result.id} was already pushed; not delivered again`);
    return EXIT.ok;
  },
};
