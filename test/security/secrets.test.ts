// Secrets on disk and on screen: after real runs (setup.sh 1, setup's JSON tool, the daemon over
// WebSocket, CLI commands with Redis up and down) every file in the gateway home is user-only
// (0600 files, 0700 directories), and no secret — the Redis password, the API token, the
// WebSocket token, the signing key — appears in any log, the spool or any command's output.
// config.json and signing.key are where secrets live. Real redis-server with a password.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { createLogger } from "../../core/log.ts";
import { startDaemon } from "../../daemon/main.ts";
import { main } from "../../scripts/cli.ts";
import { daemonHome, WS_TOKEN, WsClient } from "../harness/daemon.ts";
import { startRedis } from "../harness/redis.ts";
import { createSandbox, REPO } from "../harness/sandbox.ts";

const PASSWORD = "Pa@ssWord99-s3cr3t";
const API_TOKEN = "api-token-secret-0123456789";
const server = await startRedis();
await server.client().config("SET", "requirepass", PASSWORD);
const secretUrl = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;

/** Every entry under dir with its mode. */
function modes(dir: string): { path: string; mode: number; dir: boolean }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).map((d) => {
    const path = join(d.parentPath, d.name);
    const st = statSync(path);
    return { path, mode: st.mode & 0o777, dir: st.isDirectory() };
  });
}

function assertPrivate(home: string, skip: (rel: string) => boolean = () => false): void {
  assert.equal(statSync(home).mode & 0o777, 0o700, `${home} is 0700`);
  for (const { path, mode, dir } of modes(home)) {
    const rel = relative(home, path);
    if (skip(rel)) continue;
    assert.equal(mode & 0o077, 0, `${rel} is ${mode.toString(8)}; nothing in the home may be readable by others`);
    if (!dir) assert.equal(mode, 0o600, `${rel} is 0600`);
  }
}

function assertNoSecret(where: string, text: string, secrets: string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `${where} shows a secret (${secret.slice(0, 4)}…)`);
}

test("setup.sh 1 with a password in REDIS_URL: the password is never printed, config.json is 0600 in a 0700 home", async () => {
  const box = createSandbox(secretUrl);
  const run = await box.setup(["1", "--yes"]);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assertNoSecret("setup.sh 1 output", run.stdout + run.stderr, [PASSWORD, "Pa@ss", "ssWord99"]);
  assert.match(run.stdout, /redisUrl = redis:\/\/:\*\*\*@127\.0\.0\.1/);
  assert.equal(JSON.parse(readFileSync(join(box.gatewayHome, "config.json"), "utf8")).redisUrl, secretUrl, "stored as given");
  assert.equal(statSync(box.gatewayHome).mode & 0o777, 0o700, "the home is 0700");
  assert.equal(statSync(join(box.gatewayHome, "config.json")).mode & 0o777, 0o600, "config.json is 0600");
});

test("setup's JSON tool: a secret written 0600, then a plain key set (allowedChats), keeps config.json 0600; a wider file is narrowed", () => {
  const { home } = daemonHome(server.url, server.prefix());
  const file = join(home, "config.json");
  const tool = (args: string[], input = "") =>
    spawnSync(process.execPath, ["--import", "tsx", join(REPO, "scripts/setup/tool.ts"), ...args], { input, encoding: "utf8", env: { ...process.env, AGENT_GATEWAY_HOME: home } });
  chmodSync(file, 0o644);
  assert.equal(tool(["json-set-secret", file, "telegram.botToken"], "123:bot-token-secret").status, 0);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const set = tool(["json-set", file, "telegram.allowedChats", "42"]);
  assert.equal(set.status, 0, set.stderr);
  assert.equal(statSync(file).mode & 0o777, 0o600, "the next json-set keeps 0600");
  assertNoSecret("tool output", set.stdout + set.stderr, ["bot-token-secret"]);
});

test("after a daemon run, a spooled push and CLI commands: every file is user-only and no secret is in logs, spool or output", async () => {
  const prefix = server.prefix();
  const home = daemonHome(secretUrl, prefix, { apiToken: API_TOKEN });
  chmodSync(home.home, 0o755); // as an older version left it
  chmodSync(join(home.home, "config.json"), 0o600); // as setup writes it (the first tests check that)
  const log = createLogger({ dir: join(home.home, "logs"), kind: "daemon", level: "debug" });
  const daemon = await startDaemon({ config: home.config(), agentDir: home.agentDir, log });
  const client = await WsClient.connect(daemon.wsPort!);
  assert.match(await client.ask("hello"), /^echo: hello/);
  const wrong = await WsClient.open(daemon.wsPort!);
  await wrong.request("auth", { token: `${WS_TOKEN}-but-wrong` });
  await daemon.stop("test over");
  await log.close();

  const outputs: string[] = [];
  const cli = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
    const code = await main(args, { env, stdout: (l) => outputs.push(l), stderr: (l) => outputs.push(l), readStdin: async () => "" });
    return code;
  };
  assert.equal(await cli(home.env, "status"), 0, outputs.join("\n"));
  assert.equal(await cli(home.env, "status", "--json"), 0);
  await cli(home.env, "doctor");
  await cli(home.env, "pairing", "list");
  // Redis unreachable (wrong port, same password): the push is spooled, the error shows the URL masked.
  const down = { ...home.env, REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1` };
  assert.equal(await cli(down, "push", "sec.test", "--source", "test", "--payload", '{"note":"spooled"}'), 0);
  assert.ok(outputs.some((l) => l.includes("redis://:***@127.0.0.1:1")), outputs.join("\n"));

  assertPrivate(home.home, (rel) => rel.startsWith("pi-agent"));
  const signingKey = readFileSync(join(home.home, "signing.key"), "utf8").trim();
  const secrets = [PASSWORD, API_TOKEN, WS_TOKEN, signingKey];
  assertNoSecret("command output", outputs.join("\n"), secrets);
  for (const { path, dir } of modes(home.home)) {
    const rel = relative(home.home, path);
    if (dir || rel === "config.json" || rel === "signing.key" || rel.startsWith("pi-agent")) continue;
    assertNoSecret(rel, readFileSync(path, "utf8"), secrets);
  }
  assert.ok(readdirSync(home.home).includes("spool.jsonl"), "the spool was written (and checked)");
  writeFileSync(join(home.home, "logs", "extra.log"), "", { mode: 0o644 });
  await cli(home.env, "doctor");
  assert.ok(outputs.some((l) => /warn +file modes +readable by other users: .*extra\.log 0644/.test(l)), "doctor warns when a file is wider");
});
