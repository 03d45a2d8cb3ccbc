// Which Inngest server (if any) the worker serves. "Configured" means INNGEST_DEV or
// INNGEST_BASE_URL set explicitly, or a signing key for Inngest Cloud. The worker never falls
// into dev mode by itself: dev mode executes unsigned calls. Apart from the SDK (client.ts), so a
// worker without Inngest never loads it.
import { ConfigError, type Config } from "../../core/config.ts";

export interface InngestSetup {
  kind: "dev" | "self-hosted" | "cloud";
  baseUrl?: string;
}

const ON = new Set(["1", "true", "yes", "on"]);
const OFF = new Set(["0", "false", "no", "off", ""]);

/** Undefined when nothing is configured (the local scheduler runs the heartbeat instead). */
export function inngestSetup(config: Config): InngestSetup | undefined {
  const { dev, baseUrl, signingKey } = config.inngest;
  const devValue = dev?.trim().toLowerCase() ?? "";
  if (!OFF.has(devValue)) {
    if (ON.has(devValue)) return { kind: "dev", baseUrl };
    if (/^https?:\/\//.test(dev!.trim())) return { kind: "dev", baseUrl: dev!.trim() };
    throw new ConfigError("inngest.dev", `expected 1, true, 0, false or the dev server's URL, got ${JSON.stringify(dev)}`);
  }
  if (baseUrl) {
    if (!signingKey) {
      throw new ConfigError(
        "inngest.signingKey",
        "required with inngest.baseUrl (a self-hosted server signs its calls); set INNGEST_SIGNING_KEY, or INNGEST_DEV=1 for a local dev server",
      );
    }
    return { kind: "self-hosted", baseUrl };
  }
  return signingKey ? { kind: "cloud" } : undefined;
}
