// Plain-text tables for the CLI: columns two spaces apart, numeric columns right-aligned.
export function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === "number"));
  return cells.map(
    (row) => "  " + row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd(),
  );
}
