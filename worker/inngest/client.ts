// Which Inngest server (if any) the worker serves, and the client for it. "Configured" means
// INNGEST_DEV or INNGEST_BASE_URL set explicitly, or a signing key for Inngest Cloud. The worker
// never falls into dev mode by itself: dev mode executes unsigned calls.
import { Inngest, type Logger as InngestLogger } from "inngest";
import { ConfigError, type Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";

export const INNGEST_APP_ID = "agent-gateway";

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

/** The SDK's log calls, routed into the worker's log. */
function sdkLogger(log: Logger): InngestLogger {
  const route = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => {
    const [first, ...rest] = args;
    log[level](`inngest: ${typeof first === "string" ? first : JSON.stringify(first)}`, rest.length ? { detail: rest } : undefined);
  };
  return { debug: route("debug"), info: route("info"), warn: route("warn"), error: route("error") };
}

export function createInngestClient(config: Config, setup: InngestSetup, log: Logger): Inngest {
  return new Inngest({
    id: INNGEST_APP_ID,
    isDev: setup.kind === "dev",
    baseUrl: setup.baseUrl,
    signingKey: config.inngest.signingKey,
    eventKey: config.inngest.eventKey,
    logger: sdkLogger(log),
  });
}
