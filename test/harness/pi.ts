// A real pi CLI for tests: `pi --mode rpc` with the fake LLM (test/fixtures/fake-llm.ts), a temp
// agent dir and gateway home, PI_OFFLINE=1, and the gateway extension loaded from the repo root
// (or however the test says). Collects every JSON line pi writes; helpers wait for events, user
// messages, status lines and notifications. Every pi started here is SIGKILLed when the test
// file ends, even on failure; tests should still `kill()` theirs when done.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PI_BIN = join(REPO_ROOT, "node_modules/.bin/pi");
export const FAKE_LLM = join(REPO_ROOT, "test/fixtures/fake-llm.ts");
export const FAKE_MODEL = "fake/echo";
export const fixture = (name: string) => join(REPO_ROOT, "test/fixtures", name);

export interface PiEnvOptions {
  redisUrl: string;
  prefix: string;
  role?: "central" | "satellite";
  /** Written to <home>/config.json (e.g. { sweepInterval: "10m" }). */
  config?: Record<string, unknown>;
  /** Extra environment, applied last. */
  env?: Record<string, string>;
  /** Reuse a gateway home (e.g. to restart "the same" central session); a fresh temp dir otherwise. */
  home?: string;
  /** Reuse an agent dir (settings.json, extensions/); a fresh temp dir otherwise. */
  agentDir?: string;
}

export interface PiDirs {
  home: string;
  agentDir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const tempDirs: string[] = [];
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `agent-gateway-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** A clean environment for pi: no inherited gateway settings, temp dirs, offline. */
export function piDirs(options: PiEnvOptions): PiDirs {
  const home = options.home ?? tempDir("home");
  const agentDir = options.agentDir ?? tempDir("agent");
  const cwd = tempDir("cwd");
  if (options.config) {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "config.json"), JSON.stringify(options.config));
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("GATEWAY_") && k !== "REDIS_URL" && k !== "AGENT_GATEWAY_HOME") env[k] = v;
  }
  Object.assign(env, {
    PI_CODING_AGENT_DIR: agentDir,
    PI_OFFLINE: "1",
    AGENT_GATEWAY_HOME: home,
    REDIS_URL: options.redisUrl,
    GATEWAY_PREFIX: options.prefix,
    ...(options.role ? { GATEWAY_ROLE: options.role } : {}),
    ...options.env,
  });
  return { home, agentDir, cwd, env };
}

// Loose shapes of pi's RPC output lines; tests read only what they assert on.
export async function pollUntil(what: string, check: () => Promise<boolean> | boolean, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RpcLine {
  type: string;
  [key: string]: unknown;
}

export interface RpcPi {
  child: ChildProcess;
  dirs: PiDirs;
  lines: RpcLine[];
  stderr(): string;
  send(command: Record<string, unknown>): Promise<RpcLine>;
  prompt(message: string, streamingBehavior?: "steer" | "followUp"): Promise<RpcLine>;
  /** Resolves with the first line (seen already or later) matching; rejects after `timeout` ms. */
  waitFor(what: string, match: (line: RpcLine) => boolean, timeout?: number): Promise<RpcLine>;
  /** Texts of the user messages pi took into the session (message_end, role user), in order. */
  userMessages(): string[];
  statuses(): string[];
  notifications(): { message: string; notifyType: string }[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartPiOptions extends PiEnvOptions {
  /** How pi finds the gateway extension; default `-e <repo root>`. */
  extensionArgs?: string[];
  /** More test-only extensions, loaded after the fake LLM and before the gateway. */
  fixtures?: string[];
}

export function messageText(message: unknown): string {
  const content = (message as { content?: unknown })?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p: { type?: string; text?: string }) => (p.type === "text" ? p.text : "")).join("\n");
}

export async function startPi(options: StartPiOptions): Promise<RpcPi> {
  const dirs = piDirs(options);
  const args = [
    "--mode", "rpc", "--no-session", "--no-extensions", "-e", FAKE_LLM,
    ...(options.fixtures ?? []).flatMap((f) => ["-e", f]),
    ...(options.extensionArgs ?? ["-e", REPO_ROOT]), "--model", FAKE_MODEL,
  ];
  const child = spawn(PI_BIN, args, { cwd: dirs.cwd, env: dirs.env, stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const lines: RpcLine[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  let errors = "";
  child.stderr!.on("data", (d: Buffer) => (errors += d.toString()));
  child.stdout!.on("data", (data: Buffer) => {
    buffer += data.toString();
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const raw = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (!raw.trim()) continue;
      try {
        lines.push(JSON.parse(raw) as RpcLine);
      } catch {
        lines.push({ type: "unparsed", raw });
      }
      for (const w of [...waiters]) w();
    }
  });
  child.once("exit", () => {
    for (const w of [...waiters]) w();
  });

  const waitFor: RpcPi["waitFor"] = (what, match, timeout = 20_000) =>
    new Promise((resolvePromise, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found) {
          done();
          resolvePromise(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`pi exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}\nstderr: ${errors.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}\nstderr: ${errors.slice(-2000)}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let nextId = 0;
  const send: RpcPi["send"] = (command) => {
    const id = `t${++nextId}`;
    child.stdin!.write(JSON.stringify({ ...command, id }) + "\n");
    return waitFor(`response to ${String(command.type)}`, (l) => l.type === "response" && l.id === id);
  };

  const pi: RpcPi = {
    child,
    dirs,
    lines,
    stderr: () => errors,
    send,
    prompt: (message, streamingBehavior) => send({ type: "prompt", message, ...(streamingBehavior ? { streamingBehavior } : {}) }),
    waitFor,
    userMessages: () =>
      lines.filter((l) => l.type === "message_end" && (l.message as { role?: string })?.role === "user").map((l) => messageText(l.message)),
    statuses: () =>
      lines
        .filter((l) => l.type === "extension_ui_request" && l.method === "setStatus" && l.statusKey === "agent-gateway")
        .map((l) => String(l.statusText ?? "")),
    notifications: () =>
      lines
        .filter((l) => l.type === "extension_ui_request" && l.method === "notify")
        .map((l) => ({ message: String(l.message), notifyType: String(l.notifyType ?? "info") })),
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
  return pi;
}

