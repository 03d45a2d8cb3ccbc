// Is the gateway extension registered with pi: settings.json "packages" (what setup writes) or
// "extensions", or a link in pi's extensions folder.
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../../core/package-root.ts";
import { result, type Check } from "./check.ts";

const REPO = PACKAGE_ROOT;
const real = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

function entries(settingsFile: string): string[] {
  if (!existsSync(settingsFile)) return [];
  try {
    const data = JSON.parse(readFileSync(settingsFile, "utf8")) as Record<string, unknown>;
    const list = [...((data.packages as unknown[]) ?? []), ...((data.extensions as unknown[]) ?? [])];
    return list
      .map((e) => (e && typeof e === "object" ? (e as { source?: unknown }).source : e))
      .filter((e): e is string => typeof e === "string")
      .map((e) => real(resolve(dirname(settingsFile), e)));
  } catch {
    return [];
  }
}

export const extensionCheck: Check = async ({ env }) => {
  const agentDir = env.PI_CODING_AGENT_DIR || join(env.HOME || homedir(), ".pi", "agent");
  const settings = join(agentDir, "settings.json");
  const repo = real(REPO);
  const targets = new Set([repo, join(repo, "extension"), join(repo, "extension", "index.ts")]);
  if (entries(settings).some((e) => targets.has(e))) return [result("extension", "ok", `registered in ${settings}`)];
  const folder = join(agentDir, "extensions");
  const linked = existsSync(folder) && readdirSync(folder).some((name) => targets.has(real(join(folder, name))));
  if (linked) return [result("extension", "ok", `linked from ${folder}`)];
  return [result("extension", "fail", `pi does not load ${repo} (not in ${settings} "packages")`, `./setup.sh 1 (or add "${repo}" to "packages" in ${settings})`)];
};
