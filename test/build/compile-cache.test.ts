// The CLI keeps V8's compiled code per command in the user's cache directory (0700, files 0600):
// the first `push` writes it, the next one reads it and writes nothing; a damaged cache is
// rejected by V8 and replaced, never a failure; a directory others could write to is not used
// (a planted cache would be code run as the user).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startRedis } from "../harness/redis.ts";
import { REPO } from "../harness/sandbox.ts";

const redis = await startRedis();
const work = mkdtempSync(join(tmpdir(), "agent-gateway-code-cache-"));
after(() => rmSync(work, { recursive: true, force: true }));

function push(cacheHome: string): void {
  const result = spawnSync(process.execPath, [join(REPO, "scripts", "agent-gateway.mjs"), "push", "cache.test"], {
    env: { ...process.env, HOME: work, AGENT_GATEWAY_HOME: join(work, "home"), XDG_CACHE_HOME: cacheHome, REDIS_URL: redis.url, GATEWAY_PREFIX: "cache" },
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^[0-9A-Z]{26}\n$/);
}

const mode = (path: string) => statSync(path).mode & 0o777;

test("the first push writes its code cache (private), the second reads it and writes nothing", () => {
  const cacheHome = join(work, "cache-a");
  push(cacheHome);
  const dir = join(cacheHome, "agent-gateway", "v8");
  const [file, ...others] = readdirSync(dir);
  assert.deepEqual(others, []);
  assert.match(file!, new RegExp(`^${process.version}-${process.arch}-[0-9a-f]{16}-push\\.bin$`));
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(join(dir, file!)), 0o600);
  const written = statSync(join(dir, file!)).mtimeMs;
  push(cacheHome);
  assert.equal(statSync(join(dir, file!)).mtimeMs, written, "an accepted cache is not rewritten");
});

test("a damaged cache is replaced, and the push still works", () => {
  const cacheHome = join(work, "cache-b");
  push(cacheHome);
  const dir = join(cacheHome, "agent-gateway", "v8");
  const [file] = readdirSync(dir);
  writeFileSync(join(dir, file!), "not a V8 code cache");
  push(cacheHome);
  assert.ok(statSync(join(dir, file!)).size > 1000, "V8 rejected the damaged cache and a new one was written");
});

test("a cache directory other users can write to is not used", () => {
  const cacheHome = join(work, "cache-c");
  const dir = join(cacheHome, "agent-gateway", "v8");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  push(cacheHome);
  assert.deepEqual(readdirSync(dir), []);
});

test("the cached bundle imports no package with import() (it would fail once cached), except pi, which only the daemon loads and the daemon runs as ES modules", () => {
  const bundle = readFileSync(join(REPO, "dist", "cli.cjs"), "utf8");
  const imported = [...bundle.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]);
  assert.deepEqual(imported, ["@mariozechner/pi-coding-agent"]);
  assert.match(readFileSync(join(REPO, "scripts", "agent-gateway.mjs"), "utf8"), /argv\[0\] === "daemon"/);
});
