// The heartbeat's schedule, shared by the Inngest cron function and the local scheduler: the
// configured cron pattern, or one derived from heartbeat.interval (15m → "*/15 * * * *").
// Checked with croner at start-up, so a typo is a config error (exit 78), not a silent no-op.
import { Cron } from "croner";
import { ConfigError, type Config } from "../core/config.ts";
import { formatDuration } from "../core/duration.ts";

export interface HeartbeatSchedule {
  /** 5 fields (minutes), or 6 with seconds first. */
  pattern: string;
  timezone?: string;
}

/** A cron pattern firing every `ms`, when the interval divides a minute, an hour or a day evenly. */
export function cronForInterval(ms: number): string | undefined {
  const seconds = ms / 1000;
  if (!Number.isInteger(seconds) || seconds <= 0) return undefined;
  if (seconds < 60) return 60 % seconds === 0 ? `*/${seconds} * * * * *` : undefined;
  const minutes = seconds / 60;
  if (!Number.isInteger(minutes)) return undefined;
  if (minutes < 60) return 60 % minutes === 0 ? `*/${minutes} * * * *` : undefined;
  const hours = minutes / 60;
  if (!Number.isInteger(hours)) return undefined;
  if (hours < 24) return 24 % hours === 0 ? `0 */${hours} * * *` : undefined;
  return hours === 24 ? "0 0 * * *" : undefined;
}

export function heartbeatSchedule(config: Config): HeartbeatSchedule {
  const { cron, interval, timezone } = config.heartbeat;
  const pattern = cron ?? cronForInterval(interval);
  if (!pattern) {
    throw new ConfigError(
      "heartbeat.interval",
      `${formatDuration(interval)} does not divide a minute, an hour or a day evenly; set heartbeat.cron instead (e.g. "*/20 * * * *")`,
    );
  }
  try {
    new Cron(pattern, { timezone, paused: true }).nextRun();
  } catch (error) {
    const field = timezone && /timezone/i.test((error as Error).message) ? "heartbeat.timezone" : "heartbeat.cron";
    throw new ConfigError(field, `${JSON.stringify(field === "heartbeat.cron" ? pattern : timezone)}: ${(error as Error).message}`);
  }
  return { pattern, timezone };
}

/** Inngest's spelling of a cron schedule with a timezone: "TZ=Europe/Paris 0 9 * * *". */
export function inngestCron({ pattern, timezone }: HeartbeatSchedule): string {
  return timezone ? `TZ=${timezone} ${pattern}` : pattern;
}
