// What the worker's routes share: config, the Redis client, the log, and what runs the heartbeat.
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { SchedulerMode } from "./heartbeat.ts";

export interface SchedulerInfo {
  mode: SchedulerMode;
  /** The heartbeat cron pattern (absent when heartbeats are off). */
  pattern?: string;
  timezone?: string;
  /** inngest mode: dev, self-hosted or cloud. */
  inngest?: string;
  /** local mode: the next slot this worker will try to fire. */
  nextRun?: () => Date | null;
}

export interface WorkerContext {
  config: Config;
  redis: Redis;
  log: Logger;
  scheduler: SchedulerInfo;
  startedAt: number;
}

export { VERSION } from "../core/package-root.ts";
