// Event ids the gateway makes itself: hook and GitHub deliveries (from their delivery id),
// schedule firings, heartbeats and watchdog alarms (from their slot or time). They dedupe
// redeliveries, so one taken ahead of time by another producer would make the real event a
// "duplicate" and drop it. POST /events refuses them.
export const RESERVED_ID_PREFIXES = ["hook-", "github-", "schedule-", "heartbeat-", "watchdog-"] as const;

/** Why a producer may not choose `id`; undefined when it may. */
export function reservedIdRefusal(id: unknown): string | undefined {
  if (typeof id !== "string") return undefined;
  const prefix = RESERVED_ID_PREFIXES.find((p) => id.startsWith(p));
  return prefix && `id "${prefix}…" is reserved for the events the gateway makes itself (${RESERVED_ID_PREFIXES.join(", ")}); choose another id, or leave it out`;
}
