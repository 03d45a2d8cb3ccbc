// Durability for replicated Redis (Sentinel, Cluster): after a write, WAIT until N replicas
// have it. A master can take a write and then lose it in a failover (a demoted master drops
// what it took after the promotion); a write N replicas confirmed survives that.
import type { Redis } from "ioredis";

export interface Durability {
  /** Replicas that must confirm a push before it counts as delivered; 0 = do not wait. */
  waitReplicas: number;
  /** ms to wait for them. */
  waitTimeout: number;
}

/** undefined when no confirmation is asked; else whether enough replicas have every write so far. */
export async function confirmReplicated(redis: Redis, { waitReplicas, waitTimeout }: Durability): Promise<boolean | undefined> {
  if (waitReplicas <= 0) return undefined;
  const confirmed = await redis.wait(waitReplicas, waitTimeout);
  return confirmed >= waitReplicas;
}
