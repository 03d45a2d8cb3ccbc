// One running gateway inside one pi session instance: identity and lease, the Redis link, the
// delivery loop (core's Consumer through a PiInjector), heartbeats and (central only, once
// heartbeats are expected) the watchdog, and the status line. A pi that asked for central but
// was demoted watches the central lease and promotes itself (core/central-watch.ts), first
// finishing what waited in its satellite inbox; a default-role central hands over to an explicit
// claimant (finishes what pi took, releases, runs on as a satellite). Created on session_start,
// stopped on session_shutdown (pi builds a new instance on /new and /reload; the inbox and the
// in-flight batch stay in Redis for it).
import type { ExtensionAPI, ExtensionContext } from "@mariozechner/pi-coding-agent";
import { watchdogThreshold, type Config } from "../core/config.ts";
import { describeTarget } from "../core/redis.ts";
import { newestDead, type DeadLetter } from "../core/dead.ts";
import { CENTRAL_SESSION, inboxesOf, keysFor } from "../core/keys.ts";
import { watchCentral, type CentralWatch } from "../core/central-watch.ts";
import { LeaseConflictError, startLeaseKeeper, type LeaseKeeper } from "../core/lease-keeper.ts";
import type { Claim } from "../core/sessions.ts";
import type { Logger } from "../core/log.ts";
import { Watchdog } from "../core/watchdog.ts";
import { CHAIN_ENV, heldCount, releaseHeld } from "../core/chain.ts";
import { readSpend, recordSpend, usageOfRun, type RunKind, type SpendDay } from "../core/spend.ts";
import { formatDuration } from "../core/duration.ts";
import { describeExhausted, describeWait, readBudgetState, type BudgetState } from "../core/budget-view.ts";
import { openConnection, type Connection } from "./connection.ts";
import type { LinkState } from "./status.ts";
import { Consumer } from "../core/delivery.ts";
import { PiInjector } from "./injector.ts";
import { Heartbeats } from "../core/heartbeat-intake.ts";
import { centralClaim, exportIdentity, requestedIdentity, satelliteId, type Identity } from "./identity.ts";
import { TAKEN_BOUND_MS } from "./injector.ts";
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
  /** The last 7 local days, today first. */
  spend?: SpendDay[];
  budget?: BudgetState;
  /** Why a budget holds events, and until when. */
  budgetWait?: string;
}

export class Bridge {
  private identity: Identity;
  private demoted = false;
  private readonly link: Connection;
  private delivery: Consumer;
  /** Asked for central: how (explicit outranks default); undefined for a satellite by choice. */
  private readonly wantsCentral: Claim | undefined;
  private watch: CentralWatch | undefined;
  /** After a promotion: the satellite session whose inbox is drained before central's. */
  private leftover: { session: string; keeper: LeaseKeeper } | undefined;
  private handingOver = false;
  private readonly injector: PiInjector;
  private readonly heartbeats: Heartbeats;
  private watchdog: Watchdog | undefined;
  private alarm = false;
  private keeper: LeaseKeeper | undefined;
  private claiming: Promise<void> | undefined;
  private backlog = 0;
  private runKind: RunKind | undefined;
  /** Events the runaway breaker holds for this session (for the status line). */
  private held = 0;
  private readonly sweep: NodeJS.Timeout;
  private stopped = false;

  constructor(
    pi: ExtensionAPI,
    private ctx: ExtensionContext,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.identity = requestedIdentity(config);
    this.wantsCentral = this.identity.role === "central" ? centralClaim() : undefined;
    exportIdentity(this.identity);
    this.heartbeats = new Heartbeats(config, log, () => this.beat());
    this.link = openConnection(config, `agent-gateway:${this.identity.session}`, log, {
      onReady: () => this.connected(),
      onNotify: (_channel, message) => (message === "handover" ? void this.keeper?.refresh() : this.notified()),
      onState: () => this.render(),
      onUnreachable: (error) =>
        this.ctx.ui.notify(`agent-gateway: Redis unreachable (${error.message}); pi works on, events wait until Redis is back`, "warning"),
    });
    this.injector = new PiInjector(
      {
        isIdle: () => this.ctx.isIdle(),
        send: (prompt, deliverAs) => pi.sendUserMessage(prompt, deliverAs ? { deliverAs } : undefined),
      },
      () => this.delivery.wake("pi idle"),
      log,
    );
    this.delivery = this.newConsumer();
    this.sweep = setInterval(() => this.delivery.wake("sweep"), config.sweepInterval);
    this.sweep.unref();
    this.render();
    log.info("extension started", { ...this.identity, redisUrl: describeTarget(config) });
  }

