// The build users run: `npm pack`, then `npm install -g <tarball>` into a throwaway prefix, then
// `agent-gateway push` from that install against a real redis-server; every export resolves with
// its types, and every `import … from "agent-gateway…"` line shown in README.md and docs/ resolves
// to names the package exports. `push` loads none of the worker's, daemon's or pi's packages.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { REPO } from "../harness/sandbox.ts";
import { startRedis } from "../harness/redis.ts";

const redis = await startRedis();
const work = mkdtempSync(join(tmpdir(), "agent-gateway-pack-"));
after(() => rmSync(work, { recursive: true, force: true }));
const prefix = join(work, "prefix");
const installed = join(prefix, "lib", "node_modules", "agent-gateway");
const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_audit: "false", npm_config_fund: "false" };

test("npm pack, then npm install -g <tarball>: agent-gateway push works from that install", { timeout: 600_000 }, () => {
  // --ignore-scripts: `npm test` has just built dist/ (pretest), so npm's prepare would only build it again.
  const tarball = execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", work], { cwd: REPO, env: npmEnv, encoding: "utf8" }).trim().split("\n").at(-1)!;
  // --prefer-offline: the dependencies come from npm's cache when they are there (npm ci put them there).
  execFileSync("npm", ["install", "-g", "--prefer-offline", "--prefix", prefix, join(work, tarball)], { env: npmEnv, stdio: "ignore" });
  const home = join(work, "home");
  const push = spawnSync(join(prefix, "bin", "agent-gateway"), ["push", "pack.test", "--payload", '{"ok":true}'], {
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, AGENT_GATEWAY_HOME: home, REDIS_URL: redis.url, GATEWAY_PREFIX: "pack" },
    encoding: "utf8",
  });
  assert.equal(push.status, 0, push.stderr);
  assert.equal(push.stderr, "", "no warning (a fresh build, Redis reachable)");
  assert.match(push.stdout, /^[0-9A-Z]{26}\n$/);
});

test("every export resolves, with its types, from the installed package", async () => {
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { exports: Record<string, string | { types: string; default: string }> };
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === "string") {
      assert.ok(existsSync(join(installed, target)), `${subpath} -> ${target}`);
      continue;
    }
    assert.ok(existsSync(join(installed, target.types)), `${subpath} types ${target.types}`);
    const probe = join(prefix, "lib", `probe-${subpath.replace(/\W/g, "_")}.mjs`);
    writeFileSync(probe, `const m = await import(${JSON.stringify(join("agent-gateway", subpath))}); console.log(Object.keys(m).length);`);
    const loaded = spawnSync(process.execPath, [probe], { encoding: "utf8" });
    assert.equal(loaded.status, 0, `${subpath}: ${loaded.stderr}`);
    assert.ok(Number(loaded.stdout) > 0, `${subpath} exports something`);
  }
});

test("every import line in README.md and docs/ resolves to names the package exports", async () => {
  const pages = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];
  const lines = pages.flatMap((page) =>
    [...readFileSync(join(REPO, page), "utf8").matchAll(/^import \{([^}]+)\} from "(agent-gateway[^"]*)";$/gm)].map((m) => ({ page, names: m[1]!, specifier: m[2]! })),
  );
  assert.ok(lines.length >= 2, "the docs show imports from the package");
  for (const { page, names, specifier } of lines) {
    const probe = join(prefix, "lib", "probe-docs.mjs");
    const wanted = names.split(",").map((n) => n.trim()).filter((n) => !n.startsWith("type ")); // types exist only at compile time
    writeFileSync(probe, `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(${JSON.stringify(wanted)}.filter((n) => !(n in m))));`);
    const loaded = spawnSync(process.execPath, [probe], { encoding: "utf8" });
    assert.equal(loaded.status, 0, `${page}: ${specifier}: ${loaded.stderr}`);
    assert.deepEqual(JSON.parse(loaded.stdout), [], `${page}: names missing from ${specifier}`);
  }
});

test("push loads no worker, daemon or pi package (every module it requires or imports, traced at run time)", () => {
  // croner is allowed: config validation checks schedules' cron fields in every process (exit 78 at start-up), ~9 ms.
  const forbidden = /^(hono|@hono\/|grammy|inngest|ws$|@mariozechner\/)/;
  const trace = join(work, "loaded.txt");
  const hooks = join(work, "trace-hooks.mjs");
  writeFileSync(hooks, `import { appendFileSync } from "node:fs";\nexport async function resolve(specifier, context, next) { appendFileSync(${JSON.stringify(trace)}, specifier + "\\n"); return next(specifier, context); }\n`);
  const tracer = join(work, "trace.mjs");
  writeFileSync(
    tracer,
    `import { register, createRequire } from "node:module"; import { appendFileSync } from "node:fs";
register(${JSON.stringify(pathToFileURL(hooks).href)});
const Module = createRequire(import.meta.url)("node:module");
const load = Module._load;
Module._load = function (request, ...rest) { appendFileSync(${JSON.stringify(trace)}, request + "\\n"); return load.call(this, request, ...rest); };\n`,
  );
  const home = join(work, "trace-home");
  const push = spawnSync(process.execPath, ["--import", tracer, join(REPO, "scripts", "agent-gateway.mjs"), "push", "trace.test"], {
    env: { ...process.env, HOME: home, AGENT_GATEWAY_HOME: home, REDIS_URL: redis.url, GATEWAY_PREFIX: "trace" },
    encoding: "utf8",
  });
  assert.equal(push.status, 0, push.stderr);
  const loaded = readFileSync(trace, "utf8").split("\n").filter(Boolean);
  assert.ok(loaded.some((s) => /^(node:)?net$/.test(s)), `the trace saw ioredis' requires: ${loaded.join(" ")}`);
  assert.deepEqual(loaded.filter((s) => forbidden.test(s)), []);
});
