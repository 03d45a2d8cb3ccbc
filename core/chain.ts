// The runaway breaker's chain depth. A run the gateway starts has the depth of the deepest
// event that started it (0 when none was pushed from a run); an event pushed from inside that
// run carries one more. The session exports GATEWAY_CHAIN_DEPTH while such a run lasts, so
// `agent-gateway push` from its bash tool inherits it like the gateway_push tool does. Past
// budget.maxChainDepth an event is held (not refused, not lost) until a human releases it.
import type { Redis } from "ioredis";
import type { GatewayEvent } from "./event.ts";
import { inboxesOf, keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export const CHAIN_ENV = "GATEWAY_CHAIN_DEPTH";

/** The depth an event pushed now gets: the exported one, or none outside a gateway-started run. */
export function chainFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const depth = Number(env[CHAIN_ENV]);
  return Number.isInteger(depth) && depth >= 1 ? depth : undefined;
}

/** The depth of a run these events start (pure). */
export function runDepth(events: readonly Pick<GatewayEvent, "chain">[]): number {
  let depth = 0;
  for (const e of events) depth = Math.max(depth, e.chain ?? 0);
  return depth;
}

export const isRunaway = (event: Pick<GatewayEvent, "chain">, maxChainDepth: number) => (event.chain ?? 0) > maxChainDepth;

/**
 * Moves in-flight entries (exact bytes) to the session's held list, in one script that also
 * runs on a full Redis; returns how many moved (one no longer in flight stays where it is).
 */
export async function holdEntries(redis: Redis, prefix: string, session: string, raws: Buffer[]): Promise<number> {
  if (raws.length === 0) return 0;
  const keys = keysFor(prefix);
  return (await runScript(redis, "hold", [keys.inflight(session), keys.held(session)], raws)) as number;
}

export async function heldCount(redis: Redis, prefix: string, session: string): Promise<number> {
  return redis.llen(keysFor(prefix).held(session));
}

/** Moves the held events back to the inbox with their depth removed; returns how many. */
export async function releaseHeld(redis: Redis, prefix: string, session: string): Promise<number> {
  const keys = keysFor(prefix);
  const moved = (await runScript(redis, "releaseHeld", [keys.held(session), keys.inbox(inboxesOf(session)[0]!)], [])) as number;
  if (moved > 0) await redis.publish(keys.notify(session), "released");
  return moved;
}