  /** session_start again on the same instance (pi fires it twice after some RPC commands). */
  restarted(ctx: ExtensionContext): void {
    this.ctx = ctx;
    this.render();
    this.delivery.wake("session_start");
  }

  // Forwarded pi events.
  runStarted = () => this.injector.running();
  runMayEnd = () => this.injector.mayEnd();
  /** The first user message since the last run ended says who started the run: the gateway or a human. */
  userMessage = (text: string) => {
    const injected = this.injector.userMessage(text);
    if (this.runKind) return;
    this.runKind = injected ? "automated" : "human";
    // Exported for the run's tools (gateway_push, and `agent-gateway push` from bash).
    if (injected) process.env[CHAIN_ENV] = String(injected.chain + 1);
    else void this.releaseHeld("a human run started");
  };
  humanInput = () => this.heartbeats.policy.humanInput();
  runSettled = (finalText: string, messages: readonly unknown[]) => {
    void this.recordRun(this.runKind ?? "human", messages);
    this.runKind = undefined;
    delete process.env[CHAIN_ENV];
    this.heartbeats.runSettled(finalText);
    this.injector.mayEnd();
    this.delivery.wake("agent_end");
  };

  drainNow = () => void this.releaseHeld("/gateway drain").finally(() => this.delivery.wake("command"));

  /** The runaway breaker's held events back into the inbox: a human let them through. */
  private async releaseHeld(why: string): Promise<void> {
    if (this.link.state() !== "connected") return;
    try {
      const moved = await releaseHeld(this.link.commands, this.config.prefix, this.identity.session);
      if (moved > 0) this.log.info("runaway breaker: held events released", { moved, why });
      this.held = 0;
      this.render();
    } catch (error) {
      this.log.warn("held events not released; they stay held", { error });
    }
  }
  pause = () => this.delivery.pause();
  resume = () => this.delivery.resume();

  /** The run's usage into today's spend record; best-effort (a lost record must not disturb pi). */
  private async recordRun(kind: RunKind, messages: readonly unknown[]): Promise<void> {
    if (this.link.state() !== "connected") return;
    try {
      await recordSpend(this.link.commands, this.config.prefix, kind, usageOfRun(messages), Date.now(), this.config.heartbeat.timezone);
    } catch (error) {
      this.log.warn("run usage not recorded", { error, kind });
    }
  }

  async report(): Promise<BridgeReport> {
    const state = this.delivery.report();
    const base: BridgeReport = {
      identity: this.identity,
      demoted: this.demoted,
      link: this.linkState(),
      redisUrl: describeTarget(this.config),
      backlog: this.backlog,
      inflight: 0,
      dead: 0,
      delivered: state.delivered,
      paused: state.paused,
      lastHeartbeat: this.heartbeats.lastReceived,
      lastError: state.lastError,
      budgetWait: state.budget && `${state.budget.held} events held: ${describeWait(state.budget, this.config.heartbeat.timezone)}`,
    };
    if (this.watchdog) {
      base.watchdog = { alarm: this.alarm, silentFor: this.watchdog.state().silentFor, threshold: watchdogThreshold(this.config) };
    }
    if (this.link.state() !== "connected") return base;
    const keys = keysFor(this.config.prefix);
    const sid = this.identity.session;
    // Read fresh: the status line's backlog is only refreshed when delivery moves (not while paused).
    const [backlog, inflight, dead, last, spend, budget] = await Promise.all([
      this.inboxLength(),
      this.link.commands.llen(keys.inflight(sid)),
      this.link.commands.llen(keys.dead(sid)),
      this.link.commands.get(keys.lastHeartbeat),
      readSpend(this.link.commands, this.config.prefix, Date.now(), this.config.heartbeat.timezone),
      readBudgetState(this.link.commands, this.config.prefix, this.config.budget, Date.now(), this.config.heartbeat.timezone),
    ]);
    return { ...base, backlog, inflight, dead, lastHeartbeat: last ? Number(last) : base.lastHeartbeat, spend, budget };
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
    this.injector.stop();
    this.watchdog?.stop();
    this.watch?.stop();
    await this.leftover?.keeper.stop();
    await this.keeper?.stop();
    this.link.close();
    this.log.info("extension stopped", { session: this.identity.session });
  }

