// Configuration: environment over <home>/config.json over defaults, validated with zod once at
// start-up. A bad value stops the process with one message naming the field (exit 78, which
// supervisors are told not to restart on).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as z from "./zod.ts";
import { parseDuration } from "./duration.ts";
import { DEFAULT_MAX_EVENT_BYTES, sessionIdSchema } from "./event.ts";
import { hooksSchema } from "./hook-config.ts";
import { SCHEDULE_ID_RULE, scheduleIdSchema, scheduleSchema } from "./schedules.ts";

/** 75 (EX_TEMPFAIL): Redis unreachable and nothing was spooled; try again later. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 75, config: 78 } as const;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly field: string,
    detail: string,
    readonly origin?: string,
  ) {
    super(`config error: ${field}${origin ? ` (from ${origin})` : ""}: ${detail}`);
  }
}

const duration = (fallback: string) =>
  z.pipe(
    z._default(z.union([z.number(), z.string()]), fallback),
    z.transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        z.addIssue(ctx, `expected a duration like "90s", "15m" or seconds, got ${JSON.stringify(value)}`);
        return z.NEVER;
      }
      return ms;
    }),
  );
const optionalDuration = z.pipe(
  duration("0"),
  z.transform((ms) => (ms > 0 ? ms : undefined)),
);
const int = (fallback: number, min = 0) => z._default(z.coerce.number().check(z.int(), z.minimum(min)), fallback);
const port = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535)), fallback);
const flag = (fallback: boolean) =>
  z.pipe(
    z._default(z.union([z.boolean(), z.enum(["1", "0", "true", "false", "yes", "no", "on", "off"])]), fallback),
    z.transform((v) => v === true || v === "1" || v === "true" || v === "yes" || v === "on"),
  );
const text = (min = 1) => z.optional(z.string().check(z.minLength(min)));
// Generic over the shape, zod cannot see that {} satisfies an all-defaults object; it does.
const section = <T extends z.core.$ZodLooseShape>(shape: T) => z.prefault(z.strictObject(shape), {} as never);
/** Values from the environment are strings: "a,b,c" is split before the array is checked. */
const commaList = <T extends z.core.SomeType>(item: T, split: (text: string) => unknown[]) =>
  z._default(
    z.pipe(
      z.transform((v: unknown) => (typeof v === "string" ? split(v) : v)),
      z.array(item),
    ),
    [],
  );
// "host:port,host:port" from the environment, or a JSON array in config.json.
const hostPorts = commaList(
  z.string().check(z.regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, "expected host:port")),
  (v) => v.split(",").map((a) => a.trim()).filter(Boolean),
);
// One optional Redis Cluster hash tag ({…}, not empty): every key starts with the prefix, so
// with a tag all of a gateway's keys hash to one slot, as its scripts need on a cluster.
const PREFIX = /^(?=.{1,64}$)[A-Za-z0-9_.-]*(?:\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/;
/** The prefix's hash tag ("agent" for "{agent}"), if it has one. */
export function hashTag(prefix: string): string | undefined {
  return /\{([^}]+)\}/.exec(prefix)?.[1];
}
const readableFile = z.optional(z.string().check(z.refine((file) => existsSync(file), "no such file (give the path of a PEM file)")));

