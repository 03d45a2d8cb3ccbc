// The public surface for producers' own scripts: `import { pushOrSpool } from "agent-gateway"`.
// Hand-picked, not a barrel of internals.
export { loadConfig, ConfigError, type Config } from "./config.ts";
export { eventSchema, EventError, type EventInput, type GatewayEvent, type Priority } from "./event.ts";
export { pushOrSpool, type ProducerOutcome } from "./producer.ts";
export { pushEvent, pushEvents, pushInBatches, type BatchOptions, type PushResult } from "./push.ts";
export { connectRedis, ensureConnected, RedisUnreachableError, type RedisTarget } from "./redis.ts";
export { isTemporary, RedisConfigError, RedisFullError, RedisReplyError } from "./redis-errors.ts";
