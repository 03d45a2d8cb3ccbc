// The Lua loader (core/lua/index.ts): every file is a listed script or an include, includes are
// resolved once and leave no include line behind, the name carries a hash of the resolved source
// (changes when the source does), and every script compiles on a real redis-server.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { commandName, resolveLua, SCRIPT_FILES, scriptSource, type ScriptName } from "../../core/lua/index.ts";
import { startRedis } from "../harness/redis.ts";

const LUA_DIR = new URL("../../core/lua/", import.meta.url);
const names = Object.keys(SCRIPT_FILES) as ScriptName[];

test("lua: every .lua file in core/lua/ is a listed script, and none has a key count in its name", () => {
  const files = readdirSync(LUA_DIR).filter((f) => f.endsWith(".lua")).sort();
  assert.deepEqual(files, Object.values(SCRIPT_FILES).sort());
  for (const file of files) assert.doesNotMatch(file, /-\d+\.lua$/);
});

test("lua: includes are resolved (no include line left); the dead-letter record and the owner check each have one source", () => {
  for (const name of names) assert.doesNotMatch(scriptSource(name), /@include/, name);
  for (const name of ["drain", "ack", "lease", "release"] as const) assert.match(scriptSource(name), /local function leaseHolder/, name);
  for (const name of ["drain", "push", "deadLetter"] as const) {
    assert.match(scriptSource(name), /local function deadRecord/, name);
    assert.doesNotMatch(scriptSource(name).replace(/local function deadRecord[\s\S]*?\nend\n/, ""), /reason = /, `${name} builds no record of its own`);
  }
});

test("lua: an include is pulled in once; a missing one names the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "lua-loader-"));
  mkdirSync(join(dir, "includes"));
  writeFileSync(join(dir, "includes", "a.lua"), "local A = 1\n");
  writeFileSync(join(dir, "main.lua"), '--- @include "includes/a"\n--- @include "includes/a.lua"\nreturn A\n');
  writeFileSync(join(dir, "broken.lua"), '--- @include "includes/missing"\n');
  const url = pathToFileURL(dir + "/");
  const resolved = resolveLua("main.lua", url);
  assert.equal(resolved.split("local A = 1").length, 2, "included once");
  assert.match(resolved, /return A/);
  assert.doesNotMatch(resolved, /@include/);
  assert.throws(() => resolveLua("broken.lua", url), /includes\/missing\.lua not found/);
});

test("lua: a #! flags line stays the script's first line above its includes; one in an include or further down is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "lua-shebang-"));
  mkdirSync(join(dir, "includes"));
  writeFileSync(join(dir, "includes", "a.lua"), "local A = 1\n");
  writeFileSync(join(dir, "includes", "flagged.lua"), "#!lua flags=allow-oom\nlocal B = 2\n");
  writeFileSync(join(dir, "main.lua"), '#!lua flags=allow-oom\n--- @include "includes/a"\nreturn A\n');
  writeFileSync(join(dir, "via-include.lua"), '--- @include "includes/flagged"\nreturn B\n');
  writeFileSync(join(dir, "late.lua"), "local C = 3\n#!lua flags=allow-oom\nreturn C\n");
  const url = pathToFileURL(dir + "/");
  assert.equal(resolveLua("main.lua", url), "#!lua flags=allow-oom\nlocal A = 1\n\nreturn A\n");
  assert.throws(() => resolveLua("via-include.lua", url), /flagged\.lua: a #! line belongs on the first line of a script, not in an include/);
  assert.throws(() => resolveLua("late.lua", url), /late\.lua: a #! line belongs on the first line of a script, not further down/);
});

test("lua: names carry a content hash, distinct per script, stable across calls", () => {
  const commands = names.map(commandName);
  assert.equal(new Set(commands).size, names.length);
  for (const [i, name] of names.entries()) assert.match(commands[i]!, new RegExp(`^gateway_${name}_[0-9a-f]{12}$`));
  assert.equal(commandName("drain"), commands[names.indexOf("drain")]);
});

test("lua: every script compiles on redis-server", async () => {
  const server = await startRedis();
  const redis = server.client();
  for (const name of names) assert.match(String(await redis.script("LOAD", scriptSource(name))), /^[0-9a-f]{40}$/, name);
});