export const configSchema = z.strictObject({
  redisUrl: z._default(
    z.string().check(z.refine((u) => /^rediss?:\/\//.test(u), "must start with redis:// or rediss:// (TLS)")),
    "redis://127.0.0.1:6379",
  ),
  // No default here: it depends on the mode (see withDefaultPrefix).
  prefix: z.optional(z.string().check(z.regex(PREFIX, "1-64 characters: letters, digits, _ . - and at most one {hash tag}, e.g. agent or {agent}"))),
  role: z._default(z.enum(["central", "satellite"]), "central"),
  session: z.optional(sessionIdSchema),
  apiToken: z.optional(z.string().check(z.minLength(16, "use at least 16 characters"))),
  logLevel: z._default(z.enum(["debug", "info", "warn", "error"]), "info"),
  maxEventBytes: int(DEFAULT_MAX_EVENT_BYTES, 256),
  inboxCap: int(100_000),
  maxEventAge: optionalDuration,
  drainBatch: int(100, 1),
  drainBatchBytes: int(512 * 1024, 1024),
  pushDedupeWindow: duration("24h"),
  ackMemory: duration("10m"),
  leaseTtl: duration("30s"),
  sweepInterval: duration("30s"),
  // Production Redis (docs/production-redis.md): Sentinel or Cluster, TLS files, replication.
  redis: section({
    sentinels: hostPorts,
    sentinelName: text(),
    sentinelPassword: z.optional(z.string()),
    cluster: hostPorts,
    tls: section({ ca: readableFile, cert: readableFile, key: readableFile, servername: text() }),
    waitReplicas: int(0),
    waitTimeout: duration("1s"),
  }).check(
    z.refine((r) => r.sentinels.length === 0 || Boolean(r.sentinelName), { message: "REDIS_SENTINELS needs the master's name: set REDIS_SENTINEL_NAME (redis.sentinelName)", path: ["sentinelName"] }),
    z.refine((r) => r.sentinels.length === 0 || r.cluster.length === 0, { message: "choose Sentinel or Cluster, not both: unset REDIS_CLUSTER_NODES or REDIS_SENTINELS", path: ["cluster"] }),
    z.refine((r) => !r.tls.cert === !r.tls.key, { message: "a client certificate needs its key: set both REDIS_TLS_CERT and REDIS_TLS_KEY", path: ["tls"] }),
  ),
  // Every budget is off (0 / unset) by default (docs/attention.md).
  budget: section({
    maxChainDepth: int(5, 0),
    /** Automated runs per source in any sliding hour; 0: no per-source budget. */
    perSource: int(0, 0),
    /** Automated runs of all sources together in any sliding hour; 0: no limit. */
    automatedPerHour: int(0, 0),
    /** Urgent events start runs past their source's budget (never past automatedPerHour). */
    urgentBypassesPerSource: flag(true),
    daily: section({
      /** Tokens (input + output + cache) of automated runs per local day; 0: no limit. */
      tokens: int(0, 0),
      /** Cost of automated runs per local day, in the provider's currency; 0: no limit. */
      cost: z._default(z.coerce.number().check(z.minimum(0)), 0),
    }),
    /** Past the daily budget urgent events wait too. */
    hard: flag(false),
  }),
  storm: section({
    maxEvents: int(100_000, 1),
    listed: int(50, 1),
  }),
  history: section({
    maxEvents: int(100_000, 0),
    maxAge: duration("7d"),
  }),
  heartbeat: section({
    enabled: flag(true),
    interval: duration("15m"),
    cron: z.optional(z.string()),
    timezone: z.optional(z.string()),
    file: z.optional(z.string()),
    backoffAfter: int(3),
    quietAfterHuman: duration("10m"),
    precheck: text(),
    precheckTimeout: duration("30s"),
  }),
  watchdog: section({
    /** A heartbeat source is installed (setup's tier 2 writes it): arm even before the first heartbeat. */
    expectHeartbeats: flag(false),
    threshold: optionalDuration,
    checkEvery: optionalDuration,
  }),
  worker: section({
    host: z._default(z.string(), "127.0.0.1"),
    port: port(8787),
    serveOrigin: z.optional(z.url()),
    githubSecret: z.optional(z.string()),
    bodyLimit: int(1024 * 1024, 1024),
    rateLimitPerMinute: int(120, 1),
    hooks: hooksSchema,
  }),
  inngest: section({
    baseUrl: z.optional(z.url()),
    dev: z.optional(z.string()),
    signingKey: z.optional(z.string()),
    eventKey: z.optional(z.string()),
  }),
  daemon: section({
    host: z._default(z.string(), "127.0.0.1"),
    port: port(8788),
    wsToken: z.optional(z.string().check(z.minLength(16, "use at least 16 characters"))),
    // Browser pages allowed to open the WebSocket (exact Origin values); clients sending no Origin are not browsers.
    allowedOrigins: z._default(z.array(z.string().check(z.minLength(1))), []),
    requestsPerSecond: int(20, 1),
    turnTimeout: duration("10m"),
    queueLimit: int(50, 1),
    replyTo: z.optional(z.string()),
    cwd: z.optional(z.string()),
    shutdownTimeout: duration("30s"),
    tickInterval: duration("30s"),
  }),
  // Files `agent-gateway watch --config-entries` follows, one event per matching line.
  watch: z._default(
    z.array(
      z.strictObject({
        file: z.string().check(z.minLength(1)),
        match: z.optional(
          z.string().check(
            z.refine((pattern) => {
              try {
                return Boolean(new RegExp(pattern));
              } catch {
                return false;
              }
            }, "not a valid regular expression"),
          ),
        ),
        type: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
        source: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
        fromStart: z._default(z.boolean(), false),
      }),
    ),
    [],
  ),
  telegram: section({
    botToken: z.optional(z.string()),
    // A JSON array in config.json, or "123,-456" from TELEGRAM_ALLOWED_CHATS.
    allowedChats: commaList(z.int(), (v) => v.split(",").filter((id) => id.trim()).map(Number)),
    apiRoot: z.optional(z.url()),
    pairingTtl: duration("1h"),
  }),
  // User-defined prompts on a cron / every / at schedule (docs/schedules.md).
  schedules: z._default(
    z.record(scheduleIdSchema, scheduleSchema, { error: (issue) => (issue.code === "invalid_key" ? SCHEDULE_ID_RULE : undefined) }),
    {},
  ),
});

/**
 * The prefix in force: the seed's `agent` outside cluster mode (its raw key names stay valid),
 * `{agent}` on a cluster. A cluster prefix without a hash tag is refused with the fix.
 */
const withDefaultPrefix = z.pipe(
  configSchema.check(
    z.superRefine((s, ctx) => {
      if (s.redis.cluster.length > 0 && s.prefix !== undefined && !hashTag(s.prefix)) {
        ctx.addIssue({
          code: "custom",
          path: ["prefix"],
          message: `in cluster mode the prefix needs a {hash tag} so all of the gateway's keys share one slot: set GATEWAY_PREFIX to "{${s.prefix}}" (or leave it unset for "{agent}")`,
        });
      }
    }),
  ),
  z.transform((s) => ({ ...s, prefix: s.prefix ?? (s.redis.cluster.length > 0 ? "{agent}" : "agent") })),
);

type Settings = z.output<typeof withDefaultPrefix>;
export interface Config extends Settings {
  readonly home: string;
  readonly paths: {
    configFile: string;
    spool: string;
    tripwire: string;
    heartbeatFile: string;
    logs: string;
  };
}

/** Environment variables and the config field each one overrides. */
export const ENV_FIELDS: Record<string, string> = {
  REDIS_URL: "redisUrl",
  REDIS_SENTINELS: "redis.sentinels",
  REDIS_SENTINEL_NAME: "redis.sentinelName",
  REDIS_SENTINEL_PASSWORD: "redis.sentinelPassword",
  REDIS_CLUSTER_NODES: "redis.cluster",
  REDIS_TLS_CA: "redis.tls.ca",
  REDIS_TLS_CERT: "redis.tls.cert",
  REDIS_TLS_KEY: "redis.tls.key",
  REDIS_TLS_SERVERNAME: "redis.tls.servername",
  REDIS_WAIT_REPLICAS: "redis.waitReplicas",
  REDIS_WAIT_TIMEOUT: "redis.waitTimeout",
  GATEWAY_PREFIX: "prefix",
  GATEWAY_ROLE: "role",
  GATEWAY_SESSION: "session",
  GATEWAY_API_TOKEN: "apiToken",
  GATEWAY_LOG_LEVEL: "logLevel",
  GATEWAY_HEARTBEAT: "heartbeat.enabled",
  GATEWAY_HEARTBEAT_INTERVAL: "heartbeat.interval",
  GATEWAY_HEARTBEAT_FILE: "heartbeat.file",
  GATEWAY_HEARTBEAT_PRECHECK: "heartbeat.precheck",
  GATEWAY_WATCHDOG_THRESHOLD: "watchdog.threshold",
  TELEGRAM_BOT_TOKEN: "telegram.botToken",
  TELEGRAM_ALLOWED_CHATS: "telegram.allowedChats",
  INNGEST_BASE_URL: "inngest.baseUrl",
  INNGEST_DEV: "inngest.dev",
  INNGEST_SIGNING_KEY: "inngest.signingKey",
  INNGEST_EVENT_KEY: "inngest.eventKey",
  INNGEST_SERVE_ORIGIN: "worker.serveOrigin",
  GITHUB_WEBHOOK_SECRET: "worker.githubSecret",
};

export function gatewayHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AGENT_GATEWAY_HOME || join(homedir(), ".config", "agent-gateway");
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    const copy = child && typeof child === "object" ? { ...child } : {};
    node[part] = copy;
    node = copy as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError("config.json", `${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError("config.json", `${file} must hold a JSON object`);
  }
  return data as Record<string, unknown>;
}

/** Loads and validates the configuration; throws ConfigError naming the first bad field. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const home = gatewayHome(env);
  const configFile = join(home, "config.json");
  const raw = readConfigFile(configFile);
  const fromEnv = new Map<string, string>();
  for (const [name, field] of Object.entries(ENV_FIELDS)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    setPath(raw, field, value);
    fromEnv.set(field, name);
  }
  const parsed = withDefaultPrefix.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".") || "(config)";
    throw new ConfigError(field, issue.message, fromEnv.get(field) ?? (existsSync(configFile) ? configFile : undefined));
  }
  const settings = parsed.data;
  return {
    ...settings,
    home,
    paths: {
      configFile,
      spool: join(home, "spool.jsonl"),
      tripwire: join(home, "last-heartbeat"),
      heartbeatFile: settings.heartbeat.file ?? join(home, "HEARTBEAT.md"),
      logs: join(home, "logs"),
    },
  };
}

/** The watchdog threshold: configured, or twice the heartbeat interval. */
export function watchdogThreshold(config: Config): number {
  return config.watchdog.threshold ?? 2 * config.heartbeat.interval;
}
