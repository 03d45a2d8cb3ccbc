// The tier-4 daemon: pi embedded through its SDK as the central session `gateway`, one command
// queue for every input (Redis events, heartbeats, Telegram, WebSocket), one lane that runs
// them in turn, and the router that sends each settled reply back to whoever asked.
// `startDaemon` wires the parts; `stop` finishes the current turn within a bound and exits clean.
import { existsSync, writeFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { watchdogThreshold, type Config } from "../core/config.ts";
import { writeDaemonState, type DaemonState } from "../core/daemon-state.ts";
import { formatDuration } from "../core/duration.ts";
import { CENTRAL_SESSION, keysFor } from "../core/keys.ts";
import { LeaseConflictError, startLeaseKeeper, type LeaseKeeper } from "../core/lease-keeper.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { warnOnEvictingPolicy } from "../core/memory.ts";
import { connectRedis, ensureConnected } from "../core/redis.ts";
import { PRIVATE_FILE } from "../core/private-files.ts";
import { checkScheduleTargets } from "../core/reply-target.ts";
import { recordSpend, usageOfRun } from "../core/spend.ts";
import { releaseHeld } from "../core/chain.ts";
import type { Claim } from "../core/sessions.ts";
import { loadSigner } from "../core/signing.ts";
import { Watchdog } from "../core/watchdog.ts";
import { Heartbeats } from "../core/heartbeat-intake.ts";
import type { Channel, ChannelCommand, ChannelSink, ReplyTo } from "./channel.ts";
import { telegramChannelFromConfig } from "./channels/telegram/channel.ts";
import { sealUnsignedPairings } from "./channels/telegram/pairing-store.ts";
import { WebSocketChannel } from "./channels/websocket.ts";
import { Lane } from "./lane.ts";
import { acquireLock, type InstanceLock } from "./lock.ts";
import { CommandQueue } from "./queue.ts";
import { RedisSource } from "./redis-source.ts";
import { REDIS_REPLY_TO, Router } from "./router.ts";
import { PiSession } from "./session.ts";

/** How often the daemon's state is republished; it expires after three missed rounds. */
const STATE_EVERY_MS = 10_000;

export interface DaemonOptions {
  config: Config;
  /** Channels besides WebSocket (e.g. Telegram). */
  channels?: Channel[];
  /** pi's agent dir; default pi's own (PI_CODING_AGENT_DIR or ~/.pi/agent). */
  agentDir?: string;
  log?: Logger;
}

export interface Daemon {
  /** The WebSocket channel's port, when it runs. */
  readonly wsPort?: number;
  stop(reason: string): Promise<void>;
}

/** The central session is held by another process (a tmux central pi, another host's daemon). */
export class CentralSessionHeldError extends Error {
  override name = "CentralSessionHeldError";
  constructor(
    message: string,
    readonly holderClaim: Claim,
  ) {
    super(message);
  }
}

/** How long the daemon waits for a default-role central pi to hand over. */
const HANDOVER_WAIT_MS = 15_000;

/** Takes the central lease (an explicit claim: a dead holder on this machine, or a default-role pi, gives it up). */
async function takeCentralLease(redis: Redis, config: Config, log: Logger): Promise<LeaseKeeper> {
  const handoverBound = Date.now() + HANDOVER_WAIT_MS;
  for (;;) {
    try {
      return await takeOnce(redis, config, log);
    } catch (error) {
      // A default-role holder was asked to hand over (by the claim itself): give it time to.
      if (!(error instanceof CentralSessionHeldError) || error.holderClaim !== "default" || Date.now() > handoverBound) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function takeOnce(redis: Redis, config: Config, log: Logger): Promise<LeaseKeeper> {
  try {
    return await startLeaseKeeper({
      redis,
      prefix: config.prefix,
      session: CENTRAL_SESSION,
      role: "central",
      claim: "explicit",
      ttl: config.leaseTtl,
      log,
      onConflict: (holder) => log.error("another process took the central session", { holder }),
    });
  } catch (error) {
    if (!(error instanceof LeaseConflictError)) throw error;
    throw new CentralSessionHeldError(
      `${error.message}. In tier 4 the daemon is the central session: stop the other central session (e.g. the tmux one) first.`,
      error.holder.claim,
    );
  }
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config } = options;
  const stateDir = join(config.home, "daemon");
  const lock: InstanceLock = acquireLock(join(stateDir, "daemon.lock"));
  const log = options.log ?? createLogger({ dir: config.paths.logs, kind: "daemon", level: config.logLevel, echo: (line) => process.stderr.write(line + "\n") });
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log.warn("cleanup step failed", { error });
      }
    }
  };
  try {
    const redis = connectRedis(config, { kind: "consumer", name: "agent-gateway-daemon" });
    const subscriber = connectRedis(config, { kind: "subscriber", name: "agent-gateway-daemon-sub" });
    cleanups.push(() => redis.disconnect(), () => subscriber.disconnect());
    await Promise.all([ensureConnected(redis), ensureConnected(subscriber)]);
    await warnOnEvictingPolicy(redis, log);
    // A config schedule whose reply would go to a chat the gateway does not talk to: exit 78.
    await checkScheduleTargets(redis, config, loadSigner(config.home));
    const lease = await takeCentralLease(redis, config, log);
    cleanups.push(() => lease.stop());

    const pi = await PiSession.open({ cwd: config.daemon.cwd ?? homedir(), stateDir, agentDir: options.agentDir, log });
    cleanups.push(() => pi.dispose());
    const keys = keysFor(config.prefix);
    const signer = loadSigner(config.home);
    const queue = new CommandQueue(redis, { queue: keys.daemonQueue, dead: keys.dead(CENTRAL_SESSION) }, config.daemon.queueLimit, signer, log);
    // Signatures came with an upgrade: what an older version stored unsigned is signed once, at
    // the first start after it (a marker in the home, out of reach of Redis, says it was done).
    const signedMarker = join(stateDir, "signatures-on");
    const firstSignedStart = !existsSync(signedMarker);
    await queue.restore({ signUnsigned: firstSignedStart });
    if (firstSignedStart) {
      const pairings = await sealUnsignedPairings(redis, config.prefix, signer);
      if (pairings > 0) log.info("signed the Telegram pairings an older version stored unsigned", { count: pairings });
      writeFileSync(signedMarker, `${new Date().toISOString()}\n`, { mode: PRIVATE_FILE });
    }
    const router = new Router(log, config.daemon.replyTo);
    const lane = new Lane({
      queue,
      pi,
      router,
      turnTimeout: config.daemon.turnTimeout,
      log,
      onHumanRun: () =>
        void releaseHeld(redis, config.prefix, CENTRAL_SESSION).catch((error) => log.warn("held events not released; they stay held", { error })),
      onRunSettled: (kind, messages) =>
        void recordSpend(redis, config.prefix, kind, usageOfRun(messages), Date.now(), config.heartbeat.timezone).catch((error) =>
          log.warn("run usage not recorded", { error, kind }),
        ),
    });

    const watchdog = config.heartbeat.enabled
      ? new Watchdog({
          threshold: watchdogThreshold(config),
          checkEvery: config.watchdog.checkEvery,
          onAlarm: (silentFor) =>
            void router.deliver(REDIS_REPLY_TO, `agent-gateway watchdog: no heartbeat received for ${formatDuration(silentFor)}. Is the worker (cron) running?`),
        })
      : undefined;
    watchdog?.start();
    cleanups.push(() => watchdog?.stop());
    const heartbeats = new Heartbeats(config, log, () => watchdog?.beat());

    const command = async (name: ChannelCommand, replyTo: ReplyTo): Promise<string> => {
      log.info("command", { name, replyTo });
      if (name === "abort") {
        return (await lane.abortCurrent(`aborted on request (${replyTo})`)) ? "Aborted the running turn." : "Nothing is running.";
      }
      if (name === "new") {
        await lane.abortCurrent(`a new session was started (${replyTo})`);
        const file = await lane.exclusive(() => pi.newSession());
        return `Started a new session${file ? ` (${file})` : ""}.`;
      }
      const view = lane.view();
      const humans = view.waiting.filter((w) => w.kind === "human").length;
      const running = view.running ? `${view.running.kind} from ${view.running.source}, for ${formatDuration(Date.now() - view.running.startedAt)}` : "idle";
      return [
        `Session: ${pi.sessionFile ?? "(not saved yet)"} (${pi.session.messages.length} messages)`,
        `Running: ${running}`,
        `Waiting: ${view.waiting.length} (${humans} human, ${view.waiting.length - humans} automated)`,
      ].join("\n");
    };
    const sink: ChannelSink = {
      submit: async (message) => {
        heartbeats.policy.humanInput();
        const result = await queue.submitHuman(message);
        log.info(result.accepted ? "human message queued" : "human message refused", { source: message.source, replyTo: message.replyTo, messageId: message.messageId, ...result });
        return result;
      },
      command,
      queue: () => lane.view(),
    };

    const channels = [...(options.channels ?? [])];
    const telegram = telegramChannelFromConfig(config, redis, log);
    if (telegram) channels.push(telegram);
    let ws: WebSocketChannel | undefined;
    if (config.daemon.wsToken) {
      const { host, port, wsToken: token, tickInterval, allowedOrigins, requestsPerSecond } = config.daemon;
      ws = new WebSocketChannel({ host, port, token, tickInterval, allowedOrigins, requestsPerSecond, log });
      channels.unshift(ws);
    } else {
      log.info("WebSocket channel off: set daemon.wsToken in config.json to turn it on");
    }
    for (const channel of channels) {
      await channel.start(sink);
      cleanups.push(() => channel.stop());
      router.add(channel);
    }

    const started = Date.now();
    let publishing: Promise<void> | undefined;
    const publish = () => {
      const view = lane.view();
      router.queueChanged(view);
      const state: DaemonState = { pid: process.pid, host: hostname(), started, updated: Date.now(), sessionFile: pi.sessionFile, channels: router.channelNames, ...view };
      publishing = writeDaemonState(redis, config.prefix, state, 3 * STATE_EVERY_MS).catch((error) => log.debug("publishing state failed", { error }));
    };
    queue.on("change", publish);
    lane.on("change", publish);
    const stateTimer = setInterval(publish, STATE_EVERY_MS);
    stateTimer.unref();
    cleanups.push(async () => {
      clearInterval(stateTimer);
      await publishing;
      await redis.del(keys.daemonState).catch(() => {});
    });

    const source = new RedisSource({ config, redis, subscriber, queue, heartbeats, owner: () => lease.lease.owner, log });
    lane.start();
    await source.start();
    publish();
    log.info("daemon started", { pid: process.pid, channels: router.channelNames, session: pi.sessionFile, waiting: queue.size });

    let stopping: Promise<void> | undefined;
    return {
      wsPort: ws?.port,
      stop: (reason) =>
        (stopping ??= (async () => {
          log.info("daemon stopping", { reason });
          await source.stop();
          await lane.stop(config.daemon.shutdownTimeout);
          await cleanup();
          log.info("daemon stopped", { reason });
          if (!options.log) await log.close();
        })()),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
