// What a schedule is: `cron` (5 or 6 fields), `every` (a duration, counted from the schedule's
// creation) or `at` (one instant, ISO 8601), plus the prompt the owner wants run and how its
// reply is handled. One zod schema for config.json's `schedules.<id>` and for run-time entries,
// so both are refused with the same field named.
import { Cron } from "croner";
import * as z from "./zod.ts";
import { parseDuration } from "./duration.ts";
import { prioritySchema } from "./event.ts";

/** Event type and source of a schedule firing (the type can be overridden per schedule). */
export const SCHEDULE_TYPE = "schedule.fired";
export const SCHEDULE_SOURCE = "agent-gateway-schedule";
/** An `at` schedule missed by less than this fires once on catch-up; by more, it is reported missed. */
export const AT_GRACE_MS = 24 * 3_600_000;
/** `every` below this would be a busy loop, not a schedule. */
const MIN_EVERY_MS = 1000;

export const SCHEDULE_ID_RULE = "a schedule id is 1-64 characters of A-Z a-z 0-9 _ -";
export const scheduleIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, SCHEDULE_ID_RULE));

/** A schedule's replyTo: a Telegram chat (whether the gateway knows it is checked with Redis, core/reply-target.ts). */
export const TELEGRAM_TARGET = /^telegram:(-?\d+)$/;
export const REPLY_TARGET_RULE = 'use "telegram:<chat id>", e.g. "telegram:123456789"';

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC (ms) at instant `ms`. */
function zoneOffset(zone: string | undefined, ms: number): number {
  const parts: Record<string, number> = {};
  const dtf = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  for (const { type, value } of dtf.formatToParts(new Date(ms))) parts[type] = Number(value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The instant of an ISO 8601 `at`: with Z or an offset as written, without one in `zone`. */
export function atInstant(at: string, zone?: string): number | undefined {
  if (ISO_ZONED.test(at)) return Date.parse(at);
  if (!ISO_LOCAL.test(at)) return undefined;
  const wall = Date.parse(`${at}Z`);
  if (Number.isNaN(wall)) return undefined;
  // The offset at the guess, then again at the corrected instant (they differ across a DST change).
  const first = wall - zoneOffset(zone, wall);
  return wall - zoneOffset(zone, first);
}

const everySchema = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < MIN_EVERY_MS) {
      z.addIssue(ctx, `expected a duration of at least 1s like "30m" or "2h", got ${JSON.stringify(value)}`);
      return z.NEVER;
    }
    return ms;
  }),
);

export const scheduleSchema = z
  .strictObject({
    cron: z.optional(z.string()),
    every: z.optional(everySchema),
    at: z.optional(z.string()),
    timezone: z.optional(z.string().check(z.refine(isTimeZone, "unknown time zone; use an IANA name like Europe/Paris"))),
    prompt: z.string().check(z.trim(), z.minLength(1, "say what the agent is asked to do"), z.maxLength(4000)),
    type: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    payload: z.optional(z.record(z.string(), z.unknown())),
    priority: z.optional(prioritySchema),
    enabled: z._default(z.boolean(), true),
    // Tier 4: the chat its settled reply goes to (core/reply-target.ts checks the chat is known).
    replyTo: z.optional(z.string().check(z.regex(TELEGRAM_TARGET, `not a chat address; ${REPLY_TARGET_RULE}`))),
    notify: z._default(z.enum(["unless-ok", "always"]), "unless-ok"),
  })
  .check(z.superRefine((s, ctx) => {
    const given = (["cron", "every", "at"] as const).filter((k) => s[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [given[1] ?? "cron"],
        message: given.length ? `give only one of cron, every, at (got ${given.join(" and ")})` : "give one of cron, every or at",
      });
      return;
    }
    if (s.cron !== undefined) {
      const fields = s.cron.trim().split(/\s+/).length;
      if (fields !== 5 && fields !== 6) {
        ctx.addIssue({ code: "custom", path: ["cron"], message: `${JSON.stringify(s.cron)} has ${fields} fields; use 5 (minute first) or 6 (second first)` });
        return;
      }
      try {
        new Cron(s.cron, { timezone: s.timezone, paused: true }).nextRun();
      } catch (error) {
        ctx.addIssue({ code: "custom", path: ["cron"], message: `${JSON.stringify(s.cron)}: ${(error as Error).message}` });
      }
    }
    if (s.at !== undefined && atInstant(s.at, s.timezone) === undefined) {
      ctx.addIssue({ code: "custom", path: ["at"], message: `${JSON.stringify(s.at)} is not ISO 8601; use e.g. "2026-12-02T09:00" (in the schedule's timezone) or "2026-12-02T08:00:00Z"` });
    }
  }));

export type ScheduleInput = z.input<typeof scheduleSchema>;
export type ScheduleDef = z.output<typeof scheduleSchema>;

/** When a schedule fires, resolved: croner pattern, period with its anchor, or one instant. */
export type ScheduleWhen = { cron: string } | { every: number; anchor: number } | { at: number };

/** Where a schedule comes from; it decides who is speaking when it fires. */
export type ScheduleOrigin = "config" | "cli" | "tool";

/** `anchor`: the schedule's creation (ms), which `every` counts from. */
export function whenOf(def: ScheduleDef, timezone: string | undefined, anchor: number): ScheduleWhen {
  if (def.cron !== undefined) return { cron: def.cron };
  if (def.every !== undefined) return { every: def.every, anchor };
  return { at: atInstant(def.at!, timezone)! };
}

/** "cron 0 20 7 * * 1-5", "every 2h", "at 2026-12-02T09:00" — how a schedule is shown. */
export function describeWhen(def: ScheduleDef): string {
  if (def.cron !== undefined) return `cron ${def.cron}`;
  if (def.every !== undefined) return `every ${def.every / 1000}s`;
  return `at ${def.at}`;
}