  /** Every ready: the first time, claim the session; then drain what waited. */
  private connected(): void {
    if (this.stopped || this.link.state() !== "connected") return;
    if (this.keeper) {
      this.delivery.wake("ready");
      return;
    }
    this.claiming ??= this.claim()
      .then(() => this.delivery.wake("session_start"))
      .catch((error) => this.log.warn("cannot register yet; retrying on the next reconnect", { error }))
      .finally(() => (this.claiming = undefined));
  }

  private newConsumer(): Consumer {
    return new Consumer({
      redis: this.link.commands,
      config: this.config,
      session: () => this.drainTarget(),
      heartbeats: this.heartbeats,
      injector: this.injector,
      log: this.log,
      onChange: (state) => {
        void this.refreshBacklog();
        if (state === "idle" && this.leftover) void this.leftoverDrained();
      },
      onBudgetExhausted: (exhausted) => this.ctx.ui.notify(describeExhausted(exhausted, this.config.budget, this.config.heartbeat.timezone), "warning"),
    });
  }

  /** What the consumer drains: a promoted pi's old satellite inbox first, then its own session. */
  private drainTarget(): { session: string; owner: string } | undefined {
    const keeper = this.leftover?.keeper ?? this.keeper;
    return keeper && { session: keeper.lease.session, owner: keeper.lease.owner };
  }

  private takeLease(identity: Identity): Promise<LeaseKeeper> {
    return startLeaseKeeper({
      redis: this.link.commands,
      prefix: this.config.prefix,
      ...identity,
      claim: identity.role === "central" ? this.wantsCentral : "explicit",
      ttl: this.config.leaseTtl,
      log: this.log,
      onConflict: (holder) =>
        this.ctx.ui.notify(`agent-gateway: session ${holder.session} was taken over by pid ${holder.pid} on ${holder.host}`, "warning"),
      onHandoverAsked: () => void this.handOver(),
    });
  }

  /** Takes the lease; a second would-be central runs as a satellite, says so, and keeps watching. */
  private async claim(): Promise<void> {
    try {
      this.keeper = await this.takeLease(this.identity);
    } catch (error) {
      if (!(error instanceof LeaseConflictError) || this.identity.role !== "central") throw error;
      await this.becomeSatellite(`the central session is held by ${describeHolder(error.holder)}`);
      return;
    }
    if (this.identity.role === "central") await this.armWatchdog();
    await this.listen();
  }

  private async listen(): Promise<void> {
    const keys = keysFor(this.config.prefix);
    await this.link.listen(inboxesOf(this.identity.session).map(keys.notify));
    this.render();
  }

  /** Runs on as a satellite (a new one, or after a handover) and watches central to come back. */
  private async becomeSatellite(why: string): Promise<void> {
    const fallback: Identity = { role: "satellite", session: satelliteId() };
    this.log.warn("running as a satellite", { why, session: fallback.session });
    this.keeper = await this.takeLease(fallback);
    this.identity = fallback;
    this.demoted = true;
    exportIdentity(fallback);
    this.watchdog?.stop();
    this.watchdog = undefined;
    this.ctx.ui.notify(`agent-gateway: ${why}; this pi runs as satellite ${fallback.session} and takes central when it is free`, "warning");
    this.startWatch();
    await this.listen();
  }

  private startWatch(): void {
    if (!this.wantsCentral || this.stopped) return;
    this.watch?.stop();
    this.watch = watchCentral({
      redis: this.link.commands,
      prefix: this.config.prefix,
      claim: this.wantsCentral,
      ttl: this.config.leaseTtl,
      log: this.log,
      take: () => this.promote(),
    });
  }

