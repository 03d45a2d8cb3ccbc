// Cluster (3 masters via redis-cli --cluster create): the factory connects through ioredis'
// Cluster from REDIS_CLUSTER_NODES and a SCAN sees every master; with the hash-tagged prefix
// ({agent} by default in cluster mode) the whole CLI (push, status, tail, dead, flush), the
// worker's POST /events and the extension in a real pi work; every script runs on the cluster,
// and each key a script touches is one it declared in KEYS (watched with MONITOR).
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { ConfigError, loadConfig, type Config } from "../../core/config.ts";
import { systemClock } from "../../core/budget.ts";
import { BudgetGate } from "../../core/budget-gate.ts";
import { listDead, requeueDead } from "../../core/dead.ts";
import { holdEntries, releaseHeld } from "../../core/chain.ts";
import { ackBatch, drainBatch, drainMore } from "../../core/drain.ts";
import { recordHistory } from "../../core/history.ts";
import { buildEvent } from "../../core/event.ts";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { createLogger } from "../../core/log.ts";
import { SCRIPT_FILES } from "../../core/lua/index.ts";
import { pushEvent, pushEvents } from "../../core/push.ts";
import { connectRedis, ensureConnected, isCluster } from "../../core/redis.ts";
import { keyNodes, scanKeys } from "../../core/scan.ts";
import { claimLease, newLease, releaseLease } from "../../core/sessions.ts";
import { appendToSpool } from "../../core/spool.ts";
import { createApp } from "../../worker/app.ts";
import { cliHome } from "../harness/cli.ts";
import { pollUntil, startPi, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startCluster } from "../harness/topologies.ts";

const cluster = await startCluster();
const NODES = cluster.nodes.join(",");
// REDIS_URL is ignored in cluster mode; pointing it nowhere proves nothing uses it.
const NOWHERE = "redis://127.0.0.1:1";

const home = () => mkdtempSync(join(tmpdir(), "agent-gateway-cluster-"));
function clusterConfig(prefix?: string, extra: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ AGENT_GATEWAY_HOME: home(), REDIS_CLUSTER_NODES: NODES, ...(prefix ? { GATEWAY_PREFIX: prefix } : {}), ...extra });
}
async function clusterClient(config: Config): Promise<Redis> {
  const redis = connectRedis(config, { kind: "consumer", name: "cluster-test" });
  await ensureConnected(redis);
  test.after(() => redis.disconnect());
  return redis;
}

test("cluster config: the prefix defaults to {agent} on a cluster and stays agent elsewhere; a cluster prefix without a hash tag is refused with the fix", () => {
  assert.equal(clusterConfig().prefix, "{agent}");
  assert.equal(loadConfig({ AGENT_GATEWAY_HOME: home() }).prefix, "agent");
  assert.equal(loadConfig({ AGENT_GATEWAY_HOME: home(), GATEWAY_PREFIX: "team-{gw}" }).prefix, "team-{gw}", "one tag is fine in any mode");
  assert.equal(clusterConfig("{team}.gw").prefix, "{team}.gw");
  assert.throws(
    () => clusterConfig("team"),
    (error: Error) => error instanceof ConfigError && /prefix \(from GATEWAY_PREFIX\): in cluster mode the prefix needs a \{hash tag\}.*set GATEWAY_PREFIX to "\{team\}"/.test(error.message),
  );
  for (const bad of ["{a}{b}", "{}", "a{b", "a b"]) assert.throws(() => loadConfig({ AGENT_GATEWAY_HOME: home(), GATEWAY_PREFIX: bad }), /prefix.*at most one \{hash tag\}/, bad);
});

test("cluster: REDIS_CLUSTER_NODES connects a Cluster client, and a SCAN covers every master", async () => {
  const redis = await clusterClient(clusterConfig());
  assert.equal(isCluster(redis), true);
  const sessions = Array.from({ length: 30 }, (_, i) => `s${i}`);
  // Untagged keys, spread over the masters on purpose.
  for (const sid of sessions) await redis.rpush(`untagged:events:${sid}`, "{}");
  assert.equal(keyNodes(redis).length, 3);
  const onOneNode = (await keyNodes(redis)[0]!.scan("0", "MATCH", "untagged:events:*", "COUNT", 1000))[1].length;
  assert.ok(onOneNode < sessions.length, "keys are spread over the masters");
  const found = (await scanKeys(redis, "untagged:events:*")).sort();
  assert.deepEqual(found, sessions.map((sid) => `untagged:events:${sid}`).sort());
});

