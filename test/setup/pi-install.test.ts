// setup.sh tier 1 on a machine without pi: it asks (no terminal: the default, yes), installs pi
// with `npm install -g`, records it in the manifest, and --uninstall removes it with
// `npm uninstall -g`. npm is a stand-in first on PATH (test/harness/fake-npm.ts) that records
// its arguments and drops a fake pi, so nothing is installed on this machine; the rest of the
// setup is real (bash, a harness redis-server, the real npm for everything else).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FAKE_PI_VERSION, fakeNpm, PI_PACKAGE } from "../harness/fake-npm.ts";
import { startRedis } from "../harness/redis.ts";
import { createSandbox } from "../harness/sandbox.ts";

const redis = await startRedis();
const npm = fakeNpm();
const box = createSandbox(redis.url, { path: npm.path });
const piCalls = () => npm.calls().filter((args) => args.includes(PI_PACKAGE));

test("setup.sh 1 with no pi on PATH installs it with npm install -g, then goes on with it", async () => {
  assert.equal(existsSync(npm.pi), false);
  const result = await box.setup(["1"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, new RegExp(`installed pi \\(npm install -g ${PI_PACKAGE}\\)`));
  assert.match(result.stdout, new RegExp(`pi ${FAKE_PI_VERSION.replace(/\./g, "\\.")}`), "the installed pi is the one setup checks");
  assert.deepEqual(piCalls(), [["install", "-g", "--no-audit", "--no-fund", PI_PACKAGE]]);
  assert.ok(existsSync(npm.pi));
  assert.match(readFileSync(join(box.gatewayHome, "setup-manifest"), "utf8"), new RegExp(`^package\\t${PI_PACKAGE}\\tnpm$`, "m"));
});

test("a second setup.sh 1 finds pi and installs nothing", async () => {
  const result = await box.setup(["1"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.doesNotMatch(result.stdout, /installed pi/);
  assert.equal(piCalls().length, 1);
});

test("setup.sh --uninstall removes the pi it installed with npm uninstall -g", async () => {
  const result = await box.setup(["--uninstall"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, new RegExp(`removed {3}package ${PI_PACKAGE}`));
  assert.deepEqual(piCalls().at(-1), ["uninstall", "-g", PI_PACKAGE]);
  assert.equal(existsSync(npm.pi), false);
});
