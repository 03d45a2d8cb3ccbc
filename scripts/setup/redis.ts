// What setup asks of Redis: is it reachable, and (for a Redis that setup installed) loopback
// binding plus AOF, written back to its config file so they survive a restart.
import { withProducer } from "../../core/redis.ts";

export async function ping(url: string): Promise<string | undefined> {
  try {
    await withProducer(url, "agent-gateway-setup", (redis) => redis.ping());
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Binds to loopback and turns AOF on; returns what it changed. */
export async function harden(url: string): Promise<string[]> {
  return withProducer(url, "agent-gateway-setup", async (redis) => {
    const changed: string[] = [];
    // Bind first: turning AOF on forks a rewrite child that holds the listening socket until it
    // closes it, and a rebind in that moment fails — Redis 7.0 then cannot restore the old
    // listener and exits (seen on a loaded machine).
    const [, bind] = (await redis.config("GET", "bind")) as string[];
    if (!isLoopbackBind(bind ?? "")) {
      await redis.config("SET", "bind", "127.0.0.1 -::1");
      changed.push("bind 127.0.0.1 -::1");
    }
    const [, aof] = (await redis.config("GET", "appendonly")) as string[];
    if (aof !== "yes") {
      await redis.config("SET", "appendonly", "yes");
      changed.push("appendonly yes");
    }
    if (changed.length) await redis.config("REWRITE");
    return changed;
  });
}

/** Redis `bind` value: every address loopback ("-" marks an optional one). */
export function isLoopbackBind(bind: string): boolean {
  const addresses = bind.split(/\s+/).filter(Boolean).map((a) => a.replace(/^-/, ""));
  return addresses.length > 0 && addresses.every((a) => a === "::1" || a === "localhost" || a.startsWith("127."));
}
