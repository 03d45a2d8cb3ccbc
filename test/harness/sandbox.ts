// A throwaway user for setup tests: temp HOME, gateway home and tmux socket directory, a PATH
// with the project's node_modules/.bin (pi; or one without pi, from fake-npm.ts), REDIS_URL at
// a harness Redis so setup never touches the system one. Runs setup.sh with no terminal (its own session, like a pipe from
// curl) and, at the end, stops whatever the setup started, even when a test failed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { outputOf, type RunResult } from "./process.ts";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type { RunResult };

export interface Sandbox {
  root: string;
  home: string;
  gatewayHome: string;
  env: NodeJS.ProcessEnv;
  /** `setup.sh ARGS` with stdin from /dev/null (or the script itself with `viaStdin`). */
  setup(args: string[], options?: { viaStdin?: boolean }): Promise<RunResult>;
  /** `agent-gateway ARGS` as the installed user. */
  cli(args: string[]): Promise<RunResult>;
  tmux(args: string[]): RunResult;
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv, stdin: number | "ignore" = "ignore", cwd = REPO): Promise<RunResult> {
  // detached: a new session with no controlling terminal, as under `curl ... | bash`.
  return outputOf(spawn(command, args, { cwd, env, stdio: [stdin, "pipe", "pipe"], detached: true }));
}

function killGroup(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface SandboxOptions {
  /** PATH instead of the project's node_modules/.bin (its pi) before the test's own. */
  path?: string;
}

export function createSandbox(redisUrl: string, options: SandboxOptions = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "agent-gateway-setup-"));
  const home = join(root, "home");
  const gatewayHome = join(root, "gateway");
  const tmuxDir = join(root, "tmux");
  for (const dir of [home, tmuxDir]) mkdirSync(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: options.path ?? `${join(REPO, "node_modules", ".bin")}:${process.env.PATH}`,
    HOME: home,
    AGENT_GATEWAY_HOME: gatewayHome,
    REDIS_URL: redisUrl,
    TMUX_TMPDIR: tmuxDir,
    // Never the machine's real user services: this user's units would not be in that HOME.
    AGENT_GATEWAY_SERVICES: "fallback",
    PI_OFFLINE: "1",
    LANG: "C.UTF-8",
    TERM: "xterm-256color",
    // npm's cache and update check stay out of the user's HOME we compare.
    npm_config_cache: join(root, "npm-cache"),
    npm_config_update_notifier: "false",
  };
  const tmux = (args: string[]): RunResult => {
    const r = spawnSync("tmux", args, { env, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  after(() => {
    tmux(["kill-server"]);
    const runDir = join(gatewayHome, "run");
    if (existsSync(runDir)) for (const name of readdirSync(runDir)) killGroup(join(runDir, name));
    rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    home,
    gatewayHome,
    env,
    tmux,
    async setup(args, options = {}) {
      if (!options.viaStdin) return run("bash", [join(REPO, "setup.sh"), ...args], env);
      const fd = openSync(join(REPO, "setup.sh"), "r");
      try {
        return await run("bash", ["-s", "--", ...args], env, fd);
      } finally {
        closeSync(fd);
      }
    },
    cli: (args) => run(process.execPath, [join(REPO, "scripts", "agent-gateway.mjs"), ...args], env),
  };
}

/** Every file and link under dir (relative path → content, or "-> target" for a link). */
export function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isSymbolicLink()) out.set(path, `-> ${spawnSync("readlink", [join(dir, path)], { encoding: "utf8" }).stdout.trim()}`);
      else out.set(path, readFileSync(join(dir, path), "utf8"));
    }
  };
  if (existsSync(dir)) walk("");
  return out;
}

export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
