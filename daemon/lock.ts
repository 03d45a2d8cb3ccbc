// Single instance: a lock file holding the daemon's PID, created exclusively (O_EXCL), so of two
// daemons started at once exactly one wins. A lock whose PID is no longer alive (a crash, a
// SIGKILL) is stale and taken over; liveness is core's pidAlive, the same check the central
// lease takeover uses.
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { dirname } from "node:path";
import { pidAlive } from "../core/host.ts";

export class LockHeldError extends Error {
  override name = "LockHeldError";
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`another agent-gateway daemon is already running (pid ${pid}; lock file ${path}). Stop it first, or remove the lock if that pid is not a daemon.`);
  }
}

export interface InstanceLock {
  path: string;
  release(): void;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isNaN(pid) ? undefined : pid;
  } catch {
    return undefined;
  }
}

function createExclusive(path: string): boolean {
  try {
    const fd = openSync(path, "wx", 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Takes the lock or throws LockHeldError naming the live holder. */
export function acquireLock(path: string): InstanceLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path)) {
      return {
        path,
        release: () => {
          // Only our own lock: a takeover may have replaced it.
          if (readPid(path) === process.pid) unlinkSync(path);
        },
      };
    }
    const holder = readPid(path);
    if (holder !== undefined && holder !== process.pid && pidAlive(holder)) throw new LockHeldError(path, holder);
    // A half-written lock (no pid yet) may belong to a daemon starting this very moment.
    if (holder === undefined && attempt === 0) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    // Stale: remove it only if it still names the dead holder, then race for it again.
    if (readPid(path) === holder) {
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first; the next exclusive create decides.
      }
    }
  }
  throw new LockHeldError(path, readPid(path) ?? -1);
}
