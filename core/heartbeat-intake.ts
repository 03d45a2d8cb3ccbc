// Heartbeats as a consumer (the extension or the daemon) receives them: each received
// cron.heartbeat writes the last-heartbeat key, touches the tripwire file (checked from
// outside pi by tripwire-check) and beats the watchdog; HeartbeatPolicy decides whether it
// becomes a checklist prompt. The agent's reply to a heartbeat prompt feeds the back-off.
// With heartbeat.precheck set, the command runs first (core/precheck.ts): passed means no prompt
// (counted like a HEARTBEAT_OK reply), anything else rides along in the checklist, quoted.
import { closeSync, mkdirSync, openSync, readFileSync, utimesSync } from "node:fs";
import { dirname } from "node:path";
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import type { GatewayEvent } from "./event.ts";
import { isHeartbeat } from "./format.ts";
import { HEARTBEAT_OK, HeartbeatPolicy } from "./heartbeat.ts";
import { precheckSection, runPrecheck } from "./precheck.ts";
import { keysFor } from "./keys.ts";
import { replyCode } from "./redis-errors.ts";
import type { Logger } from "./log.ts";

export interface HeartbeatIntake {
  /** Events to show the agent (heartbeats dropped when the policy says no prompt). */
  events: GatewayEvent[];
  /** The checklist to carry, when a heartbeat prompts. */
  checklist?: string;
}

export class Heartbeats {
  readonly policy: HeartbeatPolicy;
  private awaitingReply = false;
  lastReceived: number | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly onBeat: () => void,
  ) {
    const { enabled, backoffAfter, quietAfterHuman } = config.heartbeat;
    this.policy = new HeartbeatPolicy({ enabled, backoffAfter, quietAfterHuman });
  }

  /**
   * Records the batch's heartbeats and decides what of the batch the agent sees. `prompts`
   * false (a budget stopped heartbeat prompts): the beats are recorded, none prompts.
   */
  async intake(redis: Redis, events: GatewayEvent[], prompts = true): Promise<HeartbeatIntake> {
    const beats = events.filter(isHeartbeat);
    if (beats.length === 0) return { events };
    const now = Date.now();
    this.lastReceived = now;
    await redis.set(keysFor(this.config.prefix).lastHeartbeat, String(now)).catch((error: unknown) => {
      // A full Redis (noeviction) refuses the write; the batch must still be delivered, so the
      // consumer can drain and free memory. The tripwire file below still records the beat.
      if (replyCode(error) !== "OOM") throw error;
      this.log.warn("Redis is full: the last-heartbeat time was not recorded", { error: (error as Error).message });
    });
    this.touchTripwire(now);
    this.onBeat();
    const decision = prompts ? this.policy.decide() : { prompt: false, reason: "a budget stopped heartbeat prompts" };
    this.log.info("heartbeat received", { count: beats.length, prompt: decision.prompt, reason: decision.reason });
    const withoutBeats = () => events.filter((e) => !isHeartbeat(e));
    if (!decision.prompt) return { events: withoutBeats() };
    const command = this.config.heartbeat.precheck;
    if (command === undefined) return { events, checklist: this.readChecklist() };
    const result = await runPrecheck(command, this.config.heartbeat.precheckTimeout);
    if (result.passed) {
      this.log.info("heartbeat precheck passed: no prompt, counted as HEARTBEAT_OK", { command });
      this.policy.reply(HEARTBEAT_OK);
      return { events: withoutBeats() };
    }
    this.log.info("heartbeat precheck found something: it goes into the heartbeat prompt", { command, outcome: result.outcome });
    // First, so a long checklist cut to the prompt's bound never cuts the precheck's report.
    return { events, checklist: `${precheckSection(command, result)}\n\n${this.readChecklist()}` };
  }

  /** The heartbeat prompt reached the session: its run's reply feeds the back-off. */
  promptTaken(): void {
    this.awaitingReply = true;
  }

  /** A run settled with this final assistant text. */
  runSettled(text: string): void {
    if (!this.awaitingReply) return;
    this.awaitingReply = false;
    this.policy.reply(text);
  }

  private readChecklist(): string {
    try {
      return readFileSync(this.config.paths.heartbeatFile, "utf8");
    } catch {
      return `(no checklist at ${this.config.paths.heartbeatFile}: check on anything running in the background)`;
    }
  }

  private touchTripwire(now: number): void {
    const file = this.config.paths.tripwire;
    try {
      mkdirSync(dirname(file), { recursive: true });
      closeSync(openSync(file, "a"));
      utimesSync(file, now / 1000, now / 1000);
    } catch (error) {
      this.log.warn("cannot touch the tripwire file", { file, error });
    }
  }
}
