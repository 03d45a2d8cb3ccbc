// Runs the CLI bundle (dist/cli.cjs) through V8's code cache, so a command does not compile a
// megabyte of JavaScript at every start: the first run of each command compiles as usual and
// saves what V8 compiled; later runs load that instead (about a third of `push`'s start-up).
// Node 22 has this built in (module.enableCompileCache); Node 20 has only vm.Script's cachedData,
// which works for CommonJS, hence the .cjs bundle. Code run this way cannot import() (Node needs
// a callback that a code cache does not keep), so the bundle must require what it loads. The cache is an optimisation: any problem with
// it (unwritable, foreign-owned, rejected by V8) means a normal compile, never a failure.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";

/** Where caches live: the user's own cache directory, never a shared /tmp (a cache is code). */
export function cacheDir(env = process.env) {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "agent-gateway", "v8");
}

/** The directory, made private, or undefined when it is not ours alone to read and write. */
function privateDir(dir) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = statSync(dir);
    // Another user able to write here could plant compiled code: do not use it.
    if (stats.uid !== process.getuid?.() || (stats.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Loads `file` (a CommonJS bundle) with a code cache kept per `name` (one per command: each
 * compiles different functions). Returns the module's exports and `save()`, to call once the
 * command has run, so the cache holds every function it needed.
 */
export function loadWithCodeCache(file, name, env = process.env) {
  const source = readFileSync(file, "utf8");
  const dir = privateDir(cacheDir(env));
  // The key names the exact bundle (its hash), the Node build and the command.
  const bundle = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const prefix = `${process.version}-${process.arch}-${bundle}-`;
  const path = dir && join(dir, `${prefix}${/^[a-z][a-z-]{0,31}$/.test(name) ? name : "other"}.bin`);
  let cachedData;
  try {
    if (path) cachedData = readFileSync(path);
  } catch {
    // none yet
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const save = () => {
    if (!path || (cachedData && !script.cachedDataRejected)) return;
    try {
      const temporary = `${path}.${process.pid}`;
      writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
      chmodSync(temporary, 0o600);
      renameSync(temporary, path);
      // Caches of older bundles or Node versions are never read again.
      for (const old of readdirSync(dir)) if (!old.startsWith(prefix)) unlinkSync(join(dir, old));
    } catch {
      // a cache not written costs the next run a compile, nothing more
    }
  };
  return { exports: module.exports, save };
}
