// The CLI as a user runs it: `node scripts/agent-gateway.mjs ...` in a real subprocess, with a
// throwaway gateway home (AGENT_GATEWAY_HOME), REDIS_URL and key prefix, and an environment
// that inherits nothing gateway-related from the test runner. Every process started here is
// killed when the test file ends, even when a test failed.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { outputOf, type RunResult } from "./process.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(REPO, "scripts", "agent-gateway.mjs");

export type CliResult = RunResult;

export interface LiveCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the stream's text matches; rejects after `ms` with what it saw. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp, ms?: number): Promise<void>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export interface CliHome {
  home: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  start(args: string[], options?: { env?: NodeJS.ProcessEnv }): LiveCli;
}

const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill("SIGKILL");
});

export function cliHome(redisUrl: string, prefix: string, config?: Record<string, unknown>): CliHome {
  const home = mkdtempSync(join(tmpdir(), "agent-gateway-cli-"));
  mkdirSync(home, { recursive: true });
  if (config) writeFileSync(join(home, "config.json"), JSON.stringify(config));
  after(() => rmSync(home, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AGENT_GATEWAY_HOME: home,
    REDIS_URL: redisUrl,
    GATEWAY_PREFIX: prefix,
  };
  const spawnCli = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...env, ...extra }, stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    child.once("exit", () => live.delete(child));
    return child;
  };
  return {
    home,
    env,
    run: (args, { stdin, env: extra } = {}) => {
      const child = spawnCli(args, extra);
      const result = outputOf(child);
      child.stdin!.end(stdin ?? "");
      return result;
    },
    start: (args, { env: extra } = {}) => {
      const child = spawnCli(args, extra);
      const text = { stdout: "", stderr: "" };
      const waiters = new Set<() => void>();
      for (const stream of ["stdout", "stderr"] as const) {
        child[stream]!.on("data", (d) => {
          text[stream] += d;
          for (const check of waiters) check();
        });
      }
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      return {
        child,
        stdout: () => text.stdout,
        stderr: () => text.stderr,
        waitFor: (stream, pattern, ms = 30_000) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`no ${pattern} on ${stream} within ${ms} ms; stdout: ${text.stdout}\nstderr: ${text.stderr}`));
            }, ms);
            const check = () => {
              if (!pattern.test(text[stream])) return;
              clearTimeout(timer);
              waiters.delete(check);
              resolve();
            };
            waiters.add(check);
            check();
          }),
        stop: async () => {
          child.kill("SIGTERM");
          return exited;
        },
      };
    },
  };
}
