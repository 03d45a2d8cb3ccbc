// Push: validate events and fan them out with the push script in one round trip. Every event
// reaches the central inbox; one with a live originSession reaches that session too. The same
// id pushed twice within the dedupe window is delivered once.
import type { Redis } from "ioredis";
import { buildEvent, type EventInput, type GatewayEvent } from "./event.ts";
import { CENTRAL_SESSION, keysFor } from "./keys.ts";
import { runScript } from "./scripts.ts";

export interface PushSettings {
  prefix: string;
  maxEventBytes: number;
  inboxCap: number;
  /** ms; 0 turns the push-side idempotency marker off. */
  pushDedupeWindow: number;
}

export interface PushResult {
  id: string;
  /** Inboxes reached: 1 = central only, 2 = central and origin, 0 = duplicate id. */
  delivered: number;
  duplicate: boolean;
  event: GatewayEvent;
}

/** Validates every input first (all or nothing), then pushes the batch atomically. */
export async function pushEvents(
  redis: Redis,
  settings: PushSettings,
  inputs: readonly (EventInput | GatewayEvent)[],
): Promise<PushResult[]> {
  const now = Date.now();
  const built = inputs.map((input) => buildEvent(input, settings.maxEventBytes, now));
  if (built.length === 0) return [];
  const keys = keysFor(settings.prefix);
  const args: (string | number)[] = [
    keys.notify(CENTRAL_SESSION),
    CENTRAL_SESSION,
    Math.ceil(settings.pushDedupeWindow / 1000),
    settings.inboxCap,
    now,
  ];
  for (const { event, json } of built) {
    const origin = event.originSession ?? "";
    args.push(
      keys.pushMarker(event.id),
      json,
      origin,
      origin && keys.lease(origin),
      origin && keys.inbox(origin),
      origin && keys.notify(origin),
      origin && keys.dead(origin),
    );
  }
  const reached = (await runScript(
    redis,
    "push",
    [keys.inbox(CENTRAL_SESSION), keys.dead(CENTRAL_SESSION), keys.overflow],
    args,
  )) as number[];
  return built.map(({ event }, i) => ({
    id: event.id,
    delivered: reached[i] ?? 0,
    duplicate: reached[i] === 0,
    event,
  }));
}

export async function pushEvent(
  redis: Redis,
  settings: PushSettings,
  input: EventInput | GatewayEvent,
): Promise<PushResult> {
  const [result] = await pushEvents(redis, settings, [input]);
  return result!;
}
