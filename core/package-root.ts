// Where this package's own files are (package.json, core/scripts/*.lua), found by walking up from
// the running module: the TypeScript sources and the bundled build in dist/ sit at different
// depths below the same root.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(start: string): { root: string; version: string } {
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "agent-gateway") return { root: dir, version: manifest.version ?? "0.0.0" };
    }
    if (dirname(dir) === dir) throw new Error(`agent-gateway's package.json was not found above ${start}`);
  }
}

const found = findRoot(dirname(fileURLToPath(import.meta.url)));
export const PACKAGE_ROOT: string = found.root;
export const VERSION: string = found.version;
