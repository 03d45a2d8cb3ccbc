#!/usr/bin/env node
// The `agent-gateway` command: runs the build in dist/ (bundled by scripts/build.mjs, no
// TypeScript at run time), through V8's code cache (scripts/compile-cache.mjs). A missing build stops with the command that makes one; one older than
// the sources (after `git pull` or an edit) still runs, with a warning naming that command.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommand, buildState } from "./build-state.mjs";
import { loadWithCodeCache } from "./compile-cache.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const build = buildState(root);
if (build.state === "missing") {
  process.stderr.write(`agent-gateway: not built yet (no ${root}/dist); run: ${buildCommand(root)}\n`);
  process.exit(1);
}
if (build.state === "stale") {
  process.stderr.write(`agent-gateway: warning: the build in ${root}/dist is older than ${build.changed}; run: ${buildCommand(root)}\n`);
}
// A closed pipe (`agent-gateway status | head -3`) ends the command quietly, as it would a C tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
const argv = process.argv.slice(2);
if (argv[0] === "daemon") {
  // The daemon imports pi, an ES module only, which the cached CommonJS bundle cannot; it is a
  // long-running process, so its start-up matters least.
  const { main } = await import("../dist/scripts/cli.js");
  process.exitCode = await main(argv);
} else {
  const cli = loadWithCodeCache(`${root}/dist/cli.cjs`, argv[0] ?? "help");
  process.exitCode = await cli.exports.main(argv);
  cli.save();
}
