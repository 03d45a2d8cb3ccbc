// Every Redis key and channel name the gateway uses, in one place. The defaults are
// byte-compatible with the seed's shell commands: agent:events:<sid>, agent:notify:<sid>,
// agent:gateway:sessions.

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
  readonly sessions: string;
  readonly overflow: string;
  readonly lastHeartbeat: string;
  pushMarker(id: string): string;
  lock(name: string): string;
  /** Last slot a scheduled job fired for (ms), so a restarted scheduler catches up once. */
  lastFired(name: string): string;
}

export function keysFor(prefix = "agent"): Keys {
  const p = `${prefix}:`;
  return {
    prefix,
    inbox: (sid) => `${p}events:${sid}`,
    notify: (sid) => `${p}notify:${sid}`,
    inflight: (sid) => `${p}inflight:${sid}`,
    dead: (sid) => `${p}dead:${sid}`,
    acked: (sid) => `${p}acked:${sid}`,
    lease: (sid) => `${p}gateway:lease:${sid}`,
    sessions: `${p}gateway:sessions`,
    overflow: `${p}gateway:overflow`,
    lastHeartbeat: `${p}gateway:last-heartbeat`,
    pushMarker: (id) => `${p}gateway:pushed:${id}`,
    lock: (name) => `${p}gateway:lock:${name}`,
    lastFired: (name) => `${p}gateway:last-fired:${name}`,
  };
}

/** The inboxes a session drains: its own, plus the legacy one for the central session. */
export function inboxesOf(sid: string): string[] {
  return sid === CENTRAL_SESSION ? [CENTRAL_SESSION, LEGACY_SESSION] : [sid];
}