/** Waits until pi's gateway status line says it is connected (registered and listening). */
export async function waitConnected(pi: RpcPi, timeout = 20_000): Promise<string> {
  const line = await pi.waitFor(
    "the gateway status line to say connected",
    (l) => l.type === "extension_ui_request" && l.method === "setStatus" && l.statusKey === "agent-gateway" && /connected/.test(String(l.statusText)) && !/reconnecting/.test(String(l.statusText)),
    timeout,
  );
  return String(line.statusText);
}

/** Waits for a user message containing `fragment` to be taken into the session. */
export function waitUserMessage(pi: RpcPi, fragment: string, timeout = 20_000): Promise<RpcLine> {
  return pi.waitFor(
    `a user message containing ${JSON.stringify(fragment)}`,
    (l) => l.type === "message_end" && (l.message as { role?: string })?.role === "user" && messageText(l.message).includes(fragment),
    timeout,
  );
}

export interface PrintOptions extends StartPiOptions {
  prompt: string;
  /** Leave pi's extension discovery on (agent dir extensions/, settings.json packages). */
  discover?: boolean;
  timeout?: number;
}

/** `pi -p <prompt>` with the fake LLM; resolves with its exit code and output (SIGKILLed after `timeout`). */
export function runPiPrint(options: PrintOptions): Promise<{ code: number | null; stdout: string; stderr: string; dirs: PiDirs }> {
  const dirs = piDirs(options);
  const args = [
    "-p", "--no-session", ...(options.discover ? [] : ["--no-extensions"]), "-e", FAKE_LLM,
    ...(options.extensionArgs ?? ["-e", REPO_ROOT]), "--model", FAKE_MODEL, options.prompt,
  ];
  const child = spawn(PI_BIN, args, { cwd: dirs.cwd, env: dirs.env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 60_000);
  return new Promise((resolvePromise) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolvePromise({ code, stdout, stderr, dirs });
    }),
  );
}
