// Event types for the senders the presets know: GitLab names the event in `object_kind`,
// Alertmanager and Grafana in `status` (firing / resolved). Other hooks use hook.<name>.
import type { HookConfig } from "../../core/hook-config.ts";

const word = (value: unknown) => (typeof value === "string" && /^[A-Za-z0-9_.-]{1,60}$/.test(value) ? value : undefined);

export function hookEventType(hook: HookConfig, payload: Record<string, unknown>): string {
  if (hook.type) return hook.type;
  if (hook.preset === "gitlab") return `gitlab.${word(payload.object_kind) ?? "event"}`;
  if (hook.preset === "alertmanager" || hook.preset === "grafana") return `alert.${word(payload.status) ?? "notification"}`;
  return `hook.${hook.name}`;
}
