// One running gateway inside one pi session instance: identity and lease, the Redis link, the
// delivery loop, heartbeats and (central only) the watchdog, and the status line. Created on
// session_start, stopped on session_shutdown (pi builds a new instance on /new and /reload;
// the inbox and the in-flight batch stay in Redis for it).
import type { ExtensionAPI, ExtensionContext } from "@mariozechner/pi-coding-agent";
import { watchdogThreshold, type Config } from "../core/config.ts";
import { maskUrl } from "../core/redis.ts";
import { newestDead, type DeadLetter } from "../core/dead.ts";
import type { Batch } from "../core/drain.ts";
import { formatBatch } from "../core/format.ts";
import { inboxesOf, keysFor } from "../core/keys.ts";
import { LeaseConflictError, startLeaseKeeper, type LeaseKeeper } from "../core/lease-keeper.ts";
import type { Logger } from "../core/log.ts";
import { Watchdog } from "../core/watchdog.ts";
import { formatDuration } from "../core/duration.ts";
import { openConnection, type Connection } from "./connection.ts";
import type { LinkState } from "./status.ts";
import { Delivery, type Prepared } from "./delivery.ts";
import { Heartbeats } from "../core/heartbeat-intake.ts";
import { exportIdentity, requestedIdentity, satelliteId, type Identity } from "./identity.ts";
import { STATUS_KEY, statusText } from "./status.ts";

export interface BridgeReport {
  identity: Identity;
  demoted: boolean;
  link: string;
  redisUrl: string;
  backlog: number;
  inflight: number;
  dead: number;
  delivered: number;
  paused: boolean;
  lastHeartbeat?: number;
  watchdog?: { alarm: boolean; silentFor: number; threshold: number };
  lastError?: string;
}

export class Bridge {
  private identity: Identity;
  private demoted = false;
  private readonly link: Connection;
  private readonly delivery: Delivery;
  private readonly heartbeats: Heartbeats;
  private watchdog: Watchdog | undefined;
  private alarm = false;
  private keeper: LeaseKeeper | undefined;
  private claiming: Promise<void> | undefined;
  private backlog = 0;
  private readonly sweep: NodeJS.Timeout;
  private stopped = false;

  constructor(
    pi: ExtensionAPI,
    private ctx: ExtensionContext,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.identity = requestedIdentity(config);
    exportIdentity(this.identity);
    this.heartbeats = new Heartbeats(config, log, () => this.beat());
    this.link = openConnection(config, `agent-gateway:${this.identity.session}`, log, {
      onReady: () => this.connected(),
      onNotify: () => this.delivery.wake("notify"),
      onState: () => this.render(),
      onUnreachable: (error) =>
        this.ctx.ui.notify(`agent-gateway: Redis unreachable (${error.message}); pi works on, events wait until Redis is back`, "warning"),
    });
    this.delivery = new Delivery({
      redis: this.link.commands,
      settings: config,
      session: () => this.identity.session,
      injector: {
        isIdle: () => this.ctx.isIdle(),
        send: (prompt, deliverAs) => pi.sendUserMessage(prompt, deliverAs ? { deliverAs } : undefined),
      },
      prepare: (batch) => this.prepare(batch),
      log,
      onChange: () => void this.refreshBacklog(),
      pauseBeforeAckFile: process.env.GATEWAY_TEST_SEAM_PAUSE_BEFORE_ACK || undefined,
    });
    if (this.identity.role === "central") this.startWatchdog();
    this.sweep = setInterval(() => this.delivery.wake("sweep"), config.sweepInterval);
    this.sweep.unref();
    this.render();
    log.info("extension started", { ...this.identity, redisUrl: maskUrl(config.redisUrl) });
  }

  /** session_start again on the same instance (pi fires it twice after some RPC commands). */
  restarted(ctx: ExtensionContext): void {
    this.ctx = ctx;
    this.render();
    this.delivery.wake("session_start");
  }

  // Forwarded pi events.
  runStarted = () => this.delivery.running();
  runMayEnd = () => this.delivery.mayEnd();
  userMessage = (text: string) => this.delivery.userMessage(text);
  humanInput = () => this.heartbeats.policy.humanInput();
  runSettled = (finalText: string) => {
    this.heartbeats.runSettled(finalText);
    this.delivery.mayEnd();
    this.delivery.wake("agent_end");
  };

  drainNow = () => this.delivery.wake("command");
  pause = () => this.delivery.pause();
  resume = () => this.delivery.resume();

  async report(): Promise<BridgeReport> {
    const state = this.delivery.state();
    const base: BridgeReport = {
      identity: this.identity,
      demoted: this.demoted,
      link: this.linkState(),
      redisUrl: maskUrl(this.config.redisUrl),
      backlog: this.backlog,
      inflight: 0,
      dead: 0,
      delivered: state.delivered,
      paused: state.paused,
      lastHeartbeat: this.heartbeats.lastReceived,
      lastError: state.lastError,
    };
    if (this.watchdog) {
      base.watchdog = { alarm: this.alarm, silentFor: this.watchdog.state().silentFor, threshold: watchdogThreshold(this.config) };
    }
    if (this.link.state() !== "connected") return base;
    const keys = keysFor(this.config.prefix);
    const sid = this.identity.session;
    // Read fresh: the status line's backlog is only refreshed when delivery moves (not while paused).
    const [backlog, inflight, dead, last] = await Promise.all([
      this.inboxLength(),
      this.link.commands.llen(keys.inflight(sid)),
      this.link.commands.llen(keys.dead(sid)),
      this.link.commands.get(keys.lastHeartbeat),
    ]);
    return { ...base, backlog, inflight, dead, lastHeartbeat: last ? Number(last) : base.lastHeartbeat };
  }

