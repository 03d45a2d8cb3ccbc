// The gateway's atomic Redis operations: one Lua file each in this folder, opening with its
// KEYS/ARGV/returns, loaded the BullMQ way. Shared pieces live in includes/ and are pulled in
// by a `--- @include "includes/<name>"` line (each at most once per script), not copied. The
// key count is never in the file name: it is the length of the keys a call passes (drain's
// inbox list varies). Each script is registered under a name carrying a hash of its resolved
// source, so two gateway versions sharing one Redis never run each other's scripts and no
// version number needs bumping by hand.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { exists as isRedisCommand } from "@ioredis/commands";
import type { Redis } from "ioredis";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../package-root.ts";

const LUA_DIR = pathToFileURL(join(PACKAGE_ROOT, "core", "lua") + "/");

/** Script name → its file in this folder. */
export const SCRIPT_FILES = {
  push: "push.lua",
  drain: "drain.lua",
  drainMore: "drain-more.lua",
  historyAdd: "history-add.lua",
  hold: "hold.lua",
  releaseHeld: "release-held.lua",
  budgetTake: "budget-take.lua",
  ack: "ack.lua",
  deadLetter: "dead-letter.lua",
  lease: "lease.lua",
  release: "release.lua",
  requeue: "requeue.lua",
} as const;
export type ScriptName = keyof typeof SCRIPT_FILES;

const INCLUDE = /^--- @include "([\w./-]+)"\s*$/gm;

/** A file of this folder (or `dir`) with its includes resolved, each included once. */
// From the package root, so the sources and the bundle in dist/ both find the files.
export function resolveLua(file: string, dir: URL = LUA_DIR, seen = new Set<string>()): string {
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(new URL(file, dir), "utf8");
  } catch (error) {
    throw new Error(`Lua file ${file} not found in ${dir.pathname} (${(error as Error).message})`);
  }
  // Redis 7 reads script flags from a `#!lua flags=…` first line; anywhere else it is a syntax
  // error. Includes are expanded below it, so it stays first and counts in the content hash.
  const isInclude = seen.size > 1;
  if (isInclude ? /^#!/m.test(text) : /\n#!/.test(text)) {
    throw new Error(`Lua file ${file}: a #! line belongs on the first line of a script, not ${isInclude ? "in an include" : "further down"}`);
  }
  return text.replace(INCLUDE, (_line, name: string) => {
    const included = name.endsWith(".lua") ? name : `${name}.lua`;
    return seen.has(included) ? "" : resolveLua(included, dir, seen);
  });
}

interface Loaded {
  lua: string;
  command: string;
}

const loaded = new Map<ScriptName, Loaded>();
function load(name: ScriptName): Loaded {
  let script = loaded.get(name);
  if (!script) {
    const lua = resolveLua(SCRIPT_FILES[name]);
    script = { lua, command: `gateway_${name}_${createHash("sha1").update(lua).digest("hex").slice(0, 12)}` };
    loaded.set(name, script);
  }
  return script;
}

/** The resolved source a script runs (what EVAL gets). */
export function scriptSource(name: ScriptName): string {
  return load(name).lua;
}

/** The ioredis command name: the script's name and the hash of its resolved source. */
export function commandName(name: ScriptName): string {
  return load(name).command;
}

const defined = new WeakSet<Redis>();
function define(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
    const { command, lua } = load(name);
    // A name Redis already knows would shadow the real command on this client.
    if (isRedisCommand(command)) throw new Error(`script name ${command} clashes with a Redis command`);
    redis.defineCommand(command, { lua });
  }
  defined.add(redis);
}

type ScriptArg = string | number | Buffer;
type ScriptCaller = (numKeys: number, keys: readonly string[], args: readonly ScriptArg[]) => Promise<unknown>;

/**
 * Runs one gateway script (EVALSHA, falling back to EVAL once per server). With `asBuffers`,
 * bulk replies come back as Buffers: entries that are not valid UTF-8 keep their exact bytes,
 * so a later LREM by value still finds them.
 */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
  asBuffers = false,
): Promise<unknown> {
  define(redis);
  const call = (redis as unknown as Record<string, ScriptCaller>)[commandName(name) + (asBuffers ? "Buffer" : "")]!;
  // Arrays, not spread: ioredis flattens them, and a spread of 100 000s of arguments overflows the stack.
  return call.call(redis, keys.length, keys, args);
}
