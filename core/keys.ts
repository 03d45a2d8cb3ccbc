// Every Redis key and channel name the gateway uses, in one place. The defaults are
// byte-compatible with the seed's shell commands: agent:events:<sid>, agent:notify:<sid>,
// agent:gateway:sessions. Every key starts with the prefix, so on a cluster the prefix's hash
// tag ({agent}) puts all of them in one slot, as the scripts and pipelines need: a key built
// anywhere else would break cluster mode, so new keys get a builder here.

/** The always-on session that receives every event. */
export const CENTRAL_SESSION = "gateway";
/** The seed's tier-1 inbox; the central session drains it too. */
export const LEGACY_SESSION = "main";

export interface Keys {
  readonly prefix: string;
  inbox(sid: string): string;
  notify(sid: string): string;
  inflight(sid: string): string;
  dead(sid: string): string;
  acked(sid: string): string;
  lease(sid: string): string;
  /** An explicit claimant's request that a default-role holder hand the session over (owner token, TTL). */
  handover(sid: string): string;
  readonly sessions: string;
  readonly overflow: string;
  readonly lastHeartbeat: string;
  /** Ids pushed during one dedupe window (hash: id → 1), numbered since the epoch. */
  pushedIds(window: number): string;
  lock(name: string): string;
  /** A signed webhook delivery already pushed (its event id, TTL: the hook's replay window). */
  hookSignature(hook: string, digest: string): string;
  /** Last slot a scheduled job fired for (ms), so a restarted scheduler catches up once. */
  lastFired(name: string): string;
  /** Delivered events of a session (stream, bounded by count and age), read by gateway_events and `history`. */
  history(sid: string): string;
  /** How many history entries the bounds dropped (integer). */
  historyDropped(sid: string): string;
  /** Events the runaway breaker held (list, oldest first) until a human releases them. */
  held(sid: string): string;
  /** Usage of the runs of one local day (hash: "<automated|human>:<runs|input|output|cacheRead|cacheWrite|cost>"). */
  spend(day: string): string;
  /** Automated runs of the last hour, all sources (sorted set: run id → start ms), for budget.automatedPerHour. */
  readonly budgetRuns: string;
  /** Automated runs of the last hour a source started (same shape), for budget.perSource. */
  budgetSource(source: string): string;
  /** Set once a local day's budget.daily is reached: the notice and budget.exhausted event go out once. */
  budgetExhausted(day: string): string;
  /** Set by /gateway resume: the daily budget is lifted for the rest of that local day. */
  budgetResumed(day: string): string;
  /** The daemon's durable queue of human messages (list, oldest first). */
  readonly daemonQueue: string;
  /** The daemon's published state (JSON with TTL), for `status`. */
  readonly daemonState: string;
  /** Telegram: marks an update as handled (TTL), so one Telegram delivers again after a crash is skipped. */
  telegramHandled(botId: number, updateId: number): string;
  /** Telegram: chat ids let in by an approved pairing code (set). */
  readonly telegramPaired: string;
  /** Pending pairing codes (sorted set: code → expiry ms), one hash per code. */
  readonly pairings: string;
  pairing(code: string): string;
  /** The code (or "denied") a chat was last given, so it is refused only once. */
  pairingChat(chatId: number): string;
  /** Run-time schedules (hash: id → the entry JSON, sealed with the local key). */
  readonly schedules: string;
  /** A fired one-shot run-time schedule's signed entry, kept a while so its event still verifies. */
  scheduleSpent(id: string): string;
  /** When a config schedule was first seen (ms): its creation, for `every` and catch-up. */
  scheduleCreated(id: string): string;
  /** Hash: schedule id → its last result as JSON {result, slot, at} (core/schedule-result.ts). */
  readonly scheduleResults: string;
  /** doctor's throw-away key for trying each command the gateway needs (deleted again). */
  doctorProbe(token: string): string;
}

// The last prefix's keys are kept: producers ask for every push, and building twenty closures
// each time is measurable on the push path. One entry, because a process uses one prefix (tests
// that use several only rebuild).
let last: Keys | undefined;

export function keysFor(prefix = "agent"): Keys {
  if (last?.prefix !== prefix) last = makeKeys(prefix);
  return last;
}

function makeKeys(prefix: string): Keys {
  const p = `${prefix}:`;
  return {
    prefix,
    inbox: (sid) => `${p}events:${sid}`,
    notify: (sid) => `${p}notify:${sid}`,
    inflight: (sid) => `${p}inflight:${sid}`,
    dead: (sid) => `${p}dead:${sid}`,
    acked: (sid) => `${p}acked:${sid}`,
    lease: (sid) => `${p}gateway:lease:${sid}`,
    handover: (sid) => `${p}gateway:handover:${sid}`,
    sessions: `${p}gateway:sessions`,
    overflow: `${p}gateway:overflow`,
    lastHeartbeat: `${p}gateway:last-heartbeat`,
    pushedIds: (window) => `${p}gateway:pushed-ids:${window}`,
    lock: (name) => `${p}gateway:lock:${name}`,
    hookSignature: (hook, digest) => `${p}gateway:hook-signature:${hook}:${digest}`,
    history: (sid) => `${p}gateway:history:${sid}`,
    historyDropped: (sid) => `${p}gateway:history-dropped:${sid}`,
    held: (sid) => `${p}gateway:held:${sid}`,
    spend: (day) => `${p}gateway:spend:${day}`,
    budgetRuns: `${p}gateway:budget:runs`,
    budgetSource: (source) => `${p}gateway:budget:source:${source}`,
    budgetExhausted: (day) => `${p}gateway:budget:exhausted:${day}`,
    budgetResumed: (day) => `${p}gateway:budget:resumed:${day}`,
    daemonQueue: `${p}gateway:daemon:queue`,
    daemonState: `${p}gateway:daemon:state`,
    lastFired: (name) => `${p}gateway:last-fired:${name}`,
    telegramHandled: (botId, updateId) => `${p}gateway:telegram:handled:${botId}:${updateId}`,
    telegramPaired: `${p}gateway:telegram:paired`,
    pairings: `${p}gateway:pairings`,
    pairing: (code) => `${p}gateway:pairing:${code}`,
    pairingChat: (chatId) => `${p}gateway:pairing-chat:${chatId}`,
    schedules: `${p}gateway:schedules`,
    scheduleSpent: (id) => `${p}gateway:schedule-spent:${id}`,
    scheduleCreated: (id) => `${p}gateway:schedule-created:${id}`,
    scheduleResults: `${p}gateway:schedule-results`,
    doctorProbe: (token) => `${p}gateway:doctor-probe:${token}`,
  };
}

/** The inboxes a session drains: its own, plus the legacy one for the central session. */
export function inboxesOf(sid: string): string[] {
  return sid === CENTRAL_SESSION ? [CENTRAL_SESSION, LEGACY_SESSION] : [sid];
}
