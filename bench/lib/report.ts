// Benchmark reporting: every figure is printed beside the baseline measured in the same run,
// with pass/fail against the target; the same data goes to bench/results/<name>.json.
import { writeFileSync } from "node:fs";
import { machine, type Machine } from "./machine.ts";

export type Row = Record<string, string | number>;

export interface Check {
  /** What is compared, e.g. "p99 ≤ 5× PING p99 + 1 ms". */
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchReport {
  name: string;
  /** What was measured and how, in one or two sentences. */
  method: string;
  rows: Row[];
  checks: Check[];
  /** Raw figures for the JSON file. */
  figures: Record<string, unknown>;
}

export function formatTable(rows: Row[]): string {
  if (rows.length === 0) return "";
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: string | number | undefined) =>
    typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : (value ?? "");
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

/** Prints the report and writes bench/results/<name>.json; returns whether every target was met. */
export function publish(report: BenchReport): boolean {
  const host: Machine = machine();
  console.log(`\n## ${report.name}\n${report.method}\n`);
  console.log(formatTable(report.rows));
  console.log("");
  for (const check of report.checks) {
    console.log(`${check.pass ? "PASS" : "FAIL"}  ${check.target}: ${check.measured}`);
  }
  console.log(`machine: ${host.summary}`);
  const file = new URL(`../results/${report.name}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ ...report, machine: host, at: new Date().toISOString() }, null, 2) + "\n");
  return report.checks.every((c) => c.pass);
}

/** `a / b` as "1.23×". */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}
