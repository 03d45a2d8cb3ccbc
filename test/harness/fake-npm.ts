// A stand-in `npm` for the setup path that installs pi (tier 1 on a machine without pi): first
// on PATH, it records each call; `npm install -g @mariozechner/pi-coding-agent` drops a fake
// `pi` (it answers --version) into its bin directory and `npm uninstall -g` of it removes that
// again; every other call runs the real npm. Its PATH leaves out the directories holding a real
// pi, so setup finds none. Removed when the test file ends.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

export const PI_PACKAGE = "@mariozechner/pi-coding-agent";
export const FAKE_PI_VERSION = "0.0.0-fake";

export interface FakeNpm {
  /** PATH for the sandbox: this bin directory, then the test's PATH without any real pi. */
  path: string;
  /** Where the fake pi lands once installed. */
  pi: string;
  /** Each call's arguments, in order. */
  calls(): string[][];
}

export function fakeNpm(): FakeNpm {
  const bin = mkdtempSync(join(tmpdir(), "agent-gateway-fake-npm-"));
  after(() => rmSync(bin, { recursive: true, force: true }));
  const log = join(bin, "calls.log");
  const pi = join(bin, "pi");
  const searched = (process.env.PATH ?? "").split(":").filter((dir) => dir && !existsSync(join(dir, "pi")));
  const realNpm = spawnSync("bash", ["-c", "command -v npm"], { env: { PATH: searched.join(":") }, encoding: "utf8" }).stdout.trim();
  if (!realNpm) throw new Error("npm is not on PATH (outside the directories that hold pi): the fake npm passes other calls to it");
  writeFileSync(
    join(bin, "npm"),
    `#!/usr/bin/env bash
# Written by test/harness/fake-npm.ts.
(IFS=$'\\t'; printf '%s\\n' "$*") >> '${log}'
if [ "$1" = install ] && [ "$2" = -g ] && [ "\${*: -1}" = '${PI_PACKAGE}' ]; then
  printf '#!/bin/sh\\n[ "$1" = --version ] && echo ${FAKE_PI_VERSION} >&2\\nexit 0\\n' > '${pi}'
  chmod +x '${pi}'
  exit 0
fi
if [ "$1" = uninstall ] && [ "$2" = -g ] && [ "$3" = '${PI_PACKAGE}' ]; then rm -f '${pi}'; exit 0; fi
exec '${realNpm}' "$@"
`,
  );
  chmodSync(join(bin, "npm"), 0o755);
  return {
    path: [bin, ...searched].join(":"),
    pi,
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n").map((line) => line.split("\t")) : []),
  };
}
