#!/usr/bin/env node
// `npm run build` (also npm's `prepare`, so `npm ci` and `npm pack` leave a runnable build):
// esbuild bundles the CLI (dist/cli.cjs) and the public entry points into dist/, with ioredis and
// zod inside, because loading their hundreds of module files is most of a command's start-up. tsc then writes the public types to dist/types/.
// pi loads the extension from its TypeScript itself: a bundled extension measured no faster
// (to "connected": 5.1-6.4 s from source, 5.4-6.7 s bundled, same run).
// `--if-stale`: only when dist/ is missing or older than the sources (setup, `npm test`).
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildState } from "./build-state.mjs";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

if (process.argv.includes("--if-stale") && buildState(ROOT).state === "fresh") process.exit(0);

const { build } = await import("esbuild");
const started = Date.now();
// Built beside dist/ and swapped in at the end, so a command started meanwhile finds a whole build.
const next = join(ROOT, "dist.next");
rmSync(next, { recursive: true, force: true });
const shared = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: "node",
  target: "node20",
  // Bundled: what `push` needs (ioredis, zod). Loaded from node_modules as they are: what only the
  // worker, the daemon and the extension use, and pi itself (a peer dependency).
  external: ["@mariozechner/*", "hono", "hono/*", "@hono/node-server", "grammy", "grammy/*", "inngest", "inngest/*", "croner", "ws"],
  minify: true,
  sourcemap: true,
  logLevel: "warning",
};
// The public entry points, as ES modules for `import … from "agent-gateway"`, and the CLI as ES
// modules for the daemon: it imports pi (an ES module only), and code run through vm.Script
// cannot import() once its code cache is used (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
await build({
  ...shared,
  entryPoints: ["scripts/cli.ts", "core/index.ts", "worker/notify.ts"],
  outdir: next,
  outbase: ".",
  splitting: true,
  format: "esm",
  // ioredis is CommonJS and requires node's modules; an ES module has no `require` of its own.
  banner: { js: 'import { createRequire as __agCreateRequire } from "node:module"; const require = __agCreateRequire(import.meta.url);' },
  chunkNames: "chunks/[name]-[hash]",
});
// The CLI, as one CommonJS file: Node 20 can keep a code cache only for CommonJS (see
// scripts/compile-cache.mjs). Each command's module still runs only when that command does.
// It must hold no import() of a package (the test in test/build/compile-cache.test.ts checks).
await build({
  ...shared,
  entryPoints: ["scripts/cli.ts"],
  outfile: join(next, "cli.cjs"),
  format: "cjs",
  define: { "import.meta.url": "__agModuleUrl" },
  banner: { js: 'var __agModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
});
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.types.json")], { stdio: "inherit" });
if (tsc.status !== 0) {
  console.error("build: tsc could not write the types (see above)");
  process.exit(1);
}
writeFileSync(join(next, "build-stamp.json"), JSON.stringify({ builtAt: new Date().toISOString() }) + "\n");
const old = join(ROOT, "dist.old");
rmSync(old, { recursive: true, force: true });
if (existsSync(join(ROOT, "dist"))) renameSync(join(ROOT, "dist"), old);
renameSync(next, join(ROOT, "dist"));
rmSync(old, { recursive: true, force: true });
console.log(`build: dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
