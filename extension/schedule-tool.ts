// The `gateway_schedule` tool: lets the agent set reminders for itself ("remind me tomorrow at
// 9"), one-shot (`at`) or recurring (`cron` / `every`), list schedules, and remove its own. What
// it creates fires later as "a reminder the agent set for itself", quoted, never as the owner's
// words; schedules from config.json or the owner's CLI cannot be changed or removed here.
import { StringEnum, Type } from "@mariozechner/pi-ai";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { loadConfig } from "../core/config.ts";
import { loadSigner } from "../core/signing.ts";
import { localClock } from "../core/local-time.ts";
import { REPLY_TO_ENV } from "../core/reply-target.ts";
import { withProducer } from "../core/redis.ts";
import { addRuntimeSchedule, removeRuntimeSchedule, ScheduleError } from "../core/schedule-store.ts";
import { viewSchedules } from "../core/schedule-view.ts";
import { describeWhen } from "../core/schedules.ts";

export const SCHEDULE_TOOL = "gateway_schedule";

const parameters = Type.Object({
  action: StringEnum(["add", "list", "remove"] as const),
  id: Type.Optional(Type.String({ description: "Schedule id (A-Z a-z 0-9 _ -), for add and remove" })),
  at: Type.Optional(Type.String({ description: 'One-shot: ISO 8601 time, e.g. "2026-12-02T09:00" (in timezone) or with Z / an offset' })),
  cron: Type.Optional(Type.String({ description: 'Recurring: cron, 5 fields (minute first) or 6 (second first), e.g. "20 7 * * 1-5"' })),
  every: Type.Optional(Type.String({ description: 'Recurring: a duration counted from now, e.g. "2h"' })),
  prompt: Type.Optional(Type.String({ description: "What you will be reminded to do when it fires" })),
  timezone: Type.Optional(Type.String({ description: "IANA zone for cron and at, e.g. Europe/Paris (default: the gateway's)" })),
});

type Params = { action: "add" | "list" | "remove"; id?: string; at?: string; cron?: string; every?: string; prompt?: string; timezone?: string };

async function act(params: Params): Promise<string> {
  const config = loadConfig();
  const signer = loadSigner(config.home);
  const clock = localClock(config.heartbeat.timezone);
  return withProducer(config, "agent-gateway:schedule-tool", async (redis) => {
    if (params.action === "list") {
      const { schedules } = await viewSchedules(redis, config, signer);
      if (schedules.length === 0) return "no schedules";
      return schedules
        .map((v) => `${v.id} (${v.origin === "tool" ? "yours" : v.origin === "cli" ? "the owner's, CLI" : "the owner's, config"}): ${describeWhen(v.def)}, next ${v.next === null ? "-" : clock.format(v.next)}`)
        .join("\n");
    }
    if (!params.id) throw new ScheduleError(`${params.action} needs an id`);
    if (params.action === "remove") {
      const removed = await removeRuntimeSchedule(redis, config, signer, params.id, "tool");
      return removed ? `schedule "${params.id}" removed` : `no run-time schedule "${params.id}"`;
    }
    const { action: _action, id, ...fields } = params;
    // Inside the daemon, a reminder set while answering a chat answers that chat when it fires.
    const askedFrom = process.env[REPLY_TO_ENV];
    const input = askedFrom ? { ...fields, replyTo: askedFrom } : fields;
    const added = await addRuntimeSchedule(redis, config, signer, { id, input, createdBy: "tool" });
    const [view] = (await viewSchedules(redis, config, signer)).schedules.filter((v) => v.id === added.id);
    const answers = added.def.replyTo ? ` Its reply goes to ${added.def.replyTo}.` : "";
    return `schedule "${added.id}" set (${describeWhen(added.def)}); next run ${view?.next ? clock.format(view.next) : "-"}. A worker (agent-gateway worker) fires it.${answers}`;
  });
}

export function registerScheduleTool(pi: ExtensionAPI): void {
  pi.registerTool({
    name: SCHEDULE_TOOL,
    label: "Gateway schedule",
    description:
      "Set a reminder for yourself that agent-gateway delivers back to you later: one-shot (at) or recurring (cron / every). " +
      "It is shown to you as a reminder you set, not as the user's instruction. List schedules, or remove one you set.",
    promptSnippet: "Schedule a reminder or recurring check for yourself (agent-gateway)",
    parameters,
    // A refusal (ScheduleError) is thrown: pi shows it to the agent as the tool's error result.
    async execute(_id, params) {
      return { content: [{ type: "text", text: await act(params as Params) }], details: {} };
    },
  });
}
