// Surgical edits of a user's JSON file (pi's settings.json, the gateway's config.json): one key
// or one list entry changes, everything else the user wrote stays as it was. Each edit reports
// what it did, so setup can say "nothing changed" on a second run.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { gatewayHome } from "../../core/config.ts";
import { ensurePrivateDir, PRIVATE_FILE } from "../../core/private-files.ts";

export type EditResult = "created" | "changed" | "unchanged";
type JsonObject = Record<string, unknown>;

function read(file: string): JsonObject | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") return {};
  const data: unknown = JSON.parse(text);
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error(`${file} must hold a JSON object`);
  return data as JsonObject;
}

const inGatewayHome = (file: string) => !relative(gatewayHome(), file).startsWith("..");

/** The gateway's own files (config.json holds secrets) are user-only; others keep their mode. */
function modeFor(file: string): number {
  if (inGatewayHome(file) || !existsSync(file)) return PRIVATE_FILE;
  return statSync(file).mode & 0o777;
}

/** Writes through a temp file, so a crash never leaves half a settings file. The temp file is
 *  created with the final mode: the rename must not widen what was user-only. */
function write(file: string, data: JsonObject): void {
  if (inGatewayHome(file)) ensurePrivateDir(dirname(file));
  else mkdirSync(dirname(file), { recursive: true });
  const mode = modeFor(file);
  const temp = `${file}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  writeFileSync(temp, JSON.stringify(data, null, 2) + "\n", { mode });
  renameSync(temp, file);
}

function edit(file: string, change: (data: JsonObject) => boolean): EditResult {
  const before = read(file);
  const data = before ?? {};
  const changed = change(data);
  if (!before) {
    write(file, data);
    return "created";
  }
  if (changed) write(file, data);
  return changed ? "changed" : "unchanged";
}

/** Sets a dotted key ("heartbeat.enabled") to a string value. */
export function setKey(file: string, path: string, value: string): EditResult {
  return edit(file, (data) => {
    const parts = path.split(".");
    let node = data;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      if (child && typeof child === "object" && !Array.isArray(child)) {
        node = child as JsonObject;
      } else {
        const fresh: JsonObject = {};
        node[part] = fresh;
        node = fresh;
      }
    }
    const last = parts.at(-1)!;
    if (node[last] === value) return false;
    node[last] = value;
    return true;
  });
}

/** Removes a dotted key; returns whether it was there. */
export function unsetKey(file: string, path: string): boolean {
  const data = read(file);
  if (!data) return false;
  const parts = path.split(".");
  const chain: JsonObject[] = [data];
  for (const part of parts.slice(0, -1)) {
    const next = chain.at(-1)?.[part];
    if (!next || typeof next !== "object") return false;
    chain.push(next as JsonObject);
  }
  const node = chain.at(-1)!;
  if (!(parts.at(-1)! in node)) return false;
  delete node[parts.at(-1)!];
  // A section left empty by the removal goes too (setup made it for that one key).
  for (let depth = chain.length - 1; depth > 0 && Object.keys(chain[depth]!).length === 0; depth--) delete chain[depth - 1]![parts[depth - 1]!];
  write(file, data);
  return true;
}

/** pi's settings.json `packages`: entries are a source string or `{ source, ... }`. */
function sourceOf(entry: unknown): unknown {
  return entry && typeof entry === "object" ? (entry as JsonObject).source : entry;
}

export function addListEntry(file: string, key: string, entry: string): EditResult {
  return edit(file, (data) => {
    if (!Array.isArray(data[key])) data[key] = [];
    const list = data[key] as unknown[];
    if (list.some((e) => sourceOf(e) === entry)) return false;
    list.push(entry);
    return true;
  });
}

/** Removes the entry; drops the list when it is left empty (setup may have added the key). */
export function removeListEntry(file: string, key: string, entry: string): boolean {
  const data = read(file);
  if (!data || !Array.isArray(data[key])) return false;
  const list = data[key] as unknown[];
  const kept = list.filter((e) => sourceOf(e) !== entry);
  if (kept.length === list.length) return false;
  if (kept.length) data[key] = kept;
  else delete data[key];
  write(file, data);
  return true;
}

/** Deletes the file when nothing is left in it (setup created it). */
export function removeIfEmpty(file: string): boolean {
  const data = read(file);
  if (!data || Object.keys(data).length) return false;
  rmSync(file);
  return true;
}
