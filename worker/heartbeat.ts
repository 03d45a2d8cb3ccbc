// The heartbeat event both schedulers push (Inngest cron / wake, and the local scheduler).
import type { EventInput } from "../core/event.ts";
import { HEARTBEAT_TYPE } from "../core/format.ts";

export const WORKER_SOURCE = "agent-gateway-worker";

export type SchedulerMode = "inngest" | "local" | "off";

export function heartbeatInput(payload: { scheduler: "inngest" | "local"; trigger: string } & Record<string, unknown>): EventInput {
  return { type: HEARTBEAT_TYPE, source: WORKER_SOURCE, payload };
}