test("cluster: the CLI's push, status, tail, dead (list, requeue, purge) and flush work; raw keys are {agent}:events:<sid>", async () => {
  const config = clusterConfig();
  const redis = await clusterClient(config);
  const cli = cliHome(NOWHERE, "", { inboxCap: 2 });
  const env = { REDIS_CLUSTER_NODES: NODES };
  const run = (...args: string[]) => cli.run(args, { env });

  const tail = cli.start(["tail", CENTRAL_SESSION], { env });
  await tail.waitFor("stderr", /following /);
  for (const n of [1, 2, 3]) {
    const pushed = await run("push", "cluster.push", "--source", "test", "--id", `c-${n}`);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.stdout.trim(), `c-${n}`);
  }
  await tail.waitFor("stdout", /id c-3/);
  assert.equal(await tail.stop(), 0);
  // The inbox cap (2) moved the oldest to the dead letters, through the script's declared keys.
  assert.deepEqual((await redis.lrange("{agent}:events:gateway", 0, -1)).map((raw) => JSON.parse(raw).id), ["c-3", "c-2"]);
  assert.equal(await redis.llen("{agent}:dead:gateway"), 1);

  const status = await run("status", "--json");
  assert.equal(status.code, 0, status.stderr);
  const inbox = (JSON.parse(status.stdout) as { inboxes: { session: string; backlog: number; dead: number; overflow: number }[] }).inboxes.find((i) => i.session === CENTRAL_SESSION);
  assert.deepEqual({ backlog: inbox?.backlog, dead: inbox?.dead, overflow: inbox?.overflow }, { backlog: 2, dead: 1, overflow: 1 });
  const text = await run("status");
  assert.equal(text.code, 0, text.stderr);

  const dead = await run("dead", CENTRAL_SESSION);
  assert.equal(dead.code, 0, dead.stderr);
  assert.match(dead.stdout, /overflow/);
  assert.match(dead.stdout, /c-1/);
  await redis.del("{agent}:events:gateway"); // room under the cap for the requeued one
  const requeued = await run("dead", CENTRAL_SESSION, "--requeue");
  assert.equal(requeued.code, 0, requeued.stderr);
  assert.deepEqual((await redis.lrange("{agent}:events:gateway", 0, -1)).map((raw) => JSON.parse(raw).id), ["c-1"]);
  await redis.lpush("{agent}:dead:gateway", JSON.stringify({ reason: "test", at: Date.now(), raw: "x" }));
  const purged = await run("dead", CENTRAL_SESSION, "--purge");
  assert.equal(purged.code, 0, purged.stderr);
  assert.equal(await redis.llen("{agent}:dead:gateway"), 0);

  appendToSpool(join(cli.home, "spool.jsonl"), [buildEvent({ id: "spooled-1", type: "from.spool", source: "test" }, config.maxEventBytes, Date.now()).event]);
  const flushed = await run("flush", "--json");
  assert.equal(flushed.code, 0, flushed.stderr);
  assert.equal((JSON.parse(flushed.stdout) as { delivered: number }).delivered, 1);
  assert.deepEqual((await redis.lrange("{agent}:events:gateway", 0, -1)).map((raw) => JSON.parse(raw).id), ["spooled-1", "c-1"]);
});

test("cluster: the worker's POST /events stores the event", async () => {
  const config = clusterConfig("{worker}", { GATEWAY_API_TOKEN: "a-token-of-16-chars-or-more" });
  const redis = await clusterClient(config);
  const log = createLogger({ dir: join(config.home, "logs"), kind: "worker", level: "error" });
  try {
    const app = createApp({ config, redis, log, startedAt: Date.now(), scheduler: { mode: "off" } });
    const response = await app.request("/events", {
      method: "POST",
      headers: { authorization: "Bearer a-token-of-16-chars-or-more", "content-type": "application/json" },
      body: JSON.stringify({ id: "w-1", type: "cluster.worker", source: "test" }),
    });
    assert.ok(response.status < 300, `${response.status} ${await response.text()}`);
    assert.equal(JSON.parse((await redis.lindex("{worker}:events:gateway", 0))!).id, "w-1");
  } finally {
    await log.close();
  }
});

test("cluster: the extension in a real pi receives a pushed event and acknowledges it", async () => {
  const prefix = "{pi}";
  const config = clusterConfig(prefix);
  const redis = await clusterClient(config);
  const pi = await startPi({ redisUrl: NOWHERE, prefix, config: { sweepInterval: "10m" }, env: { REDIS_CLUSTER_NODES: NODES } });
  try {
    assert.match(await waitConnected(pi), /^gateway · connected/);
    await pushEvent(redis, config, { type: "cluster.event", source: "test", payload: { n: 1 } });
    await waitUserMessage(pi, '## Type "cluster.event"');
    await pi.waitFor("the run to end", (l) => l.type === "agent_end");
    const keys = keysFor(prefix);
    await pollUntil("the batch acknowledged", async () => (await redis.llen(keys.inflight(CENTRAL_SESSION))) === 0);
    assert.equal(await redis.llen(keys.inbox(CENTRAL_SESSION)), 0);
  } finally {
    await pi.kill();
  }
});

