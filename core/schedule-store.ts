// Run-time schedules (created with the CLI or the agent's gateway_schedule tool), kept in Redis,
// not in config.json: one hash, id → the entry's JSON sealed with the gateway's local key
// (`sig1:<HMAC>.<JSON>`, purpose "run-time-schedule").
// An entry only counts once its signature verifies with the gateway's local key, so Redis write
// access alone cannot plant an instruction. Config schedules cannot be replaced or removed here.
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import { describeZodError } from "./event.ts";
import { keysFor } from "./keys.ts";
import { replyTargetProblem } from "./reply-target.ts";
import type { Signer } from "./signing.ts";
import { atInstant, scheduleIdSchema, scheduleSchema, type ScheduleDef } from "./schedules.ts";

export const MAX_RUNTIME_SCHEDULES = 50;
/** A fired one-shot entry is kept this long, so its event still verifies when it is delivered late. */
const SPENT_TTL_MS = 7 * 86_400_000;
/** The signing purpose: a value sealed for anything else does not verify as a schedule. */
export const SCHEDULE_SEAL = "run-time-schedule";

export type RuntimeCreator = "cli" | "tool";

export interface RuntimeSchedule {
  id: string;
  createdAt: number;
  createdBy: RuntimeCreator;
  def: ScheduleDef;
}

/** A refused add or remove; the message names the fix. */
export class ScheduleError extends Error {
  override name = "ScheduleError";
}

function signed(signer: Signer, entry: object): string {
  return signer.seal(SCHEDULE_SEAL, JSON.stringify(entry));
}

/** The verified entry stored under `id`, or why it does not count (unsigned, forged, invalid). */
export function readEntry(id: string, raw: string, signer: Pick<Signer, "open">): RuntimeSchedule | { id: string; refused: string } {
  const text = signer.open(SCHEDULE_SEAL, raw);
  if (text === undefined) return { id, refused: "not signed, or the signature does not verify with this gateway's key" };
  const entry = JSON.parse(text) as { id?: unknown; createdAt?: unknown; createdBy?: unknown; def?: unknown };
  if (entry.id !== id) return { id, refused: `signed for schedule ${JSON.stringify(entry.id)}, stored as ${JSON.stringify(id)}` };
  const def = scheduleSchema.safeParse(entry.def);
  if (!def.success || typeof entry.createdAt !== "number" || (entry.createdBy !== "cli" && entry.createdBy !== "tool")) {
    return { id, refused: def.success ? "malformed entry" : describeZodError(def.error) };
  }
  return { id, createdAt: entry.createdAt, createdBy: entry.createdBy, def: def.data };
}

export interface LoadedSchedules {
  schedules: RuntimeSchedule[];
  refused: { id: string; refused: string }[];
}

export function readEntries(all: Record<string, string>, signer: Pick<Signer, "open">): LoadedSchedules {
  const loaded: LoadedSchedules = { schedules: [], refused: [] };
  for (const [id, raw] of Object.entries(all)) {
    const read = readEntry(id, raw, signer);
    if ("refused" in read) loaded.refused.push(read);
    else loaded.schedules.push(read);
  }
  loaded.schedules.sort((a, b) => a.id.localeCompare(b.id));
  return loaded;
}

export async function loadRuntimeSchedules(redis: Redis, prefix: string, signer: Signer): Promise<LoadedSchedules> {
  return readEntries(await redis.hgetall(keysFor(prefix).schedules), signer);
}

export interface AddRequest {
  id: string;
  input: unknown;
  createdBy: RuntimeCreator;
  now?: number;
}

