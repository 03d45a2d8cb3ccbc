// What a user drives from inside pi, against a real pi: the /gateway command (pause, status,
// resume, dead letters), the gateway_push tool called by the agent, and /new and /reload (the
// extension starts again, lets go of the old connections and keeps delivering).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { fixture, messageText, pollUntil, startPi, waitConnected, waitUserMessage, type RpcPi } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();

const quiet = { sweepInterval: "10m" };

/** Runs a /gateway subcommand and resolves with the notification it shows. */
async function gateway(pi: RpcPi, args: string, expect: RegExp): Promise<string> {
  const before = pi.notifications().length;
  await pi.prompt(`/gateway ${args}`);
  const line = await pi.waitFor(`/gateway ${args} to answer ${expect}`, (l) => {
    if (l.type !== "extension_ui_request" || l.method !== "notify") return false;
    return pi.notifications().length > before && expect.test(String(l.message));
  });
  return String(line.message);
}

/** Runs a /new or /reload and waits for the new extension instance's status line. */
async function restartExtension(pi: RpcPi, what: string, restart: () => Promise<unknown>): Promise<void> {
  const statusesBefore = pi.statuses().length;
  await restart();
  await pi.waitFor(`the status line again after ${what}`, (l) =>
    l.type === "extension_ui_request" && l.method === "setStatus" && pi.statuses().length > statusesBefore && /connected/.test(String(l.statusText)),
  );
}

/** How many user messages pi took that contain the fragment. */
const timesTaken = (pi: RpcPi, fragment: string) => pi.userMessages().filter((m) => m.includes(fragment)).length;

function assistantTexts(pi: RpcPi): string[] {
  return pi.lines
    .filter((l) => l.type === "message_end" && (l.message as { role?: string })?.role === "assistant")
    .map((l) => messageText(l.message));
}

test("/gateway pause keeps events in Redis, status shows them, resume delivers them; dead lists dead letters", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const keys = keysFor(prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: quiet });
  try {
    await waitConnected(pi);
    await gateway(pi, "pause", /delivery paused/);
    await pushEvent(producer, config, { type: "job.while-paused", source: "sh" });
    await pi.waitFor(
      "the status line to show the waiting event while paused",
      (l) => l.type === "extension_ui_request" && l.method === "setStatus" && l.statusKey === "agent-gateway" && /backlog 1 · paused/.test(String(l.statusText)),
      10_000,
    );
    const status = await gateway(pi, "status", /backlog/);
    assert.match(status, /backlog 1 · in flight 0 .* · PAUSED/);
    assert.equal(timesTaken(pi, "job.while-paused"), 0, "nothing injected while paused");

    await gateway(pi, "resume", /delivery resumed/);
    await waitUserMessage(pi, '## Type "job.while-paused"');

    await producer.lpush(keys.inbox(CENTRAL_SESSION), "{not json");
    await producer.publish(keys.notify(CENTRAL_SESSION), "event");
    await pollUntil("the bad entry to be dead-lettered", async () => (await producer.llen(keys.dead(CENTRAL_SESSION))) === 1);
    assert.match(await gateway(pi, "dead", /not JSON|no dead letters/), /not JSON: .*\{not json/);
    assert.match(await gateway(pi, "sideways", /usage/), /usage: \/gateway \[status \| drain \| pause \| resume \| dead \[N\]\]/);
  } finally {
    await pi.kill();
  }
});

test("the agent's gateway_push tool pushes an event that reaches the central session", async () => {
  const prefix = server.prefix();
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: quiet });
  try {
    await waitConnected(pi);
    await pi.prompt("[push:note.for-later]");
    const event = await waitUserMessage(pi, '## Type "note.for-later"');
    assert.match(messageText(event.message), /the agent/, "the tool's payload rides along");
    assert.ok(
      assistantTexts(pi).some((t) => /^tool: pushed note\.for-later as [0-9A-Z]{26} to 1 inbox$/.test(t)),
      `the tool reported the push: ${JSON.stringify(assistantTexts(pi))}`,
    );
  } finally {
    await pi.kill();
  }
});

test("/new: the extension starts again in the new session and keeps delivering, each event once", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: quiet });
  try {
    await waitConnected(pi);
    await pushEvent(producer, config, { type: "job.before-new", source: "sh" });
    await waitUserMessage(pi, '## Type "job.before-new"');
    await restartExtension(pi, "/new", () => pi.send({ type: "new_session" }));
    await pushEvent(producer, config, { type: "job.after-new", source: "sh" });
    await waitUserMessage(pi, '## Type "job.after-new"');
    assert.equal(timesTaken(pi, '## Type "job.before-new"'), 1);
    assert.equal(timesTaken(pi, '## Type "job.after-new"'), 1);
  } finally {
    await pi.kill();
  }
});

test("/reload: the old instance lets go of Redis, the new one delivers each event once", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const pi = await startPi({ redisUrl: server.url, prefix, role: "central", config: quiet, fixtures: [fixture("reload-command.ts")] });
  const gatewayClients = async () => ((await producer.client("LIST")) as string).split("\n").filter((l) => / name=\S*gateway\S*:(commands|notify) /.test(l)).length;
  try {
    await waitConnected(pi);
    await pushEvent(producer, config, { type: "job.before-reload", source: "sh" });
    await waitUserMessage(pi, '## Type "job.before-reload"');
    await pollUntil("pi to be idle again", () => pi.lines.some((l) => l.type === "agent_end"));
    const clients = await gatewayClients();
    assert.equal(clients, 2, "one command and one subscriber connection");

    await restartExtension(pi, "/reload", () => pi.prompt("/test-reload"));
    await pollUntil("the old instance's connections to close", async () => (await gatewayClients()) === clients);

    await pushEvent(producer, config, { type: "job.after-reload", source: "sh" });
    await waitUserMessage(pi, '## Type "job.after-reload"');
    assert.equal(timesTaken(pi, '## Type "job.before-reload"'), 1, "not delivered again by the new instance");
    assert.equal(timesTaken(pi, '## Type "job.after-reload"'), 1, "delivered once, not by both instances");
    const keys = keysFor(prefix);
    await pollUntil("the in-flight list to empty", async () => (await producer.llen(keys.inflight(CENTRAL_SESSION))) === 0);
  } finally {
    await pi.kill();
  }
});
