// Node and pi versions: pi needs Node >= 20.6, and setup needs `pi` on PATH.
import { spawnSync } from "node:child_process";
import { result, type Check } from "./check.ts";

const PI_INSTALL = "npm install -g @mariozechner/pi-coding-agent";

export const runtimeChecks: Check = async (ctx) => {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 6);
  const node = nodeOk
    ? result("node", "ok", `Node.js ${process.versions.node}`)
    : result("node", "fail", `Node.js ${process.versions.node} is too old (>= 20.6 needed)`, "install Node.js 22 (nvm install 22, or brew install node)");
  // pi prints its version on stderr.
  const probe = spawnSync("pi", ["--version"], { encoding: "utf8", env: ctx.env, timeout: 20_000 });
  const version = `${probe.stdout ?? ""}${probe.stderr ?? ""}`.trim().split("\n").at(-1);
  const pi =
    probe.status === 0 && version
      ? result("pi", "ok", `pi ${version}`)
      : result("pi", "fail", "pi is not installed or not on PATH", PI_INSTALL);
  return [node, pi];
};
