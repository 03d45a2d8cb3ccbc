// Which machine this process runs on, and whether a pid on it is alive. The host identity is
// written into leases to tell "a process on this machine" (its pid can be checked) from one
// elsewhere: machine id + boot id + pid namespace, since hostname() is shared by cloned VMs and
// containers, a reboot reuses pids, and two containers share a kernel but not their pids.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

function firstReadable(read: (() => string)[]): string {
  for (const attempt of read) {
    try {
      const value = attempt().trim();
      if (value) return value;
    } catch {
      // next source
    }
  }
  return "";
}

const run = (cmd: string, args: string[]) => () => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 2_000 });

let cached: string | undefined;

/** A stable id of this machine boot and pid namespace; hostname() only when nothing else is known. */
export function hostId(): string {
  if (cached) return cached;
  const machine = firstReadable([
    () => readFileSync("/etc/machine-id", "utf8"),
    () => readFileSync("/var/lib/dbus/machine-id", "utf8"),
    () => /"IOPlatformUUID" = "([^"]+)"/.exec(run("ioreg", ["-rd1", "-c", "IOPlatformExpertDevice"])())?.[1] ?? "",
  ]);
  const boot = firstReadable([() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"), run("sysctl", ["-n", "kern.boottime"])]);
  const pidNamespace = firstReadable([() => readlinkSync("/proc/self/ns/pid")]);
  const parts = machine || boot ? [machine, boot, pidNamespace] : [`hostname:${hostname()}`];
  cached = createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 32);
  return cached;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
