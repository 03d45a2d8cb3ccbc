// Test helpers for the tier-4 daemon: a throwaway gateway home whose pi agent dir selects the
// fake model (test/fixtures/daemon-llm.ts, through settings.json like a user's own model), a
// daemon run in-process or as a child process, and a small WebSocket client for the protocol.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { WebSocket } from "ws";
import { loadConfig, type Config } from "../../core/config.ts";

export const WS_TOKEN = "test-token-0123456789abcdef";
const FAKE_LLM = fileURLToPath(new URL("../fixtures/daemon-llm.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../../scripts/agent-gateway.mjs", import.meta.url));

export interface DaemonHome {
  home: string;
  agentDir: string;
  env: NodeJS.ProcessEnv;
  config(): Config;
  /** Every user message text in the daemon's pi session files (what pi took). */
  sessionUserTexts(): string[];
  logText(): string;
}

/** A fresh home; `settings` is merged into config.json (e.g. {daemon: {turnTimeout: "1s"}}). */
export function daemonHome(redisUrl: string, prefix: string, settings: Record<string, unknown> = {}): DaemonHome {
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-daemon-"));
  const agentDir = join(home, "pi-agent");
  mkdirSync(agentDir, { recursive: true });
  writeFileSync(join(agentDir, "settings.json"), JSON.stringify({ defaultProvider: "fake", defaultModel: "echo", extensions: [FAKE_LLM] }));
  const { daemon, heartbeat, ...rest } = settings as { daemon?: object; heartbeat?: object };
  writeFileSync(
    join(home, "config.json"),
    JSON.stringify({
      sweepInterval: "1s",
      leaseTtl: "5s",
      ...rest,
      heartbeat: { enabled: false, ...heartbeat },
      daemon: { port: 0, wsToken: WS_TOKEN, cwd: home, ...daemon },
    }),
  );
  const env = { ...process.env, AGENT_GATEWAY_HOME: home, REDIS_URL: redisUrl, GATEWAY_PREFIX: prefix, PI_CODING_AGENT_DIR: agentDir, PI_OFFLINE: "1" };
  after(() => rmSync(home, { recursive: true, force: true }));
  return {
    home,
    agentDir,
    env,
    config: () => loadConfig(env),
    sessionUserTexts: () => {
      const dir = join(home, "daemon", "sessions");
      return readdirSync(dir)
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
        .map((line) => JSON.parse(line) as { type: string; message?: { role: string; content: { type: string; text?: string }[] } })
        .filter((e) => e.type === "message" && e.message?.role === "user")
        .map((e) => e.message!.content.map((c) => c.text ?? "").join(""));
    },
    logText: () => {
      try {
        return readFileSync(join(home, "logs", "daemon.log"), "utf8");
      } catch {
        return "";
      }
    },
  };
}

export interface DaemonProcess {
  child: ChildProcess;
  /** The WebSocket port, read from the start-up line. */
  port: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** `agent-gateway daemon` as a child process; killed when the test file ends. */
export function spawnDaemon(home: DaemonHome): DaemonProcess {
  const child = spawn(process.execPath, [CLI, "daemon"], { env: home.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const port = new Promise<number>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /WebSocket on [^:\s]+:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", () => reject(new Error(`daemon exited before listening:\n${stderr}`)));
  });
  port.catch(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, port, exited, stderr: () => stderr };
}

export interface Frame {
  type: string;
  id?: string | number;
  ok?: boolean;
  payload?: Record<string, unknown> & { text?: string; messageId?: string; state?: string };
  error?: { code: string; message: string };
  event?: string;
  seq?: number;
}

/** A protocol client over a real `ws` socket: records every frame, awaits frames by predicate. */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<number>;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private nextId = 1;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => socket.once("close", (code) => resolve(code)));
    after(() => socket.terminate());
  }

  static async open(port: number): Promise<WsClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    return new WsClient(socket);
  }

  /** Opens and authenticates. */
  static async connect(port: number, token = WS_TOKEN): Promise<WsClient> {
    const client = await WsClient.open(port);
    const res = await client.request("auth", { token });
    if (!res.ok) throw new Error(`auth failed: ${JSON.stringify(res.error)}`);
    return client;
  }

  /** The first frame (already received or future) that matches. */
  next(match: (f: Frame) => boolean, timeoutMs = 30_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  async request(method: string, params?: Record<string, unknown>): Promise<Frame> {
    const id = `r${this.nextId++}`;
    this.socket.send(JSON.stringify({ type: "req", id, method, params }));
    return this.next((f) => f.type === "res" && f.id === id);
  }

  /** Sends a prompt; resolves with its settled reply text. */
  async ask(text: string): Promise<string> {
    const res = await this.request("prompt", { text });
    if (!res.ok) throw new Error(`prompt refused: ${JSON.stringify(res.error)}`);
    const reply = await this.next((f) => f.event === "reply" && f.payload?.messageId === res.id, 60_000);
    return reply.payload!.text!;
  }

  replies(): Frame[] {
    return this.frames.filter((f) => f.event === "reply");
  }
}

/** Polls until fn returns a truthy value (for state with nothing to await). */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
