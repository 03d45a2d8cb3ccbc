// The gateway's atomic Redis operations, one Lua file each under core/scripts/ (BullMQ-style:
// the file opens with its KEYS/ARGV/returns). They are registered with ioredis under a
// versioned name, so two gateway versions sharing one Redis never run each other's scripts.
import { readFileSync } from "node:fs";
import { exists as isRedisCommand } from "@ioredis/commands";
import type { Redis } from "ioredis";

/** Bump when any script's KEYS/ARGV/return contract changes. */
export const SCRIPTS_VERSION = 2;

const FILES = {
  push: "push-3.lua",
  drain: "drain.lua",
  ack: "ack-2.lua",
  deadLetter: "dead-letter-2.lua",
  lease: "lease-2.lua",
  release: "release-2.lua",
  requeue: "requeue-2.lua",
} as const;
export type ScriptName = keyof typeof FILES;

const sources = new Map<ScriptName, string>();
function source(name: ScriptName): string {
  let lua = sources.get(name);
  if (!lua) {
    lua = readFileSync(new URL(`./scripts/${FILES[name]}`, import.meta.url), "utf8");
    sources.set(name, lua);
  }
  return lua;
}

export function commandName(name: ScriptName): string {
  return `gateway_${name}_v${SCRIPTS_VERSION}`;
}

const defined = new WeakSet<Redis>();
function define(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const name of Object.keys(FILES) as ScriptName[]) {
    const command = commandName(name);
    // A name Redis already knows would shadow the real command on this client.
    if (isRedisCommand(command)) throw new Error(`script name ${command} clashes with a Redis command`);
    redis.defineCommand(command, { lua: source(name) });
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
