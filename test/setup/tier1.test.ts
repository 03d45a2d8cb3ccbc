// setup.sh tier 1 in a temp HOME, for real: bash, npm, a harness redis-server, a real pi.
// Installs twice (the second run changes nothing), a pi started as that user loads the
// extension (it registers the central session in Redis), and --uninstall removes exactly
// what setup added while the user's own settings survive.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { VERSION } from "../../core/package-root.ts";
import { startRedis } from "../harness/redis.ts";
import { createSandbox, pollUntil, REPO, snapshot } from "../harness/sandbox.ts";

const redis = await startRedis();
const box = createSandbox(redis.url);
const settingsFile = join(box.home, ".pi", "agent", "settings.json");
const userSettings = { theme: "dark", packages: ["npm:pi-skills"] };
mkdirSync(join(box.home, ".pi", "agent"), { recursive: true });
writeFileSync(settingsFile, JSON.stringify(userSettings, null, 2));
mkdirSync(join(box.home, "notes"));
writeFileSync(join(box.home, "notes", "todo.txt"), "mine\n");
const before = snapshot(box.home);

test("setup.sh 1 --yes installs tier 1 and says what it did", async () => {
  const first = await box.setup(["1", "--yes"]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /Installed \(tier 1\)/);
  assert.match(first.stdout, /registered the extension with pi/);
  // ~/.local/bin is not on the sandbox's PATH: setup puts it there for new shells (a profile line)
  // and its last lines give this shell the export, then the command by its plain name.
  assert.ok(first.stdout.includes('  export PATH="$HOME/.local/bin:$PATH"\nVerify: agent-gateway doctor'), first.stdout);
  const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
  assert.deepEqual(settings, { ...userSettings, packages: ["npm:pi-skills", REPO] }, "the user's settings are kept, ours added");
  assert.deepEqual(JSON.parse(readFileSync(join(box.gatewayHome, "config.json"), "utf8")), { redisUrl: redis.url, role: "central" });
  assert.ok(lstatSync(join(box.home, ".local", "bin", "agent-gateway")).isSymbolicLink());
});

test("a new shell finds agent-gateway through setup's profile line, whatever PATH it started with", () => {
  const manifest = readFileSync(join(box.gatewayHome, "setup-manifest"), "utf8");
  const profile = /^profile-line\t([^\t]+)\t/m.exec(manifest)?.[1];
  assert.ok(profile, manifest);
  const shell = spawnSync("bash", ["-c", '. "$1" && command -v agent-gateway && agent-gateway --version', "_", profile], {
    env: { HOME: box.home, PATH: "/usr/bin:/bin", AGENT_GATEWAY_HOME: box.gatewayHome },
    encoding: "utf8",
  });
  assert.equal(shell.status, 0, shell.stderr);
  assert.equal(shell.stdout, `${join(box.home, ".local", "bin", "agent-gateway")}\nagent-gateway ${VERSION}\n`);
});

test("a second setup.sh 1 --yes changes nothing and says so", async () => {
  const files = snapshot(box.root, (rel) => rel.startsWith("npm-cache"));
  const second = await box.setup(["1", "--yes"]);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.match(second.stdout, /Nothing changed: tier 1 was already set up\./);
  assert.doesNotMatch(second.stdout, /changed {2}/);
  assert.deepEqual(snapshot(box.root, (rel) => rel.startsWith("npm-cache")), files);
});

test("a real pi started with that HOME loads the extension (the central session registers in Redis)", async () => {
  const pi = spawn(join(REPO, "node_modules", ".bin", "pi"), ["--mode", "rpc"], { cwd: box.home, env: box.env, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise((resolve) => pi.once("exit", resolve));
  let output = "";
  pi.stdout.on("data", (d) => (output += d));
  pi.stderr.on("data", (d) => (output += d));
  const client = redis.client();
  try {
    const lease = await pollUntil("the extension's lease for the central session", async () => (await client.get("agent:gateway:lease:gateway")) ?? undefined);
    assert.equal(JSON.parse(lease).role, "central");
    assert.equal(JSON.parse(lease).pid, pi.pid);
    assert.ok(await client.sismember("agent:gateway:sessions", "gateway"));
  } catch (error) {
    throw new Error(`${(error as Error).message}\npi said:\n${output}`);
  } finally {
    pi.kill("SIGTERM");
    await exited;
  }
});

test("setup.sh --uninstall removes what setup installed and nothing else", async () => {
  const result = await box.setup(["--uninstall"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /Uninstalled\./);
  assert.deepEqual(JSON.parse(readFileSync(settingsFile, "utf8")).packages, userSettings.packages);
  const after = snapshot(box.home);
  for (const [path, content] of before) {
    if (path === ".pi/agent/settings.json") continue; // pi itself records lastChangelogVersion there
    assert.equal(after.get(path), content, `${path} is untouched`);
  }
  // What is left beyond the user's files was written by pi itself while it ran, not by setup.
  const extra = [...after.keys()].filter((path) => !before.has(path));
  assert.deepEqual(extra.filter((path) => !/^\.pi\/agent\/(auth\.json|sessions\/)/.test(path)), []);
  const { theme, packages } = JSON.parse(readFileSync(settingsFile, "utf8"));
  assert.deepEqual({ theme, packages }, userSettings);
  // The gateway home keeps only runtime logs (the extension's), nothing setup wrote.
  assert.deepEqual([...snapshot(box.gatewayHome).keys()].filter((p) => !p.startsWith("logs/")), []);
});
