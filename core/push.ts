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
  const window = settings.pushDedupeWindow;
  const current = window > 0 ? Math.floor(now / window) : 0;
  const args: (string | number)[] = [
    CENTRAL_SESSION,
    settings.inboxCap,
    window > 0 ? (current + 2) * window : 0,
    // The script appends session ids to these, so key names are made in keys.ts alone.
    keys.inbox(""),
    keys.notify(""),
    keys.lease(""),
    keys.dead(""),
  ];
  for (const { event, json } of built) args.push(event.id, json, event.originSession ?? "");
  const reached = (await runScript(
    redis,
    "push",
    [keys.overflow, keys.pushedIds(current), keys.pushedIds(current - 1)],
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
