// The Inngest events the worker listens to. Send them from your own code or another app:
//   await inngest.send(notifyEvent.create({ type: "build.done", payload: { ok: true } }));
import { eventType } from "inngest";
import { eventInputSchema, prioritySchema, sessionIdSchema } from "../../core/event.ts";
import * as z from "../../core/zod.ts";

/** gateway/notify: data is a gateway event without id and ts (source defaults to "inngest"). */
export const notifyDataSchema = z.strictObject({
  type: eventInputSchema.shape.type,
  source: z.optional(eventInputSchema.shape.source),
  payload: eventInputSchema.shape.payload,
  originSession: z.optional(sessionIdSchema),
  priority: z.optional(prioritySchema),
});

export const notifyEvent = eventType("gateway/notify", { schema: notifyDataSchema });

/** gateway/heartbeat.wake: a heartbeat now, outside the schedule. */
export const wakeEvent = eventType("gateway/heartbeat.wake");
