// File modes: the gateway's home holds secrets (config.json, signing.key), event payloads (the
// spool, logs) and conversations (daemon sessions). Warns when any of them, or a directory on
// the way to them, is readable by others.
import { join } from "node:path";
import { widerThanPrivate } from "../../core/private-files.ts";
import { signingKeyPath } from "../../core/signing.ts";
import { rejectedPath } from "../../core/spool.ts";
import { result, type Check } from "./check.ts";

export const fileModeChecks: Check = async ({ config }) => {
  const { home, paths } = config;
  const daemon = join(home, "daemon");
  const secrets = [home, paths.configFile, signingKeyPath(home), paths.spool, rejectedPath(paths.spool), daemon];
  const wide = widerThanPrivate(secrets, [paths.logs, join(daemon, "sessions")]);
  if (wide.length === 0) return [result("file modes", "ok", `${home} and its files are user-only (0700 / 0600)`)];
  const shown = wide.slice(0, 5).map((w) => `${w.path} ${w.mode}`).join(", ");
  return [
    result(
      "file modes",
      "warn",
      `readable by other users: ${shown}${wide.length > 5 ? ` and ${wide.length - 5} more` : ""}`,
      `chmod -R go-rwx ${home}`,
    ),
  ];
};
