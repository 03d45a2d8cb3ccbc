// SCAN that sees every key: a Cluster client's SCAN reads one random node, so in cluster mode
// each master is scanned in turn (replicas hold copies of the same keys).
import type { Redis } from "ioredis";
import { isCluster } from "./redis.ts";

/** The nodes that together hold every key: the masters of a cluster, else the client itself. */
export function keyNodes(redis: Redis): Redis[] {
  if (!isCluster(redis)) return [redis];
  return (redis as unknown as { nodes(role: "master"): Redis[] }).nodes("master");
}

/** Every key matching `pattern`, from every node that holds keys. */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of keyNodes(redis)) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const key of keys) found.push(key);
    } while (cursor !== "0");
  }
  return found;
}
