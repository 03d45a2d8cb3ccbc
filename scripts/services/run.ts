// Runs a service manager's command (systemctl, launchctl, tmux scripts) and says what went wrong
// in one line, with the command, when it fails.
import { spawnSync } from "node:child_process";

export function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) return { ok: false, output: `${command}: ${result.error.message}` };
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

export function runOrThrow(command: string, args: string[]): string {
  const result = run(command, args);
  if (!result.ok) throw new Error(`\`${[command, ...args].join(" ")}\` failed${result.output ? `: ${result.output}` : ""}`);
  return result.output;
}
