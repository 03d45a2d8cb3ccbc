// agent-gateway's pi extension (what pi loads; package.json "pi.extensions"). Wires pi's events
// to a Bridge. Inert in print and JSON mode (no UI) and inside the tier-4 daemon's embedded pi
// (GATEWAY_EMBEDDED=1; the daemon is the central session itself): it neither registers nor
// drains there, and opens nothing that could keep `pi -p` alive. Never writes to the console (that is the TUI).
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { type Config, ConfigError, loadConfig } from "../core/config.ts";
import { createLogger } from "../core/log.ts";
import { Bridge } from "./bridge.ts";
import { registerGatewayCommand } from "./command.ts";
import { registerScheduleTool } from "./schedule-tool.ts";
import { registerEventsTool } from "./events-tool.ts";
import { registerPushTool } from "./tool.ts";

function textOf(message: object): string {
  const content = "content" in message ? message.content : undefined;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: { type?: string; text?: string }) => (part.type === "text" ? part.text : "")).join("\n");
}

export default function agentGateway(pi: ExtensionAPI): void {
  let bridge: Bridge | undefined;

  pi.on("session_start", async (_event, ctx) => {
    if (!ctx.hasUI || process.env.GATEWAY_EMBEDDED === "1") return;
    if (bridge) return bridge.restarted(ctx);
    let config: Config;
    try {
      config = loadConfig();
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : String(error);
      ctx.ui.notify(`agent-gateway is off: ${message}`, "error");
      return;
    }
    const log = createLogger({ dir: config.paths.logs, kind: "extension", level: config.logLevel });
    bridge = new Bridge(pi, ctx, config, log);
  });

  pi.on("session_shutdown", async () => {
    const stopping = bridge;
    bridge = undefined;
    await stopping?.stop();
  });

  pi.on("agent_start", async () => bridge?.runStarted());
  pi.on("turn_start", async () => bridge?.runStarted());
  pi.on("turn_end", async (event) => {
    const message = event.message;
    const callsTools = message.role === "assistant" && message.content.some((part) => part.type === "toolCall");
    if (!callsTools) bridge?.runMayEnd();
  });
  pi.on("agent_end", async (event) => {
    const lastAssistant = [...event.messages].reverse().find((m) => m.role === "assistant");
    bridge?.runSettled(lastAssistant ? textOf(lastAssistant) : "", event.messages);
  });
  pi.on("message_end", async (event) => {
    if (event.message.role === "user") bridge?.userMessage(textOf(event.message));
  });
  pi.on("input", async (event) => {
    if (event.source !== "extension") bridge?.humanInput();
  });

  registerGatewayCommand(pi, () => bridge);
  registerPushTool(pi);
  registerScheduleTool(pi);
  registerEventsTool(pi);
}