  /** Takes central (a watch found it free); the satellite inbox is still drained, first. */
  private async promote(): Promise<boolean> {
    if (this.stopped || this.handingOver) return false;
    const central: Identity = { role: "central", session: CENTRAL_SESSION };
    let keeper: LeaseKeeper;
    try {
      keeper = await this.takeLease(central);
    } catch (error) {
      if (error instanceof LeaseConflictError) return false;
      throw error;
    }
    const satellite = this.keeper;
    this.leftover = satellite && { session: this.identity.session, keeper: satellite };
    this.keeper = keeper;
    this.identity = central;
    this.demoted = false;
    exportIdentity(central);
    this.log.info("promoted to the central session", { claim: this.wantsCentral, leftover: this.leftover?.session });
    this.ctx.ui.notify("agent-gateway: the central session was free; this pi is now the central session (gateway)", "info");
    await this.armWatchdog();
    await this.listen();
    this.delivery.wake("promoted");
    return true;
  }

  /** The promoted pi's old satellite inbox and in-flight list are empty: release it, drain central. */
  private async leftoverDrained(): Promise<void> {
    const leftover = this.leftover;
    if (!leftover || this.link.state() !== "connected") return;
    const keys = keysFor(this.config.prefix);
    const [waiting, inflight] = await Promise.all([this.link.commands.llen(keys.inbox(leftover.session)), this.link.commands.llen(keys.inflight(leftover.session))]);
    if (waiting + inflight > 0 || this.leftover !== leftover) return;
    this.leftover = undefined;
    await leftover.keeper.stop();
    this.delivery.wake("satellite inbox drained");
  }

  /**
   * An explicit claimant asks for central (this pi holds it by the config default): finish the
   * batch pi already has (acknowledged, bounded), release, run on as a satellite. What pi was
   * not given stays in Redis for the new holder.
   */
  private async handOver(): Promise<void> {
    if (this.handingOver || this.identity.role !== "central" || this.wantsCentral !== "default") return;
    this.handingOver = true;
    try {
      this.log.info("handing the central session over to an explicit claimant");
      const paused = this.delivery.report().paused;
      await this.delivery.finish(TAKEN_BOUND_MS);
      this.injector.forget();
      await this.keeper?.stop();
      this.keeper = undefined;
      this.delivery = this.newConsumer();
      if (paused) this.delivery.pause();
      await this.becomeSatellite("a supervised central session (GATEWAY_ROLE=central) took central over");
      this.delivery.wake("handed over");
    } finally {
      this.handingOver = false;
    }
  }

  /**
   * The watchdog runs only once heartbeats are expected: the config says a heartbeat source is
   * installed (tier 2+), one was received in this Redis (the last-heartbeat key exists), or one
   * arrives later; tier 1 has no heartbeat source and no alarm.
   */
  private async armWatchdog(): Promise<void> {
    if (this.watchdog || !this.config.heartbeat.enabled) return;
    if (this.config.watchdog.expectHeartbeats) {
      if (this.identity.role === "central") this.startWatchdog();
      return;
    }
    try {
      const seen = await this.link.commands.exists(keysFor(this.config.prefix).lastHeartbeat);
      if (seen && this.identity.role === "central") this.startWatchdog();
    } catch (error) {
      // Unknown for now: the first heartbeat received arms it.
      this.log.debug("cannot tell whether heartbeats are expected", { error });
    }
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
    if (!this.watchdog && this.identity.role === "central") this.startWatchdog();
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

  /** A push woke us. While paused the loop does not move, so the status line's backlog is counted here. */
  private notified(): void {
    this.delivery.wake("notify");
    if (this.delivery.report().paused) void this.refreshBacklog();
  }

  private async refreshBacklog(): Promise<void> {
    try {
      if (this.link.state() === "connected") {
        [this.backlog, this.held] = await Promise.all([this.inboxLength(), heldCount(this.link.commands, this.config.prefix, this.identity.session)]);
      }
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
        held: this.held,
        paused: this.delivery?.report().paused ?? false,
        budget: this.delivery?.report().budget && describeWait(this.delivery.report().budget!, this.config.heartbeat.timezone),
        alarm: this.alarm,
        demoted: this.demoted,
      }),
    );
  }
}

function describeHolder(holder: { pid: number; host: string }): string {
  return holder.pid > 0 ? `pid ${holder.pid} on ${holder.host}` : "an unreadable lease (taken over when it expires)";
}
