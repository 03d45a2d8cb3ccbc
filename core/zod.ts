// The zod the gateway validates with: zod/mini has zod's checks and messages in a fraction of its
// code, and every CLI start loads it. Mini loads no messages by itself; these are zod's English.
// Import it as a namespace (`import * as z from "./zod.ts"`) and never pass the namespace around:
// then the bundle keeps only the parts used (all of zod's locales are 250 KB).
import { config, type core } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";

/** A refusal from inside z.transform, which in mini gets no addIssue of its own. */
export function addIssue(payload: core.ParsePayload, message: string, path: PropertyKey[] = []): void {
  payload.issues.push({ code: "custom", message, input: payload.value, path });
}
