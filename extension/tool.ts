// The `gateway_push` tool: lets the agent push an event itself, e.g. from a satellite to reach
// the central session (every event reaches it), or to leave a note for a later heartbeat.
// Uses its own short-lived producer connection, so it works in every mode, even -p.
import { StringEnum, Type } from "@mariozechner/pi-ai";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { loadConfig } from "../core/config.ts";
import { chainFromEnv } from "../core/chain.ts";
import { pushEvent } from "../core/push.ts";
import { withProducer } from "../core/redis.ts";

export const PUSH_TOOL = "gateway_push";

const parameters = Type.Object({
  type: Type.String({ description: "Event type, e.g. note.for-central or job.done" }),
  payload: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "JSON object with the details" })),
  originSession: Type.Optional(Type.String({ description: "Also deliver to this session (e.g. a satellite's pid-<pid>)" })),
  priority: Type.Optional(StringEnum(["low", "normal", "urgent"] as const)),
});

export function registerPushTool(pi: ExtensionAPI): void {
  pi.registerTool({
    name: PUSH_TOOL,
    label: "Gateway push",
    description:
      "Push an event into agent-gateway. It always reaches the central session ('gateway'); with originSession it also reaches that session.",
    promptSnippet: "Push an event to the central agent-gateway session (or another session)",
    parameters,
    async execute(_id, params) {
      const config = loadConfig();
      const result = await withProducer(config, "agent-gateway:tool", (redis) =>
        pushEvent(redis, config, {
          type: params.type,
          source: `pi:${process.env.GATEWAY_SESSION ?? "unregistered"}`,
          payload: params.payload ?? {},
          originSession: params.originSession,
          priority: params.priority,
          chain: chainFromEnv(),
        }),
      );
      const text = result.duplicate
        ? `event ${result.id} was already pushed; not delivered again`
        : `pushed ${params.type} as ${result.id} to ${result.delivered} inbox${result.delivered === 1 ? "" : "es"}`;
      return { content: [{ type: "text", text }], details: result };
    },
  });
}
