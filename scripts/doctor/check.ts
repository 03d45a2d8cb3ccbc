// What a doctor check is: a named verdict (ok / warn / fail / skip) with the detail and, when
// something is wrong, the one command or step that fixes it.
import type { Config } from "../../core/config.ts";
import type { InstallState } from "./install-state.ts";

export type Verdict = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  name: string;
  status: Verdict;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  config: Config;
  env: NodeJS.ProcessEnv;
  install: InstallState;
}

export type Check = (ctx: DoctorContext) => Promise<CheckResult[]>;

export const result = (name: string, status: Verdict, detail: string, fix?: string): CheckResult =>
  fix ? { name, status, detail, fix } : { name, status, detail };

/** For parts of a tier that was not installed. */
export const notInTier = (name: string, tier: number, needed: number): CheckResult =>
  result(name, "skip", `not part of tier ${tier} (tier ${needed} and up: ./setup.sh ${needed})`);
