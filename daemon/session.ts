// The daemon's embedded pi: one headless session (pi's SDK) with the user's model, auth, skills
// and extensions, kept in one persistent session file that is resumed after a restart; `/new`
// starts a fresh file. `run()` resolves when the whole run has settled (retries included) with
// the run's text; `abort()` stops it, and replaces a session that will not stop.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  AgentSession,
  AgentSessionEvent,
  AgentSessionRuntime,
  CreateAgentSessionRuntimeFactory,
  SessionManager,
} from "@mariozechner/pi-coding-agent";
import type { Logger } from "../core/log.ts";
import { ensurePrivateDir, narrow, PRIVATE_FILE } from "../core/private-files.ts";

/** Set before pi loads extensions: the gateway extension stays inert inside the daemon. */
export const EMBEDDED_ENV = "GATEWAY_EMBEDDED";

export interface PiSessionOptions {
  /** pi's working directory (tools, AGENTS.md, project extensions). */
  cwd: string;
  /** Where the daemon keeps its session files and the pointer to the current one. */
  stateDir: string;
  /** pi's agent dir; default pi's own (PI_CODING_AGENT_DIR or ~/.pi/agent). */
  agentDir?: string;
  log: Logger;
}

export interface RunHooks {
  /** pi took the prompt into the session (its user message_end fired). */
  onTaken?(): void;
  onDelta?(text: string): void;
}

export interface RunResult {
  /** The text of every assistant message of the run, in order. */
  text: string;
  taken: boolean;
  aborted: boolean;
  error?: string;
  /** The run's assistant messages, as pi ended them (their usage is the run's spend). */
  messages: unknown[];
}

interface ActiveRun {
  settle(result: Partial<RunResult>): void;
}

