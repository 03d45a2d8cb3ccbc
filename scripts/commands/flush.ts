// `agent-gateway flush`: deliver the events that producers spooled while Redis was unreachable.
import { EXIT } from "../../core/config.ts";
import { withProducer } from "../../core/redis.ts";
import { isTemporary } from "../../core/redis-errors.ts";
import { countSpooled, flushSpool, type FlushReport } from "../../core/spool.ts";
import { cliLogger, configFrom, parse, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway flush [--json]

Delivers the events spooled in <home>/spool.jsonl while Redis was unreachable, with their
original ids: each is delivered exactly once, even when a flush is interrupted and run again.
A line that is not a valid event is reported and moved to <home>/spool.rejected.jsonl.

Options:
  --json   print {"delivered","duplicates","rejected","remaining"} as JSON

Exit codes: 0 flushed (or nothing to flush), 75 Redis unreachable (the spool is kept).`;

/** Human notes about a flush, shared with `push` (which flushes first). */
export function flushNotes(report: FlushReport): string[] {
  const notes = report.rejected.map(
    ({ reason }) => `warning: a corrupt spool line was moved to ${report.rejectedFile}: ${reason}`,
  );
  if (report.unreplicated) notes.push(`warning: ${report.unreplicated} flushed event(s) were not confirmed by redis.waitReplicas replicas; they stay in the spool for the next flush`);
  if (report.duplicates) notes.push(`note: ${report.duplicates} spooled event(s) had already been delivered; not delivered again`);
  return notes;
}

export const command: Command = {
  summary: "deliver events spooled while Redis was unreachable",
  usage,
  async run(args, io) {
    const { values } = parse(args, { json: { type: "boolean", default: false } }, false);
    const config = configFrom(io);
    let report: FlushReport;
    try {
      report = await withProducer(config, "agent-gateway-flush", (redis) => flushSpool(redis, config, config.paths.spool));
    } catch (error) {
      if (!isTemporary(error)) throw error;
      io.stderr(`agent-gateway flush: ${(error as Error).message}; ${countSpooled(config.paths.spool)} spooled line(s) stay in ${config.paths.spool}`);
      return EXIT.unavailable;
    }
    const remaining = countSpooled(config.paths.spool);
    if (values.json) {
      io.stdout(JSON.stringify({ delivered: report.delivered, duplicates: report.duplicates, rejected: report.rejected.length, remaining }));
    } else {
      io.stdout(report.delivered ? `delivered ${report.delivered} spooled event(s)` : "nothing to flush");
    }
    for (const note of flushNotes(report)) io.stderr(note);
    if (report.delivered || report.duplicates || report.rejected.length) {
      const log = cliLogger(config);
      log.info("spool flushed", { delivered: report.delivered, duplicates: report.duplicates, remaining });
      for (const { reason } of report.rejected) log.warn("corrupt spool line moved aside", { reason, file: report.rejectedFile });
      await log.close();
    }
    return EXIT.ok;
  },
};