  /** The newest dead letters of this session, newest first. */
  deadLetters(count: number): Promise<DeadLetter[]> {
    return newestDead(this.link.commands, this.config.prefix, this.identity.session, count);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweep);
    this.delivery.stop();
    this.watchdog?.stop();
    await this.keeper?.stop();
    this.link.close();
    this.log.info("extension stopped", { session: this.identity.session });
  }

  /** Every ready: the first time, claim the session; then drain what waited. */
  private connected(): void {
    if (this.stopped || this.link.state() !== "connected") return;
    if (this.keeper) return this.delivery.wake("ready");
    this.claiming ??= this.claim()
      .then(() => this.delivery.wake("session_start"))
      .catch((error) => this.log.warn("cannot register yet; retrying on the next reconnect", { error }))
      .finally(() => (this.claiming = undefined));
  }

  /** Takes the lease; a second would-be central runs as a satellite and says so. */
  private async claim(): Promise<void> {
    const lease = (identity: Identity) =>
      startLeaseKeeper({
        redis: this.link.commands,
        prefix: this.config.prefix,
        ...identity,
        ttl: this.config.leaseTtl,
        log: this.log,
        onConflict: (holder) =>
          this.ctx.ui.notify(`agent-gateway: session ${holder.session} was taken over by pid ${holder.pid} on ${holder.host}`, "warning"),
      });
    try {
      this.keeper = await lease(this.identity);
    } catch (error) {
      if (!(error instanceof LeaseConflictError) || this.identity.role !== "central") throw error;
      const fallback: Identity = { role: "satellite", session: satelliteId() };
      this.log.warn("central session already held; running as a satellite", { holder: error.holder, session: fallback.session });
      this.keeper = await lease(fallback);
      this.identity = fallback;
      this.demoted = true;
      exportIdentity(fallback);
      this.watchdog?.stop();
      this.watchdog = undefined;
      this.ctx.ui.notify(
        `agent-gateway: the central session is held by pid ${error.holder.pid} on ${error.holder.host}; this pi runs as satellite ${fallback.session}`,
        "warning",
      );
    }
    const keys = keysFor(this.config.prefix);
    await this.link.listen(inboxesOf(this.identity.session).map(keys.notify));
    this.render();
  }

  private async prepare(batch: Batch): Promise<Prepared> {
    const intake = await this.heartbeats.intake(this.link.commands, batch.entries.map((e) => e.event));
    if (intake.events.length === 0) return { urgent: false };
    const { prompt } = formatBatch(intake.events, {
      redelivered: batch.redelivered,
      maxEventAge: this.config.maxEventAge,
      timeZone: this.config.heartbeat.timezone,
      heartbeat: intake.checklist === undefined ? undefined : { checklist: intake.checklist },
    });
    return {
      prompt: prompt || undefined,
      urgent: intake.events.some((e) => e.priority === "urgent"),
      onTaken: intake.checklist === undefined ? undefined : () => this.heartbeats.promptTaken(),
    };
  }

  private startWatchdog(): void {
    const threshold = watchdogThreshold(this.config);
    this.watchdog = new Watchdog({
      threshold,
      checkEvery: this.config.watchdog.checkEvery,
      onAlarm: (silentFor) => {
        this.alarm = true;
        this.log.error("watchdog alarm: no heartbeat", { silentFor, threshold });
        this.render();
        this.ctx.ui.notify(
          `agent-gateway watchdog: no heartbeat for ${formatDuration(silentFor)} (threshold ${formatDuration(threshold)}). Is the worker or its scheduler running?`,
          "error",
        );
      },
      onError: (error) => this.log.error("watchdog alarm handler failed", { error }),
    });
    this.watchdog.start();
  }

  private beat(): void {
    this.watchdog?.beat();
    if (this.alarm) {
      this.alarm = false;
      this.log.info("watchdog reset by a heartbeat");
      this.render();
    }
  }

  /** Events waiting in this session's inboxes. */
  private async inboxLength(): Promise<number> {
    const keys = keysFor(this.config.prefix);
    const lengths = await Promise.all(inboxesOf(this.identity.session).map((sid) => this.link.commands.llen(keys.inbox(sid))));
    return lengths.reduce((a, b) => a + b, 0);
  }

  private async refreshBacklog(): Promise<void> {
    try {
      if (this.link.state() === "connected") this.backlog = await this.inboxLength();
    } catch (error) {
      this.log.debug("backlog unknown", { error });
    }
    this.render();
  }

  /** "connected" only once the session is registered and listening. */
  private linkState(): LinkState {
    const state = this.link?.state() ?? "connecting";
    return state === "connected" && !this.keeper ? "registering" : state;
  }

  private render(): void {
    if (this.stopped) return;
    this.ctx.ui.setStatus(
      STATUS_KEY,
      statusText({
        ...this.identity,
        link: this.linkState(),
        backlog: this.backlog,
        paused: this.delivery?.state().paused ?? false,
        alarm: this.alarm,
        demoted: this.demoted,
      }),
    );
  }
}
