// Is the build in dist/ there, and is it at least as new as the TypeScript sources (a `git pull`
// or an edit makes it stale)? Only a git checkout is compared: an installed package's files all
// carry the time npm unpacked them, and nobody edits them. Plain JavaScript: the CLI's entry and
// the build itself ask this before any build exists.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** The directories whose .ts files the build compiles. */
export const SOURCE_DIRS = ["core", "extension", "extensions", "worker", "daemon", "scripts"];
export const STAMP = join("dist", "build-stamp.json");

function newestSource(root) {
  let newest = { path: "", mtimeMs: 0 };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") || entry.name.endsWith(".lua")) {
        const { mtimeMs } = statSync(path);
        if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
      }
    }
  };
  for (const dir of SOURCE_DIRS) {
    try {
      walk(join(root, dir));
    } catch {
      // a published package may leave a directory out
    }
  }
  return newest;
}

/**
 * `{ state: "fresh" }`, `{ state: "missing" }`, or `{ state: "stale", changed }` naming the newest
 * source file written after the build.
 */
export function buildState(root) {
  let built;
  try {
    built = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    return { state: "missing" };
  }
  if (!existsSync(join(root, ".git"))) return { state: "fresh" };
  const newest = newestSource(root);
  return newest.mtimeMs > built ? { state: "stale", changed: relative(root, newest.path) } : { state: "fresh" };
}

/** The command that (re)builds, for messages. */
export function buildCommand(root) {
  return `npm run build --prefix ${JSON.stringify(root).slice(1, -1)}`;
}
