// A throwaway redis-server per test file: free port, in-memory (or AOF in a temp dir for
// restart tests), stopped when the test file ends even if a test failed. Call it at the top
// level of a test file (top-level await), so the stop hook belongs to the whole file. No redis-server on
// the machine is a failure with the install command, never a skip.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { after } from "node:test";
import { Redis } from "ioredis";
import { connectRedis, ensureConnected } from "../../core/redis.ts";

const INSTALL_HINT =
  "redis-server is not installed: run `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), then run the tests again";

export function requireRedisServer(): void {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(INSTALL_HINT);
}

/** SIGKILL, like a crash; resolves once the process is gone. */
export async function sigkill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("error", () => resolve(false));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("connect", () => socket.write("PING\r\n"));
  });
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** A fresh key prefix, so tests sharing this server never see each other's keys. */
  prefix(): string;
  /** A plain client for assertions (closed with the server). */
  client(): Redis;
  /** A connected client made as the gateway makes its consumers (connectRedis); closed with the server. */
  consumer(): Promise<Redis>;
  /** SIGKILL, like a crash. With AOF, data written so far survives. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Append-only file in a temp dir, fsync always: survives kill + start. */
  aof?: boolean;
}

/** Starts a throwaway redis-server inside a test file; it is stopped when the file ends. */
export async function startRedis(options: StartOptions = {}): Promise<TestRedis> {
  const server = await launchRedis(options);
  after(server.stop);
  return server;
}

/** Starts a throwaway redis-server; the caller stops it (benchmarks use this directly). */
export async function launchRedis(options: StartOptions = {}): Promise<TestRedis> {
  requireRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "agent-gateway-redis-"));
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", options.aof ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning",
  ];
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const start = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const kill = async () => {
    const dying = child;
    child = undefined;
    await sigkill(dying);
  };
  const stop = async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };

  await start();
  // Last resort if the test process dies without running its hooks.
  process.once("exit", () => child?.kill("SIGKILL"));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    prefix: () => `t${randomBytes(4).toString("hex")}`,
    client: () => {
      const c = new Redis(port, "127.0.0.1", { lazyConnect: false, maxRetriesPerRequest: 1 });
      c.on("error", () => {});
      clients.push(c);
      return c;
    },
    consumer: async () => {
      const c = connectRedis(`redis://127.0.0.1:${port}`, { kind: "consumer" });
      clients.push(c);
      await ensureConnected(c);
      return c;
    },
    kill,
    start,
    stop,
  };
}
