// The real daemon (`agent-gateway daemon`) as a child process for Telegram end-to-end tests:
// its embedded pi answers through the faux LLM (test/fixtures/daemon-llm.ts, no API key), its
// Telegram channel talks to the local Bot API stand-in. Killed when the test file ends.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { fixture, piDirs, REPO_ROOT, type PiDirs } from "./pi.ts";
import type { TelegramStandin } from "./telegram-standin.ts";

export interface TelegramDaemon {
  dirs: PiDirs;
  /** stderr so far (the daemon echoes its JSON log lines there). */
  output(): string;
  /** Starts (again) with the same home, agent dir and Redis; resolves once it is running. */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill("SIGKILL");
});
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

export async function telegramDaemon(options: {
  redisUrl: string;
  prefix: string;
  standin: TelegramStandin;
  allowedChats: number[];
  env?: Record<string, string>;
  /** More config.json fields (e.g. schedules). */
  config?: Record<string, unknown>;
  /** More pi extensions for the daemon's embedded pi (e.g. the gateway's own, for its tools). */
  extensions?: string[];
}): Promise<TelegramDaemon> {
  const dirs = piDirs({
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    config: { heartbeat: { enabled: false }, telegram: { apiRoot: options.standin.apiRoot, allowedChats: options.allowedChats }, ...options.config },
    env: { TELEGRAM_BOT_TOKEN: options.standin.token, ...options.env },
  });
  mkdirSync(dirs.agentDir, { recursive: true });
  writeFileSync(join(dirs.agentDir, "settings.json"), JSON.stringify({ defaultProvider: "fake", defaultModel: "echo", extensions: [fixture("daemon-llm.ts"), ...(options.extensions ?? [])] }));
  let child: ChildProcess | undefined;
  let output = "";

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(process.execPath, [join(REPO_ROOT, "scripts/agent-gateway.mjs"), "daemon"], { cwd: dirs.cwd, env: dirs.env, stdio: ["ignore", "ignore", "pipe"] });
      child = proc;
      children.add(proc);
      proc.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`daemon: running (pid ${proc.pid})`)) resolve();
      });
      proc.once("exit", (code) => {
        children.delete(proc);
        reject(new Error(`daemon exited with ${code} before it was running:\n${output}`));
      });
    });

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    const dying = child;
    child = undefined;
    if (!dying || dying.exitCode !== null || dying.signalCode !== null) return;
    const exited = new Promise((r) => dying.once("exit", r));
    dying.kill(signal);
    await exited;
  };

  await start();
  return { dirs, output: () => output, start, kill };
}
