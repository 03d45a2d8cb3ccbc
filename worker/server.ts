// Starts the worker: Redis (reconnecting for ever), the Hono app on @hono/node-server, and
// whichever runs the heartbeat (Inngest functions when configured, else the local scheduler),
// and the local scheduler for user schedules (always). close() stops accepting and the
// scheduler, lets in-flight requests and a firing under way finish, then closes Redis.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createAdaptorServer } from "@hono/node-server";
import type { Config } from "../core/config.ts";
import { loadSigner } from "../core/signing.ts";
import type { Logger } from "../core/log.ts";
import { connectRedis } from "../core/redis.ts";
import { createApp, INNGEST_PATH } from "./app.ts";
import type { SchedulerInfo, WorkerContext } from "./context.ts";
import { inngestSetup } from "./inngest/setup.ts";
import { syncWithInngest } from "./inngest/sync.ts";
import { watchSchedules } from "./schedule-jobs.ts";
import { startLocalScheduler } from "./scheduler.ts";
import { heartbeatSchedule } from "./schedule.ts";

export interface WorkerOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** Sync with the Inngest server on boot (default true when Inngest is configured). */
  syncInngest?: boolean;
}

export interface RunningWorker {
  url: string;
  port: number;
  scheduler: SchedulerInfo;
  close(): Promise<void>;
}

/** Port in use, permission denied ...: one sentence, exit 1. */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
// A client that sends half its headers, or a body at a trickle, is cut off instead of being
// held for ever; past the cap new connections are refused.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 256;
const DRAIN_MS = 10_000;
const REDIS_GRACE_MS = 3_000;

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (error.code === "EADDRINUSE") reject(new WorkerStartError(`${where} is already in use (another worker running?); pick another with --port`));
      else if (error.code === "EACCES") reject(new WorkerStartError(`not allowed to listen on ${where}; use a port above 1023`));
      else reject(new WorkerStartError(`cannot listen on ${where}: ${error.message}`));
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Logs Redis coming and going; the returned function silences it for a deliberate close. */
function watchRedis(ctx: WorkerContext): () => void {
  let up = false;
  let closing = false;
  ctx.redis.on("ready", () => {
    up = true;
    ctx.log.info("Redis connected");
  });
  ctx.redis.on("close", () => {
    if (up && !closing) ctx.log.warn("Redis connection lost; reconnecting (POST /events answers 503 meanwhile)");
    up = false;
  });
  return () => {
    closing = true;
  };
}

export async function startWorker(config: Config, options: WorkerOptions): Promise<RunningWorker> {
  const { log } = options;
  const host = options.host ?? config.worker.host;
  // Config problems first (ConfigError, exit 78), before anything is opened.
  const schedule = config.heartbeat.enabled ? heartbeatSchedule(config) : undefined;
  const setup = inngestSetup(config);

  const redis = connectRedis(config, { kind: "consumer", name: "agent-gateway-worker" });
  const target = { redis, settings: config };
  const ctx: WorkerContext = { config, redis, log, startedAt: Date.now(), scheduler: { mode: "off" } };
  const quietRedis = watchRedis(ctx);
  // Give Redis a moment so the first requests find it; if it is down, start anyway and reconnect.
  const connected = redis.connect().then(
    () => true,
    (error: Error) => log.warn(`Redis unreachable at start (${error.message}); retrying in the background`),
  );
  await Promise.race([connected, sleep(REDIS_GRACE_MS, undefined, { ref: false })]);

  let handler: Parameters<typeof createApp>[1];
  if (setup) {
    const { inngestHandler } = await import("./inngest/client.ts");
    handler = inngestHandler(config, setup, target, schedule, log);
    ctx.scheduler = { mode: "inngest", inngest: setup.kind, ...schedule };
    if (setup.kind === "dev" && !LOOPBACK.has(host)) {
      log.warn(`Inngest dev mode accepts unsigned calls, and this worker listens on ${host}: anyone who can reach it can run its functions. Bind to 127.0.0.1 or use a signing key.`);
    }
  }

  const app = createApp(ctx, handler);
  const server = createAdaptorServer({
    fetch: app.fetch,
    // Timeouts are enforced on each check of open connections: every second, not every 30.
    serverOptions: { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
  }) as Server;
  server.maxConnections = MAX_CONNECTIONS;
  let port: number;
  try {
    port = await listen(server, host, options.port ?? config.worker.port);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  // Only once the port is ours: a second worker on a taken port says so and fires nothing.
  // The heartbeat fires here only without Inngest; user schedules always (they may live in Redis).
  const local = startLocalScheduler(setup ? undefined : schedule, target, log);
  const schedules = watchSchedules(local, config, redis, loadSigner(config.home), log);
  if (!setup && schedule) ctx.scheduler = { mode: "local", ...schedule, nextRun: local.nextRun };
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  log.info("worker listening", { url, scheduler: ctx.scheduler.mode, inngest: setup?.kind });

  const stopSync = new AbortController();
  if (setup && options.syncInngest !== false) {
    const self = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : urlHost}:${port}${INNGEST_PATH}`;
    void syncWithInngest(self, log, stopSync.signal);
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info("worker stopping: finishing in-flight requests");
      stopSync.abort();
      const firingSettled = Promise.all([schedules.stop(), local.stop()]);
      const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearTimeout(force);
      await firingSettled;
      quietRedis();
      await redis.quit().catch(() => redis.disconnect());
      log.info("worker stopped");
    })());
  return { url, port, scheduler: ctx.scheduler, close };
}
