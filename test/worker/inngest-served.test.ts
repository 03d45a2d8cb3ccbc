// The real /api/inngest handler over real HTTP on loopback. No Inngest server can run here, so
// the test stands in for one: it POSTs the execution request an Inngest dev server sends (dev
// mode accepts it unsigned), and it serves /fn/register to receive the worker's boot sync.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { Config } from "../../core/config.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { startWorker } from "../../worker/server.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const redis = server.client();

function configWith(inngest: Partial<Config["inngest"]>): Config {
  const base = testConfig(server.url, server.prefix());
  return { ...base, inngest: { ...base.inngest, ...inngest } };
}

/** What an Inngest server POSTs to run a function: the triggering event, no step state yet. */
function executionRequest(name: string, id: string) {
  const event = { name, id, data: {}, ts: Date.now() };
  return JSON.stringify({ event, events: [event], steps: {}, ctx: { run_id: `run-${id}`, attempt: 0 } });
}

async function postExecution(url: string, fnId: string, body: string) {
  return fetch(`${url}/api/inngest?fnId=agent-gateway-${fnId}&stepId=step`, { method: "POST", headers: { "content-type": "application/json" }, body });
}

test("served handler, Inngest server stand-in, explicit dev mode: a POST runs the heartbeat and it reaches the central inbox", async () => {
  const config = configWith({ dev: "1" });
  const worker = await startWorker(config, { port: 0, log: createLogger({ kind: "worker" }), syncInngest: false });
  try {
    assert.equal(worker.scheduler.mode, "inngest");
    const response = await postExecution(worker.url, "heartbeat", executionRequest("inngest/scheduled.timer", "tick-1"));
    assert.equal(response.status, 206, await response.clone().text());
    const [op] = (await response.json()) as { op: string; data: { delivered: number } }[];
    assert.deepEqual([op!.op, op!.data.delivered], ["StepRun", 1]);
    const inbox = (await redis.lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1)).map((raw) => JSON.parse(raw));
    assert.deepEqual(inbox.map((e) => [e.type, e.payload.scheduler]), [["cron.heartbeat", "inngest"]]);
    // The server retries the same step: same event, same run → no second delivery.
    const again = await postExecution(worker.url, "heartbeat", executionRequest("inngest/scheduled.timer", "tick-1"));
    assert.equal(((await again.json()) as { data: { duplicate: boolean } }[])[0]!.data.duplicate, true);
    assert.equal(await redis.llen(keysFor(config.prefix).inbox(CENTRAL_SESSION)), 1);
  } finally {
    await worker.close();
  }
});

test("served handler with nothing configured: the same POST is refused and nothing is pushed", async () => {
  const config = configWith({});
  const worker = await startWorker(config, { port: 0, log: createLogger({ kind: "worker" }), syncInngest: false });
  try {
    assert.equal(worker.scheduler.mode, "local");
    const response = await postExecution(worker.url, "heartbeat", executionRequest("inngest/scheduled.timer", "tick-2"));
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { error: string }).error, /Inngest is not configured.*INNGEST_DEV/);
    assert.equal(await redis.llen(keysFor(config.prefix).inbox(CENTRAL_SESSION)), 0);
  } finally {
    await worker.close();
  }
});

test("boot sync, Inngest server stand-in: the worker registers itself and retries after a failure, logging why", async () => {
  const registrations: { url: string; functions: { id: string }[] }[] = [];
  const standIn = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/fn/register") return void res.writeHead(404).end();
    registrations.push(JSON.parse(Buffer.concat(chunks).toString()));
    const first = registrations.length === 1;
    res.writeHead(first ? 500 : 200, { "content-type": "application/json" });
    // The SDK reads the outcome from the body's `status` and `error`, as Inngest servers send it.
    res.end(JSON.stringify(first ? { status: 500, error: "stand-in is still starting" } : { status: 200, modified: true }));
  });
  await new Promise<void>((resolve) => standIn.listen(0, "127.0.0.1", resolve));
  const lines: string[] = [];
  const log = createLogger({ kind: "worker", echo: (line) => lines.push(line) });
  const config = configWith({ dev: `http://127.0.0.1:${(standIn.address() as AddressInfo).port}` });
  const worker = await startWorker(config, { port: 0, log });
  try {
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => l.includes("synced with the Inngest server"))) {
      assert.ok(Date.now() < deadline, `no successful sync; log:\n${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(registrations.length, 2);
    assert.ok(lines.some((l) => /Inngest sync failed \(attempt 1\).*still starting/.test(l)), lines.join("\n"));
    const last = registrations[1]!;
    assert.equal(last.url, `${worker.url}/api/inngest`);
    assert.deepEqual(last.functions.map((f) => f.id).sort(), ["agent-gateway-heartbeat", "agent-gateway-heartbeat-wake", "agent-gateway-notify"]);
  } finally {
    await worker.close();
    await new Promise((resolve) => standIn.close(resolve));
  }
});
