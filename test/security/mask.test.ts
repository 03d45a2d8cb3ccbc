// One masking function for Redis URLs (core/mask.ts), tried on every URL shape ioredis accepts,
// and setup.sh's shell twin (it runs before node_modules exist) checked on the same table.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { maskUrl } from "../../core/mask.ts";
import { REPO } from "../harness/sandbox.ts";

// [url as configured, as shown]; ioredis parses each of these (see its parseURL).
const SHAPES: [string, string][] = [
  ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379"],
  ["redis://:S3cr3t@host:6379", "redis://:***@host:6379"],
  ["redis://:Pa@ssWord99@host:6379", "redis://:***@host:6379"],
  ["redis://default:p%40ss@host/2", "redis://default:***@host/2"],
  ["redis://alice:pa:ss@host", "redis://alice:***@host"],
  ["redis://justapassword@host", "redis://***@host"],
  ["rediss://user:tls-secret@[::1]:6380/0", "rediss://user:***@[::1]:6380/0"],
  ["redis://host:6379?password=S3cr3t", "redis://host:6379?password=***"],
  ["redis://host:6379/1?db=1&password=S3cr3t&family=6", "redis://host:6379/1?db=1&password=***&family=6"],
  ["redis://u:p@host?sentinelPassword=x&tls=true", "redis://u:***@host?sentinelPassword=***&tls=true"],
  ["//:pw@host:6379", "//:***@host:6379"],
  ["/tmp/redis.sock?password=S3cr3t", "/tmp/redis.sock?password=***"],
  ["6379", "6379"],
];

test("maskUrl hides the password in every URL shape ioredis accepts, and nothing else", () => {
  for (const [url, shown] of SHAPES) assert.equal(maskUrl(url), shown, url);
});

test("setup.sh's masked_url shows the same as maskUrl for URLs with a scheme", () => {
  const setup = readFileSync(join(REPO, "setup.sh"), "utf8");
  const fn = /^masked_url\(\) \{[\s\S]*?^\}/m.exec(setup)![0];
  for (const [url, shown] of SHAPES.filter(([u]) => u.includes("//"))) {
    const run = spawnSync("bash", ["-c", `${fn}\nmasked_url "$1"`, "-", url], { encoding: "utf8" });
    assert.equal(run.stdout, shown, url);
  }
});
