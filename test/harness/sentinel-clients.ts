// A producer's configuration for a Sentinel setup in a fresh gateway home, a consumer that
// drains the central inbox through the same factory (following failovers), and a flush that
// retries until the spool is empty: what the Sentinel tests and the failover fault share.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../core/config.ts";
import { ackBatch, drainBatch } from "../../core/drain.ts";
import { CENTRAL_SESSION } from "../../core/keys.ts";
import { connectRedis, ensureConnected, withProducer } from "../../core/redis.ts";
import { countSpooled, flushSpool } from "../../core/spool.ts";
import type { SentinelSetup } from "./topologies.ts";

export function configFor(sentinel: SentinelSetup, prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    AGENT_GATEWAY_HOME: mkdtempSync(join(tmpdir(), "agent-gateway-sentinel-home-")),
    GATEWAY_PREFIX: prefix,
    REDIS_SENTINELS: sentinel.sentinels.join(","),
    REDIS_SENTINEL_NAME: sentinel.name,
    ...extra,
  });
}

/** Drains the central inbox until `stop()` is called and the inbox is empty; returns every id taken. */
export function startConsumer(config: Config) {
  const redis = connectRedis(config, { kind: "consumer", name: "sentinel-test-consumer" });
  const seen = new Set<string>();
  let stopping = false;
  let failures = 0;
  const done = (async () => {
    await ensureConnected(redis);
    for (;;) {
      try {
        const batch = await drainBatch(redis, config, CENTRAL_SESSION);
        for (const { event } of batch.entries) seen.add(event.id);
        await ackBatch(redis, config, batch);
        if (batch.entries.length === 0) {
          if (stopping) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch {
        failures++; // a failover under way: the client reconnects to the new master
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    seen,
    failures: () => failures,
    async stop() {
      stopping = true;
      await done;
      redis.disconnect();
    },
  };
}

export async function flushAll(config: Config): Promise<void> {
  while (countSpooled(config.paths.spool) > 0) {
    await withProducer(config, "sentinel-test-flush", (redis) => flushSpool(redis, config, config.paths.spool)).catch(() => undefined);
    if (countSpooled(config.paths.spool) > 0) await new Promise((r) => setTimeout(r, 200));
  }
}