/** Every script once, through the core functions, on `redis`; returns the scripts it ran. */
async function runEveryScript(redis: Redis, config: Config): Promise<string[]> {
  const keys = keysFor(config.prefix);
  const satellite = { lease: newLease("sat-1", "satellite"), ttl: 30_000 };
  assert.deepEqual(await claimLease(redis, config.prefix, satellite), { held: true, handoverAsked: false }); // lease
  const pushed = await pushEvents(redis, { ...config, inboxCap: 3 }, [
    ...[1, 2, 3, 4].map((n) => ({ id: `e-${n}`, type: "t", source: "s", originSession: "sat-1" })),
    { id: "e-5", type: "t", source: "s", originSession: "sat-gone" },
  ]); // push: central, a live origin and one without a lease; the cap overflows both live inboxes
  assert.deepEqual(pushed.map((r) => r.delivered), [2, 2, 2, 2, 1]);
  await redis.lpush(keys.inbox("sat-1"), "not json");
  const batch = await drainBatch(redis, config, "sat-1", satellite.lease.owner); // drain + dead-letter
  assert.equal(batch.deadLettered.length, 1);
  await pushEvents(redis, config, [{ id: "e-6", type: "t", source: "s", originSession: "sat-1" }]);
  assert.equal(await drainMore(redis, config, batch, satellite.lease.owner, 10, 1 << 20), 1); // drainMore
  assert.equal(await recordHistory(redis, config, "sat-1", batch.entries), 0); // historyAdd
  const budget = { ...config.budget, perSource: 2, automatedPerHour: 5 };
  const admitted = await new BudgetGate(redis, { ...config, budget }, createLogger({ kind: "test", level: "error" }), systemClock).admit(batch.entries);
  assert.ok(admitted.charge, "the run is charged to the hourly windows"); // budgetTake
  assert.equal(await ackBatch(redis, config, batch, satellite.lease.owner), batch.entries.length); // ack
  const runaway = Buffer.from('{"id":"held-1","type":"t","source":"s","ts":1,"chain":9}');
  await redis.rpush(keys.inflight("sat-1"), runaway); // as drained
  assert.equal(await holdEntries(redis, config.prefix, "sat-1", [runaway]), 1); // hold
  assert.equal(await releaseHeld(redis, config.prefix, "sat-1"), 1); // releaseHeld
  const letters = (await listDead(redis, config.prefix, "sat-1")).filter((l) => l.reason === "overflow");
  assert.equal(await requeueDead(redis, config.prefix, "sat-1", letters), 1); // requeue
  assert.equal(await releaseLease(redis, config.prefix, satellite.lease), true); // release
  return ["lease", "push", "drain", "deadLetter", "drainMore", "historyAdd", "budgetTake", "ack", "hold", "releaseHeld", "requeue", "release"];
}

test("cluster: every script runs on the cluster, and every key it touches is one it declared (MONITOR on each master)", async () => {
  const config = clusterConfig("{scripts}");
  const redis = await clusterClient(config);
  // monitor() opens a connection of its own: the client it came from is closed too, or it keeps reconnecting after the cluster stops.
  const clients = keyNodes(redis).map(({ options: { host, port } }) => new Redis({ host, port }));
  const monitors = await Promise.all(clients.map((client) => client.monitor()));
  const seen: { node: number; args: string[]; source: string }[] = [];
  for (const [node, monitor] of monitors.entries()) monitor.on("monitor", (_time: string, args: string[], source: string) => void seen.push({ node, args, source }));
  test.after(() => {
    for (const connection of [...monitors, ...clients]) connection.disconnect();
  });

  const ran = await runEveryScript(redis, config);
  assert.deepEqual(ran.sort(), Object.keys(SCRIPT_FILES).sort(), "a new script must be added to runEveryScript");
  // MONITOR lines trail the replies: a marker sent to each master last shows all are in.
  await Promise.all(keyNodes(redis).map((node) => node.echo("monitor-marker")));
  await pollUntil("every master's MONITOR caught up", () => new Set(seen.filter((s) => s.args[1] === "monitor-marker").map((s) => s.node)).size === monitors.length);

  const checker = keyNodes(redis)[0]!;
  const declared = new Map<number, Set<string>>();
  let checked = 0;
  for (const { node, args, source } of seen) {
    const [command, ...rest] = args;
    if (/^eval(sha)?$/i.test(command!)) {
      declared.set(node, new Set(rest.slice(2, 2 + Number(rest[1]))));
      continue;
    }
    if (source !== "lua") continue;
    let touched: string[];
    try {
      touched = (await checker.call("COMMAND", "GETKEYS", command!, ...rest)) as string[];
    } catch {
      continue; // no key arguments (TIME, PUBLISH)
    }
    for (const key of touched) {
      assert.ok(declared.get(node)?.has(key), `${command} ${key} was not declared in KEYS`);
      assert.ok(key.startsWith("{scripts}:"), key);
      checked++;
    }
  }
  assert.ok(checked > 20, `only ${checked} key accesses seen`);
});
