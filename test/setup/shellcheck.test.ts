// Every shell script of the project (setup.sh, scripts/*.sh, .ci/run) is shellcheck-clean.
// shellcheck comes from Debian's packages (`.ci/run` installs it when missing).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "../harness/sandbox.ts";

function shellScripts(): string[] {
  const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" });
  assert.equal(listed.status, 0, listed.stderr);
  return listed.stdout
    .split("\n")
    .filter(Boolean)
    .filter((file) => file.endsWith(".sh") || /^#!.*\b(ba)?sh\b/.test(readFileSync(join(REPO, file), "utf8").slice(0, 80)) || file === ".ci/run");
}

test("shellcheck is clean on every shell script", () => {
  const probe = spawnSync("shellcheck", ["--version"]);
  assert.ok(!probe.error, "shellcheck is not installed: apt-get install -y shellcheck (.ci/run does this)");
  const scripts = shellScripts();
  for (const required of ["setup.sh", ".ci/run", "scripts/keep-running.sh", "scripts/central-session.sh"]) assert.ok(scripts.includes(required), required);
  const result = spawnSync("shellcheck", ["--severity=style", ...scripts], { cwd: REPO, encoding: "utf8" });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
