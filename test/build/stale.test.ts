// A build older than the sources is named (after a `git pull` or an edit); in an installed
// package (no .git) npm's unpacking times mean nothing, so it counts as fresh. buildState is what
// the CLI's entry, doctor and setup ask.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildCommand, buildState } from "../../scripts/build-state.mjs";

const root = mkdtempSync(join(tmpdir(), "agent-gateway-build-"));
after(() => rmSync(root, { recursive: true, force: true }));
const at = (path: string, secondsAgo: number) => {
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(join(root, path), when, when);
};

test("no dist/: missing; a build newer than every source: fresh; a source edited after it: stale, named", () => {
  mkdirSync(join(root, ".git"));
  mkdirSync(join(root, "core", "scripts"), { recursive: true });
  writeFileSync(join(root, "core", "push.ts"), "");
  writeFileSync(join(root, "core", "scripts", "push-3.lua"), "");
  assert.deepEqual(buildState(root), { state: "missing" });

  mkdirSync(join(root, "dist"));
  writeFileSync(join(root, "dist", "build-stamp.json"), "{}");
  at("core/push.ts", 60);
  at("core/scripts/push-3.lua", 60);
  at("dist/build-stamp.json", 30);
  assert.deepEqual(buildState(root), { state: "fresh" });

  at("core/scripts/push-3.lua", 10);
  assert.deepEqual(buildState(root), { state: "stale", changed: join("core", "scripts", "push-3.lua") });
  assert.equal(buildCommand(root), `npm run build --prefix ${root}`);
});

test("outside a git checkout (an installed package) the build counts as fresh", () => {
  rmSync(join(root, ".git"), { recursive: true });
  assert.deepEqual(buildState(root), { state: "fresh" });
});
