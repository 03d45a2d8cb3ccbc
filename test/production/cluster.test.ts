// Cluster (3 masters via redis-cli --cluster create): the factory connects through ioredis'
// Cluster from REDIS_CLUSTER_NODES, and the SCAN behind status sees the keys of every master,
// not of one random node. (The whole CLI on a cluster needs the hash-tagged key layout, which
// is not built yet: those tests come with it.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../core/config.ts";
import { connectRedis, ensureConnected, isCluster } from "../../core/redis.ts";
import { keyNodes, scanKeys } from "../../core/scan.ts";
import { startCluster } from "../harness/topologies.ts";

const cluster = await startCluster();

test("cluster: REDIS_CLUSTER_NODES connects a Cluster client, and a SCAN covers every master", async () => {
  const config = loadConfig({ AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-cluster-")), REDIS_CLUSTER_NODES: cluster.nodes.join(",") });
  const redis = connectRedis(config, { kind: "producer", name: "cluster-test" });
  try {
    await ensureConnected(redis);
    assert.equal(isCluster(redis), true);
    const sessions = Array.from({ length: 30 }, (_, i) => `s${i}`);
    for (const sid of sessions) await redis.rpush(`agent:events:${sid}`, "{}");
    assert.equal(keyNodes(redis).length, 3);
    const onOneNode = (await keyNodes(redis)[0]!.scan("0", "MATCH", "agent:events:*", "COUNT", 1000))[1].length;
    assert.ok(onOneNode < sessions.length, "keys are spread over the masters");
    const found = (await scanKeys(redis, "agent:events:*")).sort();
    assert.deepEqual(found, sessions.map((sid) => `agent:events:${sid}`).sort());
  } finally {
    redis.disconnect();
  }
});