/** Validates, signs and stores one run-time schedule (replacing one of the same id). */
export async function addRuntimeSchedule(redis: Redis, config: Config, signer: Signer, request: AddRequest): Promise<RuntimeSchedule> {
  const { id, createdBy, now = Date.now() } = request;
  const idCheck = scheduleIdSchema.safeParse(id);
  if (!idCheck.success) throw new ScheduleError(`schedule id ${JSON.stringify(id)}: ${idCheck.error.issues[0]!.message}`);
  if (config.schedules[id]) throw new ScheduleError(`schedule "${id}" is defined in ${config.paths.configFile}; change it there, or pick another id`);
  const parsed = scheduleSchema.safeParse(request.input);
  if (!parsed.success) throw new ScheduleError(`schedule "${id}": ${describeZodError(parsed.error)}`);
  const def = parsed.data;
  if (def.at !== undefined && atInstant(def.at, def.timezone ?? config.heartbeat.timezone)! <= now) {
    throw new ScheduleError(`schedule "${id}": at ${def.at} is in the past; give a future time`);
  }
  const target = def.replyTo === undefined ? undefined : await replyTargetProblem(redis, config, signer, def.replyTo);
  if (target) throw new ScheduleError(`schedule "${id}": replyTo ${target}`);
  const key = keysFor(config.prefix).schedules;
  const entry: RuntimeSchedule = { id, createdAt: now, createdBy, def: request.input as ScheduleDef };
  // WATCH: the count and the write are one step, so concurrent adds cannot pass the cap.
  for (;;) {
    await redis.watch(key);
    const existing = await redis.hget(key, id);
    if (existing !== null && createdBy === "tool") {
      const current = readEntry(id, existing, signer);
      if (!("refused" in current) && current.createdBy === "cli") {
        await redis.unwatch();
        throw new ScheduleError(`schedule "${id}" was set by the owner with the CLI; the tool cannot change it (pick another id)`);
      }
    }
    if (existing === null && (await redis.hlen(key)) >= MAX_RUNTIME_SCHEDULES) {
      await redis.unwatch();
      throw new ScheduleError(`there are already ${MAX_RUNTIME_SCHEDULES} run-time schedules, the most allowed; remove one first`);
    }
    const keys = keysFor(config.prefix);
    const done = await redis.multi().hset(key, id, signed(signer, entry)).del(keys.lastFired(`schedule:${id}`)).hdel(keys.scheduleResults, id).exec();
    if (done) return { ...entry, def };
  }
}

/** Removes a run-time schedule; false when there was none. The tool may remove only its own. */
export async function removeRuntimeSchedule(redis: Redis, config: Config, signer: Signer, id: string, by: RuntimeCreator): Promise<boolean> {
  if (config.schedules[id]) throw new ScheduleError(`schedule "${id}" is defined in ${config.paths.configFile}; remove it there`);
  const keys = keysFor(config.prefix);
  const raw = await redis.hget(keys.schedules, id);
  if (raw === null) return false;
  const current = readEntry(id, raw, signer);
  if (by === "tool" && !("refused" in current) && current.createdBy === "cli") {
    throw new ScheduleError(`schedule "${id}" was set by the owner with the CLI; only \`agent-gateway schedule rm ${id}\` removes it`);
  }
  await redis.multi().hdel(keys.schedules, id).del(keys.lastFired(`schedule:${id}`)).hdel(keys.scheduleResults, id).exec();
  return true;
}

/** A one-shot entry that fired leaves the list; its signed text stays a week for the consumer. */
export async function spendRuntimeSchedule(redis: Redis, prefix: string, id: string): Promise<void> {
  const keys = keysFor(prefix);
  const raw = await redis.hget(keys.schedules, id);
  if (raw === null) return;
  await redis.multi().set(keys.scheduleSpent(id), raw, "PX", SPENT_TTL_MS).hdel(keys.schedules, id).exec();
}

/** The stored entries for these ids (active, else recently spent), for the consumer to verify. */
export async function fetchEntries(redis: Redis, prefix: string, ids: readonly string[]): Promise<Map<string, string>> {
  const keys = keysFor(prefix);
  const found = new Map<string, string>();
  for (const id of new Set(ids)) {
    const raw = (await redis.hget(keys.schedules, id)) ?? (await redis.get(keys.scheduleSpent(id)));
    if (raw !== null) found.set(id, raw);
  }
  return found;
}

/** Re-seals every run-time schedule with a new key (`agent-gateway signing rotate`); forged entries stay as they are. */
export async function resignSchedules(redis: Redis, prefix: string, old: Signer, next: Signer): Promise<number> {
  const key = keysFor(prefix).schedules;
  const resealed: Record<string, string> = {};
  for (const [id, raw] of Object.entries(await redis.hgetall(key))) {
    const data = old.open(SCHEDULE_SEAL, raw);
    if (data !== undefined) resealed[id] = next.seal(SCHEDULE_SEAL, data);
  }
  if (Object.keys(resealed).length > 0) await redis.hset(key, resealed);
  return Object.keys(resealed).length;
}
