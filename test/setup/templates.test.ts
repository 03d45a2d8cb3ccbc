// The service templates as setup renders them: plists parse as property lists (python3's
// plistlib, a strict parser) and keep KeepAlive/ThrottleInterval; systemd units carry the
// restart keys and pass `systemd-analyze verify` where that binary exists. Values with XML and
// systemd special characters must survive rendering unchanged.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { renderText } from "../../scripts/setup/render.ts";
import { REPO } from "../harness/sandbox.ts";

const out = mkdtempSync(join(tmpdir(), "agent-gateway-templates-"));
after(() => rmSync(out, { recursive: true, force: true }));
const home = join(out, "home <&> 100%");
mkdirSync(home);
const values = { NODE: process.execPath, REPO, HOME: home, GATEWAY_HOME: join(home, "gw"), PATH: "/usr/local/bin:/usr/bin:/bin" };

function render(dir: string, name: string): string {
  const text = renderText(readFileSync(join(REPO, dir, name), "utf8"), values, name.endsWith(".plist") ? "plist" : "unit");
  const file = join(out, name);
  writeFileSync(file, text);
  return file;
}

/** The keys of a launchd property list that these tests read. */
interface Plist {
  Label: string;
  EnvironmentVariables: Record<string, string>;
  ProgramArguments: string[];
  KeepAlive: unknown;
  ThrottleInterval: number;
  RunAtLoad: boolean;
  StartInterval: number;
}

function parsePlist(file: string): Plist {
  const py = spawnSync("python3", ["-c", "import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))", file], { encoding: "utf8" });
  assert.equal(py.status, 0, `plistlib rejected ${file}: ${py.stderr}`);
  return JSON.parse(py.stdout);
}

/** `Key=value` lines of a unit file, section by section. */
function parseUnit(file: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current = "";
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      sections[current] = {};
    }
    else if (current && /^[A-Za-z]+=/.test(line)) sections[current]![line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  }
  return sections;
}

// Setup's own services (tier 4 adds the daemon's, tested with it).
const plists = ["dev.agent-gateway.worker.plist", "dev.agent-gateway.central.plist", "dev.agent-gateway.tripwire.plist"];
const units = ["agent-gateway-worker.service", "agent-gateway-central.service", "agent-gateway-tripwire.service", "agent-gateway-tripwire.timer"];

test("rendered plists parse as property lists, with paths containing <&>% intact", () => {
  for (const name of plists) {
    const plist = parsePlist(render("launchagents", name));
    assert.equal(plist.Label, name.replace(/\.plist$/, ""));
    assert.equal(plist.EnvironmentVariables.AGENT_GATEWAY_HOME, values.GATEWAY_HOME);
    assert.ok(Array.isArray(plist.ProgramArguments) && plist.ProgramArguments.length >= 2);
  }
});

test("worker and central plists restart only after a failure, throttled", () => {
  for (const name of ["dev.agent-gateway.worker.plist", "dev.agent-gateway.central.plist"]) {
    const plist = parsePlist(render("launchagents", name));
    assert.deepEqual(plist.KeepAlive, { SuccessfulExit: false }, name);
    assert.ok(plist.ThrottleInterval >= 10, name);
    assert.equal(plist.RunAtLoad, true, name);
  }
  const worker = parsePlist(render("launchagents", "dev.agent-gateway.worker.plist"));
  assert.deepEqual(worker.ProgramArguments, [process.execPath, `${REPO}/scripts/agent-gateway.mjs`, "worker"]);
});

test("the tripwire plist runs tripwire-check every 5 minutes", () => {
  const plist = parsePlist(render("launchagents", "dev.agent-gateway.tripwire.plist"));
  assert.equal(plist.StartInterval, 300);
  assert.equal(plist.ProgramArguments.at(-1), "tripwire-check");
});

test("systemd services restart on failure but never after exit 78", () => {
  for (const name of ["agent-gateway-worker.service", "agent-gateway-central.service"]) {
    const { Service } = parseUnit(render("launchagents/systemd", name));
    assert.equal(Service!.Restart, "on-failure", name);
    assert.equal(Service!.RestartPreventExitStatus, "78", name);
    assert.ok(Number(Service!.RestartSec) > 0, name);
  }
  const timer = parseUnit(render("launchagents/systemd", "agent-gateway-tripwire.timer"));
  assert.equal(timer.Timer!.OnUnitActiveSec, "5min");
  assert.equal(timer.Timer!.Unit, "agent-gateway-tripwire.service");
  // A literal % must reach systemd as %% (it expands %-specifiers).
  assert.match(readFileSync(render("launchagents/systemd", "agent-gateway-worker.service"), "utf8"), /100%%\/gw/);
});

test("systemd-analyze verify accepts the rendered units", (t) => {
  if (spawnSync("systemd-analyze", ["--version"]).error) {
    t.skip("systemd-analyze is not installed here (not the feature under test: the unit keys are checked above)");
    return;
  }
  const files = units.map((name) => render("launchagents/systemd", name));
  const verify = spawnSync("systemd-analyze", ["verify", ...files], { encoding: "utf8" });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /agent-gateway/, verify.stderr);
});
