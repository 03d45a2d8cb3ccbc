// The worker answers GET /health (tier 2 and up).
import { result, notInTier, type Check, type DoctorContext } from "./check.ts";

export function restartHint({ install, config }: DoctorContext, unit: "worker" | "central"): string {
  // The central pi's own log is the extension's, written in every service mode (central.out is launchd's only).
  const log = unit === "central" ? `${config.paths.logs}/extension.log; tmux attach -t agent-gateway` : `${config.paths.logs}/${unit}.out`;
  switch (install.services) {
    case "systemd":
      return `systemctl --user restart agent-gateway-${unit} (logs: journalctl --user -u agent-gateway-${unit})`;
    case "launchd":
      return `launchctl kickstart -k gui/$(id -u)/dev.agent-gateway.${unit} (logs: ${log})`;
    default:
      return `${install.repo ?? "."}/setup.sh ${install.tier || 2} starts it again (logs: ${log})`;
  }
}

export const workerCheck: Check = async (ctx) => {
  if (ctx.install.tier < 2) return [notInTier("worker", ctx.install.tier, 2)];
  const { host, port } = ctx.config.worker;
  const target = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}/health`;
  try {
    const response = await fetch(target, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return response.ok
      ? [result("worker", "ok", `${target} answered ${response.status}`)]
      : [result("worker", "fail", `${target} answered ${response.status}: running but unhealthy`, `see the redis line above and the worker's log (${ctx.config.paths.logs}/worker.log)`)];
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    return [result("worker", "fail", `${target} does not answer (${cause})`, restartHint(ctx, "worker"))];
  }
};
