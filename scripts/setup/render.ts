// Renders a service template (launchd plist or systemd unit) by replacing @NAME@ placeholders,
// escaping each value for the target format, and writes it only when the text differs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { EditResult } from "./json-file.ts";

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
// systemd expands %-specifiers everywhere; a literal % is %%.
const unit = (s: string) => s.replace(/%/g, "%%");

export function renderText(template: string, values: Record<string, string>, format: "plist" | "unit" | "text"): string {
  const escapeValue = format === "plist" ? xml : format === "unit" ? unit : (s: string) => s;
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return escapeValue(value);
  });
}

export function formatOf(file: string): "plist" | "unit" | "text" {
  if (file.endsWith(".plist")) return "plist";
  if (/\.(service|timer)$/.test(file)) return "unit";
  return "text";
}

export function renderFile(template: string, out: string, values: Record<string, string>): EditResult {
  const text = renderText(readFileSync(template, "utf8"), values, formatOf(template));
  const existed = existsSync(out);
  if (existed && readFileSync(out, "utf8") === text) return "unchanged";
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  return existed ? "changed" : "created";
}
