// Timestamps pi's RPC output as it arrives (a second reader on the child's stdout, so the
// harness's own bookkeeping adds nothing to the measured time).
import type { ChildProcess } from "node:child_process";
import { nowMs } from "./stats.ts";

export interface LineWatcher {
  /** Resolves with the arrival time (ms) of the first later line for which `match` holds. */
  next(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<number>;
}

export function watchLines(child: ChildProcess): LineWatcher {
  let buffer = "";
  const waiting = new Set<(line: Record<string, unknown>, at: number) => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    const at = nowMs();
    buffer += chunk.toString();
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const raw = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (waiting.size === 0 || !raw.trim()) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const w of [...waiting]) w(line, at);
    }
  });
  return {
    next: (match, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no matching pi output within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (line: Record<string, unknown>, at: number) => {
          if (!match(line)) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(at);
        };
        waiting.add(check);
      }),
  };
}