function assistantText(message: { role: string; content?: unknown }): string {
  if (message.role !== "assistant" || !Array.isArray(message.content)) return "";
  return message.content
    .map((part: { type?: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : ""))
    .join("")
    .trim();
}

/** pi's SDK: an ES module only, and the CLI bundle is CommonJS (dist/cli.cjs), so it is loaded
 * with import() when a daemon opens its session, and no other command pays for it. */
type PiSdk = typeof import("@mariozechner/pi-coding-agent");

export class PiSession {
  private runtime!: AgentSessionRuntime;
  private unsubscribe: (() => void) | undefined;
  private listener: ((event: AgentSessionEvent) => void) | undefined;
  private active: ActiveRun | undefined;
  private readonly pointer: string;
  private readonly sessionDir: string;

  private constructor(
    private readonly options: PiSessionOptions,
    private readonly sdk: PiSdk,
  ) {
    this.sessionDir = join(options.stateDir, "sessions");
    this.pointer = join(options.stateDir, "current-session");
  }

  static async open(options: PiSessionOptions): Promise<PiSession> {
    process.env[EMBEDDED_ENV] = "1";
    const pi = new PiSession(options, await import("@mariozechner/pi-coding-agent"));
    // Conversations are private: the directories 0700, every session file 0600.
    ensurePrivateDir(options.stateDir);
    ensurePrivateDir(pi.sessionDir);
    for (const name of readdirSync(pi.sessionDir)) narrow(join(pi.sessionDir, name), PRIVATE_FILE);
    await pi.start(pi.resumeTarget());
    return pi;
  }

  get session(): AgentSession {
    return this.runtime.session;
  }

  get sessionFile(): string | undefined {
    return this.session.sessionFile;
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /** The session file named by the pointer, or the most recent one, or a fresh one. */
  private resumeTarget(): SessionManager {
    const { cwd } = this.options;
    if (existsSync(this.pointer)) {
      const file = readFileSync(this.pointer, "utf8").trim();
      // The pointer names a file not yet written (a /new with no reply yet): start fresh.
      return file && existsSync(file) ? this.sdk.SessionManager.open(file, this.sessionDir, cwd) : this.sdk.SessionManager.create(cwd, this.sessionDir);
    }
    return this.sdk.SessionManager.continueRecent(cwd, this.sessionDir);
  }

  private async start(sessionManager: SessionManager): Promise<void> {
    const { cwd, log } = this.options;
    const agentDir = this.options.agentDir ?? this.sdk.getAgentDir();
    const factory: CreateAgentSessionRuntimeFactory = async ({ cwd, agentDir, sessionManager, sessionStartEvent }) => {
      // Services first: extensions' providers are registered before the model is resolved.
      const services = await this.sdk.createAgentSessionServices({ cwd, agentDir });
      const created = await this.sdk.createAgentSessionFromServices({ services, sessionManager, sessionStartEvent });
      return { ...created, services, diagnostics: services.diagnostics };
    };
    this.runtime = await this.sdk.createAgentSessionRuntime(factory, { cwd, agentDir, sessionManager });
    for (const d of this.runtime.diagnostics) log[d.type === "error" ? "error" : "info"]("pi: " + d.message);
    if (this.runtime.modelFallbackMessage) log.warn("pi: " + this.runtime.modelFallbackMessage);
    this.runtime.setRebindSession(() => this.bind());
    await this.bind();
  }

  private async bind(): Promise<void> {
    const session = this.runtime.session;
    this.unsubscribe?.();
    this.unsubscribe = session.subscribe((event) => this.listener?.(event));
    await session.bindExtensions({
      onError: (error) => this.options.log.error("pi extension error", { extension: error.extensionPath, event: error.event, error: error.error }),
    });
    const file = session.sessionFile;
    if (file) writeFileSync(this.pointer, file + "\n", { mode: PRIVATE_FILE });
    this.options.log.info("pi session ready", { file, model: session.model ? `${session.model.provider}/${session.model.id}` : undefined, messages: session.messages.length });
  }

  /** Runs one prompt to the end of the whole run. Never throws: failures come back as `error`. */
  async run(prompt: string, hooks: RunHooks = {}): Promise<RunResult> {
    if (this.active) throw new Error("a run is already active");
    const texts: string[] = [];
    const messages: unknown[] = [];
    let taken = false;
    let lastError: string | undefined;
    let aborted = false;
    let settle!: (r: Partial<RunResult>) => void;
    const settled = new Promise<Partial<RunResult>>((resolve) => (settle = resolve));
    this.active = { settle };
    this.listener = (event) => {
      if (event.type === "message_end" && event.message.role === "user" && !taken) {
        taken = true;
        hooks.onTaken?.();
      } else if (event.type === "message_update" && event.assistantMessageEvent.type === "text_delta") {
        hooks.onDelta?.(event.assistantMessageEvent.delta);
      } else if (event.type === "message_end" && event.message.role === "assistant") {
        const message = event.message as { stopReason?: string; errorMessage?: string };
        messages.push(event.message);
        const text = assistantText(event.message);
        if (text) texts.push(text);
        if (message.stopReason === "aborted") aborted = true;
        lastError = message.stopReason === "error" ? (message.errorMessage ?? "the model failed") : undefined;
      }
    };
    this.session.prompt(prompt).then(
      () => settle({}),
      (error: Error) => settle({ error: error.message }),
    );
    const outcome = await settled;
    // pi creates the file with the default mode; the 0700 directory already shields it.
    if (this.sessionFile) narrow(this.sessionFile, PRIVATE_FILE);
    this.active = undefined;
    this.listener = undefined;
    return {
      text: texts.join("\n\n"),
      taken,
      aborted: aborted || outcome.aborted === true,
      error: outcome.error ?? (aborted ? undefined : lastError),
      messages,
    };
  }

  /**
   * Stops the active run. If pi has not stopped within `graceMs` (a provider that ignores
   * the abort signal), the session is reopened from its file so the lane is free again.
   */
  async abort(graceMs: number): Promise<void> {
    const active = this.active;
    if (!active) return;
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.session.abort().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (stopped) return;
    this.options.log.error("pi did not stop within the grace period; reopening the session", { graceMs });
    active.settle({ aborted: true });
    const file = this.sessionFile;
    this.unsubscribe?.();
    void this.runtime.dispose().catch(() => {});
    await this.start(file && existsSync(file) ? this.sdk.SessionManager.open(file, this.sessionDir, this.options.cwd) : this.resumeTarget());
  }

  /** Starts a fresh session file (the `/new` command). The caller makes sure no run is active. */
  async newSession(): Promise<string | undefined> {
    await this.runtime.newSession();
    // setRebindSession already re-subscribed; the pointer now names the new file.
    return this.sessionFile;
  }

  async dispose(): Promise<void> {
    this.unsubscribe?.();
    await this.runtime.dispose();
  }
}
