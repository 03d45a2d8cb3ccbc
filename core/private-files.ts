// The gateway's files hold secrets (config.json: tokens; the spool and logs: event payloads;
// daemon sessions: conversations; signing.key): user-only, 0600 files in 0700 directories, on
// every write. `widerThanPrivate` is what doctor reports.
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** Creates `dir` (and parents) 0700, and narrows it when it already exists wider. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  narrow(dir, PRIVATE_DIR);
}

/** Takes group/other bits off an existing file or directory (a no-op when already private). */
export function narrow(path: string, mode: number): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode);
  } catch {
    // vanished meanwhile, or not ours to change: doctor reports it
  }
}

export interface WideEntry {
  path: string;
  mode: string;
}

/** Which of `paths`, and of the entries directly inside the directories `walk`, are readable
 *  by group or others (missing ones are skipped). */
export function widerThanPrivate(paths: string[], walk: string[] = []): WideEntry[] {
  const found: WideEntry[] = [];
  const check = (path: string) => {
    const { mode } = statSync(path);
    if ((mode & 0o077) !== 0) found.push({ path, mode: (mode & 0o777).toString(8).padStart(4, "0") });
  };
  for (const path of paths) if (existsSync(path)) check(path);
  for (const dir of walk) {
    if (!existsSync(dir)) continue;
    check(dir);
    for (const name of readdirSync(dir)) check(join(dir, name));
  }
  return found;
}
