// The worker's Inngest functions: the heartbeat cron, an on-demand heartbeat (gateway/heartbeat.wake)
// and gateway/notify. Each pushes through gatewayNotify, so a retried step delivers once.
import { cron, type Inngest } from "inngest";
import { heartbeatInput } from "../heartbeat.ts";
import { gatewayNotify, type PushTarget } from "../notify.ts";
import { inngestCron, type HeartbeatSchedule } from "../schedule.ts";
import { notifyEvent, wakeEvent } from "./events.ts";

/** `schedule` undefined: heartbeats are switched off, only the wake and notify functions run. */
export function gatewayFunctions(client: Inngest, target: PushTarget, schedule: HeartbeatSchedule | undefined) {
  const wake = client.createFunction({ id: "heartbeat-wake", triggers: [wakeEvent] }, (ctx) =>
    gatewayNotify(ctx, heartbeatInput({ scheduler: "inngest", trigger: "wake" }), { target, stepId: "push-heartbeat" }),
  );
  const notify = client.createFunction({ id: "notify", triggers: [notifyEvent] }, (ctx) =>
    gatewayNotify(ctx, ctx.event.data, { target, stepId: "push-event" }),
  );
  if (!schedule) return [wake, notify];
  const heartbeat = client.createFunction({ id: "heartbeat", triggers: [cron(inngestCron(schedule))] }, (ctx) =>
    gatewayNotify(ctx, heartbeatInput({ scheduler: "inngest", trigger: "cron" }), { target, stepId: "push-heartbeat" }),
  );
  return [heartbeat, wake, notify];
}
