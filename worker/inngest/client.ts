// The Inngest client and the worker's /api/inngest handler for it, loaded (with the SDK) only
// when Inngest is configured (setup.ts decides).
import { Inngest, type Logger as InngestLogger } from "inngest";
import { serve } from "inngest/hono";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { PushTarget } from "../notify.ts";
import type { HeartbeatSchedule } from "../schedule.ts";
import { gatewayFunctions } from "./functions.ts";
import type { InngestSetup } from "./setup.ts";

export const INNGEST_APP_ID = "agent-gateway";

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

/** The /api/inngest handler serving the gateway's functions. */
export function inngestHandler(config: Config, setup: InngestSetup, target: PushTarget, schedule: HeartbeatSchedule | undefined, log: Logger) {
  const client = createInngestClient(config, setup, log);
  return serve({ client, functions: gatewayFunctions(client, target, schedule), serveOrigin: config.worker.serveOrigin });
}
