// The /gateway command: status, drain now, pause / resume delivery, and the newest dead letters.
import type { ExtensionAPI, ExtensionCommandContext } from "@mariozechner/pi-coding-agent";
import { formatDuration } from "../core/duration.ts";
import { oneLine } from "../core/quote.ts";
import { describeSpend } from "../core/spend.ts";
import { describeBudget } from "../core/budget-view.ts";
import type { Bridge, BridgeReport } from "./bridge.ts";

const SUBCOMMANDS = ["status", "drain", "pause", "resume", "dead"] as const;
const USAGE = "usage: /gateway [status | drain | pause | resume | dead [N]]";

function describe(r: BridgeReport): string {
  const lines = [
    `session ${r.identity.session} (${r.identity.role}${r.demoted ? ": the central session is held by another pi" : ""})`,
    `redis ${r.redisUrl}: ${r.link}`,
    `backlog ${r.backlog} · in flight ${r.inflight} · dead letters ${r.dead} · delivered here ${r.delivered}${r.paused ? " · PAUSED" : ""}`,
    `last heartbeat: ${r.lastHeartbeat ? `${formatDuration(Date.now() - r.lastHeartbeat)} ago` : "none seen"}`,
  ];
  if (r.watchdog) {
    lines.push(`watchdog: ${r.watchdog.alarm ? "ALARM" : "ok"} (silent ${formatDuration(r.watchdog.silentFor)}, threshold ${formatDuration(r.watchdog.threshold)})`);
  }
  if (r.lastError) lines.push(`last delivery error: ${r.lastError}`);
  if (r.spend) lines.push(...describeSpend(r.spend));
  if (r.budget) lines.push(...describeBudget(r.budget));
  if (r.budgetWait) lines.push(`budget wait: ${r.budgetWait}`);
  return lines.join("\n");
}

export function registerGatewayCommand(pi: ExtensionAPI, bridge: () => Bridge | undefined): void {
  pi.registerCommand("gateway", {
    description: "agent-gateway: status, drain, pause, resume, dead letters",
    // A prefix that already is a subcommand (or has an argument) offers nothing, so one Enter
    // runs it instead of first accepting the completion.
    getArgumentCompletions: (prefix) => {
      const typed = prefix.trimStart();
      if (/\s/.test(typed) || (SUBCOMMANDS as readonly string[]).includes(typed)) return null;
      const items = SUBCOMMANDS.filter((s) => s.startsWith(prefix)).map((s) => ({ value: s, label: s }));
      return items.length > 0 ? items : null;
    },
    handler: async (args: string, ctx: ExtensionCommandContext) => {
      const active = bridge();
      if (!active) {
        ctx.ui.notify("agent-gateway is not running in this session (print/json mode, or a config error: see its log)", "warning");
        return;
      }
      const [sub = "status", count] = args.trim().split(/\s+/).filter(Boolean);
      switch (sub) {
        case "status":
          ctx.ui.notify(describe(await active.report()), "info");
          return;
        case "drain":
          active.drainNow();
          ctx.ui.notify("agent-gateway: draining now", "info");
          return;
        case "pause":
          active.pause();
          ctx.ui.notify("agent-gateway: delivery paused; events wait in Redis (/gateway resume)", "info");
          return;
        case "resume":
          active.resume();
          ctx.ui.notify("agent-gateway: delivery resumed (a reached daily budget is lifted for today)", "info");
          return;
        case "dead": {
          const n = Number(count ?? 10);
          if (!Number.isInteger(n) || n < 1) return ctx.ui.notify(USAGE, "error");
          const letters = await active.deadLetters(n);
          const text = letters.length
            ? letters.map((d) => `- ${d.at ? new Date(d.at).toLocaleString() : "?"} ${oneLine(d.reason)}: ${oneLine(d.raw, 160)}`).join("\n")
            : "no dead letters";
          ctx.ui.notify(text, "info");
          return;
        }
        default:
          ctx.ui.notify(USAGE, "error");
      }
    },
  });
}
