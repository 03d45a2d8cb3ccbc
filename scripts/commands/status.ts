// `agent-gateway status`: who is connected and what is waiting, per session.
import { EXIT } from "../../core/config.ts";
import { formatDuration } from "../../core/duration.ts";
import { readState, type GatewayState } from "../../core/inspect.ts";
import { configFrom, parse, safeUrl, withRedis, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway status [--json]

Shows registered sessions (role, pid, host, age, lease left) and, per inbox, the events
waiting (backlog), drained but not yet acknowledged (in flight), dead letters and overflow.

Options:
  --json   machine-readable output`;

export function renderState(state: GatewayState, now = Date.now()): string[] {
  const lines: string[] = [];
  lines.push(state.sessions.length ? "Sessions:" : "Sessions: none running (events wait in their inboxes)");
  for (const { session, lease, leaseLeft } of state.sessions) {
    if (!lease) continue;
    lines.push(
      `  ${session.padEnd(14)} ${lease.role.padEnd(9)} pid ${lease.pid} on ${lease.host}, up ${formatDuration(now - lease.started)}, lease ${formatDuration(leaseLeft ?? 0)} left`,
    );
  }
  lines.push("", "Inboxes:        backlog  in-flight  dead  overflow");
  for (const i of state.inboxes) {
    lines.push(`  ${i.session.padEnd(14)} ${String(i.backlog).padStart(7)}  ${String(i.inflight).padStart(9)}  ${String(i.dead).padStart(4)}  ${String(i.overflow).padStart(8)}`);
  }
  lines.push("", `Last heartbeat: ${state.lastHeartbeat ? `${formatDuration(now - state.lastHeartbeat)} ago` : "never"}`);
  const daemon = state.daemon;
  if (daemon) {
    lines.push("", `Daemon: pid ${daemon.pid} on ${daemon.host}, up ${formatDuration(now - daemon.started)}, channels: ${daemon.channels.join(", ") || "none"}`);
    const running = daemon.running;
    lines.push(`  running: ${running ? `${running.kind} from ${running.source} (reply to ${running.replyTo}) for ${formatDuration(now - running.startedAt)}` : "idle"}`);
    const humans = daemon.waiting.filter((w) => w.kind === "human").length;
    lines.push(`  queue:   ${daemon.waiting.length} waiting (${humans} human, ${daemon.waiting.length - humans} automated)`);
  }
  return lines;
}

export const command: Command = {
  summary: "sessions, backlog, in-flight and dead letters per session",
  usage,
  async run(args, io) {
    const { values } = parse(args, { json: { type: "boolean", default: false } }, false);
    const config = configFrom(io);
    let state: GatewayState;
    try {
      state = await withRedis(config, (redis) => readState(redis, config.prefix));
    } catch (error) {
      io.stderr(`Redis at ${safeUrl(config.redisUrl)} is unreachable: ${(error as Error).message}`);
      io.stderr("Is it running? Try `agent-gateway doctor`.");
      return EXIT.failure;
    }
    if (values.json) io.stdout(JSON.stringify(state, null, 2));
    else for (const line of renderState(state)) io.stdout(line);
    return EXIT.ok;
  },
};
