// The supervisor fallback (scripts/keep-running.sh): by default exit 0 and 78 end it (the
// worker and tripwire rule); with --always (the central pi) every exit but 78 restarts, with a
// back-off doubling from 1 s. And the central service files run it that way through tmux.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "../harness/sandbox.ts";

const KEEP = join(REPO, "scripts/keep-running.sh");

/** A command that counts its runs in a file and exits with the codes given, one per run. */
function run(args: string[], codes: number[]) {
  const dir = mkdtempSync(join(tmpdir(), "keep-running-"));
  const count = join(dir, "runs");
  const script = `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}; codes=(${codes.join(" ")}); exit \${codes[$((n-1))]}`;
  const started = Date.now();
  const result = spawnSync("bash", [KEEP, ...args, "bash", "-c", script], { encoding: "utf8", env: { ...process.env, KEEP_RUNNING_DELAY: "0" }, timeout: 30_000 });
  return { status: result.status, stderr: result.stderr, runs: Number(readFileSync(count, "utf8")), took: Date.now() - started };
}

test("keep-running (worker, tripwire): exit 0 ends the loop, a failure restarts, 78 ends it", () => {
  assert.deepEqual(
    (({ status, runs }) => ({ status, runs }))(run([], [3, 0])),
    { status: 0, runs: 2 },
  );
  const config = run([], [1, 78, 0]);
  assert.equal(config.status, 78);
  assert.equal(config.runs, 2);
  assert.match(config.stderr, /configuration error \(exit 78\)/);
});

test("keep-running --always (the central pi): exit 0 restarts too, backing off 1 s then 2 s; only 78 ends it", () => {
  const result = run(["--always"], [0, 1, 78]);
  assert.equal(result.status, 78);
  assert.equal(result.runs, 3, "restarted after exit 0 and after exit 1");
  assert.match(result.stderr, /status 0; restarting in 1s/);
  assert.match(result.stderr, /status 1; restarting in 2s/);
  assert.ok(result.took >= 3_000, `waited 1 s + 2 s (${result.took} ms)`);
});

test("the central session runs pi under keep-running --always, supervised and explicitly central", () => {
  const script = readFileSync(join(REPO, "scripts/central-session.sh"), "utf8");
  assert.match(script, /keep-running\.sh" --always "\$pi_bin"/);
  assert.match(script, /GATEWAY_ROLE=central -e GATEWAY_SUPERVISED=1/);
});
