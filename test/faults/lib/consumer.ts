// Starts and SIGKILLs the stand-in consumer child (consumer-process.ts); every child started
// here is killed when the test file ends, also on failure.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after } from "node:test";

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface ConsumerChild {
  pid: number;
  kill(): Promise<void>;
}

/** Starts the consumer and resolves once it is connected and subscribed. */
export async function startConsumer(url: string, prefix: string, deliveredFile: string): Promise<ConsumerChild> {
  const script = new URL("./consumer-process.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", script, url, prefix, deliveredFile], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error("consumer did not become ready within 60 s")), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        clearTimeout(deadline);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(deadline);
      reject(new Error(`consumer exited with ${code} before it was ready`));
    });
  });
  return {
    pid: child.pid!,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
