// `agent-gateway push`: push one event from a shell script, a cron job or by hand.
import { readFileSync } from "node:fs";
import { chainFromEnv } from "../../core/chain.ts";
import { EXIT, type Config } from "../../core/config.ts";
import { prioritySchema } from "../../core/event.ts";
import { pushOrSpool, type ProducerOutcome } from "../../core/producer.ts";
import { isTemporary } from "../../core/redis-errors.ts";
import { cliLogger, configFrom, parse, UsageError, type Command, type CommandIO } from "../cli-kit.ts";
import { flushNotes } from "./flush.ts";

const usage = `Usage: agent-gateway push <type> [options]

Pushes one event to the central session (and to --origin while it runs). Prints the event id.
When Redis is unreachable, failing over or full the event is spooled to <home>/spool.jsonl (a warning on stderr,
exit 0) and delivered, with the same id, on the next successful push or \`agent-gateway flush\`.

Options:
  --source S        who is pushing (default: cli)
  --payload P       a JSON object, @file to read one, or - for standard input (default: {})
  --origin SID      the session that started this job (default: $GATEWAY_SESSION)
  --priority P      low | normal | urgent (urgent steers a busy session)
  --id ID           your own id; the same id pushed again is delivered once
  --no-spool        when Redis is unreachable or full, write nothing and exit 75 (EX_TEMPFAIL)

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

/** Records spools and flushes in <home>/logs/cli.log, where an operator looks for them later. */
export async function logOutcome(config: Config, outcome: ProducerOutcome): Promise<void> {
  const flushed = outcome.flushed;
  if (!outcome.spooled && !flushed?.delivered && !flushed?.rejected.length && !outcome.flushError) return;
  const log = cliLogger(config);
  if (outcome.spooled) log.warn("Redis unreachable: event spooled", { id: outcome.ids[0], reason: outcome.spoolReason, spool: config.paths.spool });
  if (flushed?.delivered) log.info("spool flushed", { delivered: flushed.delivered, duplicates: flushed.duplicates });
  for (const { reason } of flushed?.rejected ?? []) log.warn("corrupt spool line moved aside", { reason, file: flushed!.rejectedFile });
  if (outcome.flushError) log.error("spool not flushed", { error: outcome.flushError });
  await log.close();
}

/** What a producer command tells its user after pushing one event: spooled, duplicate, flushed. */
export function outcomeNotes(config: Config, outcome: ProducerOutcome): string[] {
  const id = outcome.ids[0];
  const notes: string[] = [];
  if (outcome.spooled) {
    notes.push(`warning: ${outcome.spoolReason}; event ${id} spooled to ${config.paths.spool}`);
    notes.push("It is delivered on the next successful push, or run `agent-gateway flush` once Redis is back.");
  }
  if (outcome.results?.[0]?.duplicate) notes.push(`note: an event with id ${id} was already pushed; not delivered again`);
  if (outcome.flushed?.delivered) notes.push(`note: delivered ${outcome.flushed.delivered} spooled event(s) first`);
  if (outcome.flushed) notes.push(...flushNotes(outcome.flushed));
  if (outcome.flushError) notes.push(`warning: the spool was not flushed: ${outcome.flushError.message}`);
  return notes;
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
      "no-spool": { type: "boolean", default: false },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one event type, e.g. `push build.done`");
    const priority = values.priority === undefined ? undefined : prioritySchema.safeParse(values.priority);
    if (priority && !priority.success) throw new UsageError(`--priority must be low, normal or urgent, not "${values.priority}"`);
    const config = configFrom(io);
    const input = {
      type: positionals[0]!,
      source: values.source,
      // Checked by the event schema: a non-object payload is a usage error naming the field.
      payload: (await readPayload(values.payload, io)) as Record<string, unknown>,
      originSession: values.origin ?? config.session,
      priority: priority?.data,
      id: values.id,
      // Inside a run the gateway started (pi's bash tool inherits it): the runaway breaker's depth.
      chain: chainFromEnv(io.env),
    };
    let outcome: ProducerOutcome;
    try {
      outcome = await pushOrSpool(config, input, { spool: !values["no-spool"], name: "agent-gateway-push" });
    } catch (error) {
      // Unreachable, failing over or full: try later. TLS and auth problems are config errors (78).
      if (!isTemporary(error)) throw error;
      io.stderr(`agent-gateway push: ${(error as Error).message}; nothing written (--no-spool)`);
      return EXIT.unavailable;
    }
    const [id] = outcome.ids;
    io.stdout(id!);
    for (const note of outcomeNotes(config, outcome)) io.stderr(note);
    await logOutcome(config, outcome);
    return EXIT.ok;
  },
};
