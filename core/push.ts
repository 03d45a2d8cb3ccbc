// Push: validate events and fan them out with the push script in one round trip. Every event
// reaches the central inbox; one with a live originSession reaches that session too. The same
// id pushed twice within the dedupe window is delivered once.
import type { Redis } from "ioredis";
import { buildEvent, type EventInput, type GatewayEvent } from "./event.ts";
import { CENTRAL_SESSION, keysFor } from "./keys.ts";
import { runScript } from "./lua/index.ts";

export interface PushSettings {
  prefix: string;
  maxEventBytes: number;
  inboxCap: number;
  /** ms an id is remembered at least (at most twice that); 0 turns the check off. */
  pushDedupeWindow: number;
}

export interface PushResult {
  id: string;
  /** Inboxes reached: 1 = central only, 2 = central and origin, 0 = duplicate id. */
  delivered: number;
  duplicate: boolean;
  event: GatewayEvent;
}

type BuiltEvent = ReturnType<typeof buildEvent>;

function buildAll(settings: PushSettings, inputs: readonly (EventInput | GatewayEvent)[]): BuiltEvent[] {
  const now = Date.now();
  return inputs.map((input) => buildEvent(input, settings.maxEventBytes, now));
}

/** Validates every input first (all or nothing), then pushes the batch atomically. */
export async function pushEvents(
  redis: Redis,
  settings: PushSettings,
  inputs: readonly (EventInput | GatewayEvent)[],
): Promise<PushResult[]> {
  return pushBuilt(redis, settings, buildAll(settings, inputs));
}

/** One script call: the whole batch lands atomically. */
async function pushBuilt(redis: Redis, settings: PushSettings, built: readonly BuiltEvent[]): Promise<PushResult[]> {
  if (built.length === 0) return [];
  const keys = keysFor(settings.prefix);
  const window = settings.pushDedupeWindow;
  // The window of the moment of sending, so an id is remembered a full window from then on.
  const current = window > 0 ? Math.floor(Date.now() / window) : 0;
  // Every key the script touches is passed (a cluster refuses undeclared ones): the central
  // inbox, and each distinct origin session's lease, inbox and dead-letter list.
  const central = [keys.inbox(CENTRAL_SESSION), keys.dead(CENTRAL_SESSION)];
  const originKeys: string[] = [];
  const originArgs: string[] = [];
  const originNumber = new Map<string, number>();
  const eventArgs: (string | number)[] = [];
  for (const { event, json } of built) {
    const origin = event.originSession;
    let n = 0;
    if (origin !== undefined && origin !== CENTRAL_SESSION) {
      n = originNumber.get(origin) ?? 0;
      if (n === 0) {
        n = originNumber.size + 1;
        originNumber.set(origin, n);
        originKeys.push(keys.lease(origin), keys.inbox(origin), keys.dead(origin));
        originArgs.push(origin, keys.notify(origin));
      }
    }
    eventArgs.push(event.id, json, n);
  }
  const head = [CENTRAL_SESSION, settings.inboxCap, window > 0 ? (current + 2) * window : 0, keys.notify(CENTRAL_SESSION), originNumber.size];
  const reached = (await runScript(
    redis,
    "push",
    // concat, not spread: a batch may pass the argument limit
    [keys.overflow, keys.pushedIds(current), keys.pushedIds(current - 1), ...central].concat(originKeys),
    (head as (string | number)[]).concat(originArgs, eventArgs),
  )) as number[];
  return built.map(({ event }, i) => ({
    id: event.id,
    delivered: reached[i] ?? 0,
    duplicate: reached[i] === 0,
    event,
  }));
}

/** Batches on the wire at once in pushInBatches: Redis runs one while the next is sent. */
const BATCHES_IN_FLIGHT = 2;

export interface BatchOptions {
  /** Events per script call (each call is atomic). */
  batchSize?: number;
  /** Called with each batch's results, in input order, once Redis has confirmed that batch. */
  onBatch?: (results: PushResult[]) => void;
}

/**
 * Pushes many events in atomic batches with two on the wire at once: while Redis runs batch n,
 * batch n+1 is validated, encoded and sent. One connection runs them in order, so events land
 * in the order given. Unlike pushEvents this is not all or nothing: an invalid event fails its
 * batch, after the batches before it are confirmed (onBatch has seen each). On a lost
 * connection, batches from the first unconfirmed one on may or may not have landed; pushing
 * them again is safe (same ids).
 */
export async function pushInBatches(
  redis: Redis,
  settings: PushSettings,
  inputs: readonly (EventInput | GatewayEvent)[],
  { batchSize = 100, onBatch }: BatchOptions = {},
): Promise<PushResult[]> {
  const results: PushResult[] = [];
  const inFlight: Promise<PushResult[]>[] = [];
  const confirmOldest = async () => {
    const batch = await inFlight.shift()!;
    for (const result of batch) results.push(result); // no spread: a batch may pass the argument limit
    onBatch?.(batch);
  };
  for (let start = 0; start < inputs.length; start += batchSize) {
    let built: BuiltEvent[];
    try {
      built = buildAll(settings, inputs.slice(start, start + batchSize));
    } catch (error) {
      while (inFlight.length > 0) await confirmOldest();
      throw error;
    }
    const batch = pushBuilt(redis, settings, built);
    // Awaited in turn below; a rejection meanwhile must not count as unhandled.
    batch.catch(() => {});
    inFlight.push(batch);
    if (inFlight.length === BATCHES_IN_FLIGHT) await confirmOldest();
  }
  while (inFlight.length > 0) await confirmOldest();
  return results;
}

export async function pushEvent(
  redis: Redis,
  settings: PushSettings,
  input: EventInput | GatewayEvent,
): Promise<PushResult> {
  const [result] = await pushEvents(redis, settings, [input]);
  return result!;
}
