// `agent-gateway worker`: the always-on HTTP worker (Inngest functions or the local heartbeat
// scheduler, POST /events, POST /hooks/github, GET /health) until SIGTERM/SIGINT.
import { EXIT } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { type RunningWorker, startWorker, WorkerStartError } from "../../worker/server.ts";
import { configFrom, parse, UsageError, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway worker [--host H] [--port P]

Runs the worker until SIGTERM or SIGINT (then it finishes in-flight requests and exits 0).
Redis comes from REDIS_URL, else config.json's redisUrl (<home>/config.json). Logs go to <home>/logs/worker.log and to standard error.

Routes:
  /api/inngest          Inngest functions (heartbeat cron, gateway/heartbeat.wake, gateway/notify)
  POST /events          push events with \`Authorization: Bearer $GATEWAY_API_TOKEN\`
  POST /hooks/github    GitHub webhooks, verified with GITHUB_WEBHOOK_SECRET
  POST /hooks/<name>    any webhook sender defined in worker.hooks.<name> (bearer, header token or HMAC)
  GET  /health          Redis, sessions, backlog, last heartbeat; 503 while Redis is down

Inngest is used only when configured (INNGEST_DEV, or INNGEST_BASE_URL + INNGEST_SIGNING_KEY,
or INNGEST_SIGNING_KEY for Inngest Cloud); otherwise a local scheduler pushes the heartbeat. User schedules (config.json's schedules and
agent-gateway schedule add) are always fired by the local scheduler.

Options:
  --host H   address to bind (default 127.0.0.1, config worker.host)
  --port P   port (default 8787, config worker.port; 0 picks a free one)`;

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, not "${value}"`);
  return port;
}

export const command: Command = {
  summary: "run the HTTP worker: Inngest functions, heartbeat scheduler, webhooks, health",
  usage,
  async run(args, io) {
    const { values } = parse(args, { host: { type: "string" }, port: { type: "string" } }, false);
    const port = portOf(values.port);
    const config = configFrom(io);
    const log = createLogger({ dir: config.paths.logs, kind: "worker", level: config.logLevel, echo: (line) => io.stderr(line) });
    let worker: RunningWorker;
    try {
      worker = await startWorker(config, { host: values.host, port, log });
    } catch (error) {
      await log.close();
      if (error instanceof WorkerStartError) {
        io.stderr(`agent-gateway worker: ${error.message}`);
        return EXIT.failure;
      }
      throw error;
    }
    io.stdout(`agent-gateway worker listening on ${worker.url} (heartbeat: ${worker.scheduler.mode})`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info(`received ${signal}`);
    await worker.close();
    await log.close();
    return EXIT.ok;
  },
};
