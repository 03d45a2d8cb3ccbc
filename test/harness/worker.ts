// A real listening worker on a free loopback port for one test file: started before the file's
// tests, closed after them, and its config's home directory removed.
import { rmSync } from "node:fs";
import { after, before } from "node:test";
import type { Config } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { startWorker, type RunningWorker } from "../../worker/server.ts";

export function workerForFile(config: Config): { readonly url: string; readonly port: number } {
  let worker: RunningWorker | undefined;
  before(async () => {
    worker = await startWorker(config, { port: 0, host: "127.0.0.1", log: createLogger({ kind: "worker", level: "error" }) });
  });
  after(async () => {
    await worker?.close();
    rmSync(config.home, { recursive: true, force: true });
  });
  const running = () => {
    if (!worker) throw new Error("the worker starts in before(): use it inside a test");
    return worker;
  };
  return {
    get url() {
      return running().url;
    },
    get port() {
      return running().port;
    },
  };
}
