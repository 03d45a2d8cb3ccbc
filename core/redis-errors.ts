// Redis failures, typed (grammY-style): the transport failed (RedisUnreachableError) vs Redis
// answered with an error reply (RedisReplyError, carrying the reply). Each keeps its `cause`.
// Two refinements callers act on: RedisFullError (OOM: spool or 503 with the reason) and
// RedisConfigError (TLS or auth: exit 78 with the fix, never spooled). classifyRedisError
// decides by error type, Node's error codes and the reply's error code, not by message regexes.
import { ReplyError } from "ioredis";
import { ConfigError } from "./config.ts";

/** Replies that mean "not now" (a failover, a restart, a resharding), not "no". */
const TRANSIENT_REPLIES = new Set(["READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY"]);
/** Node socket errors that mean the network or the server is away. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);
/** ioredis' own errors for a connection that is not there; they carry no code. */
const IOREDIS_OFFLINE = ["Connection is closed.", "Stream isn't writeable", "Command timed out", "connect ETIMEDOUT", "Socket timeout", "All sentinels are unreachable", "Cluster is disconnected", "Cluster isn't ready", "None of startup nodes is available", "Node is disconnected"];

/** The transport failed: refused, reset, timed out, or no connection. Transient. */
export class RedisUnreachableError extends Error {
  override name = "RedisUnreachableError";
  readonly transient = true;
  constructor(
    readonly where: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Redis at ${where} is unreachable (${reason})`, options);
  }
  /** The socket's error code (ECONNREFUSED, ECONNRESET …), when the cause has one. */
  get code(): string | undefined {
    return (this.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** Redis answered with an error reply; `code` is its first word (NOPERM, OOM, WRONGTYPE …). */
export class RedisReplyError extends Error {
  override name = "RedisReplyError";
  readonly code: string;
  constructor(
    readonly where: string,
    readonly reply: Error,
    message = `Redis at ${where} refused: ${reply.message}`,
  ) {
    super(message, { cause: reply });
    this.code = replyCode(reply) ?? "ERR";
  }
  /** READONLY, LOADING …: the same command succeeds after a failover or restart. */
  get transient(): boolean {
    return TRANSIENT_REPLIES.has(this.code);
  }
}

/** maxmemory reached under noeviction: writes are refused until a consumer frees memory. */
export class RedisFullError extends RedisReplyError {
  override name = "RedisFullError";
  constructor(where: string, reply: Error, maxmemory?: number) {
    super(where, reply, `Redis is full (maxmemory ${maxmemory === undefined ? "limit" : formatBytes(maxmemory)} reached) at ${where}`);
  }
}

/** TLS or credentials are wrong: retrying or spooling cannot help; exit 78 with the fix. */
export class RedisConfigError extends ConfigError {
  override name = "RedisConfigError";
  constructor(field: string, detail: string, readonly fix: string, options: { cause: unknown }) {
    super(field, `${detail}: ${fix}`);
    this.cause = options.cause;
  }
}

export type RedisFailure = RedisUnreachableError | RedisReplyError | RedisConfigError;

/** The reply's error code, when the error is a Redis error reply. */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof ReplyError) && (error as Error | undefined)?.name !== "ReplyError") return undefined;
  return /^[A-Z]+/.exec((error as Error).message)?.[0];
}

/** Unreachable, or a transient reply: worth retrying, then spooling. */
export function isTransient(error: unknown): boolean {
  return (error instanceof RedisUnreachableError || error instanceof RedisReplyError) && error.transient;
}

/** Worth trying again later (exit 75, HTTP 503): transient, or Redis full. */
export function isTemporary(error: unknown): boolean {
  return isTransient(error) || error instanceof RedisFullError;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)}gb`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)}mb`;
  return bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)}kb` : `${bytes}b`;
}

export interface ClassifyContext {
  /** The masked URL or topology, for messages. */
  where: string;
  /** The user the gateway authenticates as ("default" when none). */
  user?: string;
  /** The connection never became ready and speaks TLS: a reset is the handshake refusing us. */
  freshTls?: boolean;
  maxmemory?: number;
}

function tlsFailure(error: NodeJS.ErrnoException, ctx: ClassifyContext): RedisConfigError | undefined {
  const code = error.code ?? "";
  const certificate = /CERT|SELF_SIGNED|ISSUER|LEAF_SIGNATURE/.test(code);
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new RedisConfigError("redis.tls.servername", `the TLS certificate of ${ctx.where} does not name this host (${error.message})`, "connect by the name in the certificate, or set REDIS_TLS_SERVERNAME (redis.tls.servername)", { cause: error });
  }
  if (certificate) {
    return new RedisConfigError("redis.tls.ca", `the TLS certificate of ${ctx.where} is not trusted (${code})`, "set REDIS_TLS_CA (redis.tls.ca) to the PEM file of the CA that signed it", { cause: error });
  }
  const handshakeReset = ctx.freshTls && code === "ECONNRESET";
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || handshakeReset) {
    return new RedisConfigError("redis.tls.cert", `the TLS handshake with ${ctx.where} failed (${handshakeReset ? "reset by the server: it requires a client certificate" : code})`, "set REDIS_TLS_CERT and REDIS_TLS_KEY (redis.tls.cert, redis.tls.key) to a client certificate the server's CA signed", { cause: error });
  }
  return undefined;
}

function replyFailure(reply: Error, code: string, ctx: ClassifyContext): RedisFailure {
  const user = ctx.user ?? "default";
  if (code === "WRONGPASS" || code === "NOAUTH") {
    const detail = code === "NOAUTH" ? `${ctx.where} requires a password` : `wrong password for user ${user} at ${ctx.where}`;
    return new RedisConfigError("redisUrl", detail, "put the user and password in REDIS_URL (redis://user:password@host:port) or config.json redisUrl", { cause: reply });
  }
  if (code === "NOPERM") {
    return new RedisConfigError("redisUrl", `user ${user} lacks a permission at ${ctx.where} (${reply.message})`, "grant the gateway's commands and keys: see the ACL SETUSER line in docs/production-redis.md", { cause: reply });
  }
  if (code === "OOM") return new RedisFullError(ctx.where, reply, ctx.maxmemory);
  return new RedisReplyError(ctx.where, reply);
}

/** The typed form of any error a Redis call threw; errors of other kinds come back unchanged. */
export function classifyRedisError(error: unknown, ctx: ClassifyContext): unknown {
  if (error instanceof RedisUnreachableError || error instanceof RedisReplyError || error instanceof RedisConfigError) return error;
  if (!(error instanceof Error)) return error;
  const code = replyCode(error);
  if (code) return replyFailure(error, code, ctx);
  const tls = tlsFailure(error as NodeJS.ErrnoException, ctx);
  if (tls) return tls;
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno && NETWORK_CODES.has(errno)) return new RedisUnreachableError(ctx.where, error.message, { cause: error });
  if (error.name === "MaxRetriesPerRequestError" || error.name === "ClusterAllFailedError" || IOREDIS_OFFLINE.some((m) => error.message.startsWith(m))) {
    return new RedisUnreachableError(ctx.where, /timed? ?out|TIMEDOUT/.test(error.message) ? "no answer in time" : "connection lost", { cause: error });
  }
  return error;
}
