// `agent-gateway doctor [--json]`: one line per part of the install — ok, warn or fail, with
// the fix — and exit 1 when anything fails. The checks live in scripts/doctor/, one file each.
import { EXIT } from "../../core/config.ts";
import { configFrom, parse, type Command } from "../cli-kit.ts";
import type { CheckResult, DoctorContext, Verdict } from "../doctor/check.ts";
import { buildCheck } from "../doctor/build.ts";
import { extensionCheck } from "../doctor/extension.ts";
import { fileModeChecks } from "../doctor/file-modes.ts";
import { heartbeatChecks } from "../doctor/heartbeat.ts";
import { readInstallState } from "../doctor/install-state.ts";
import { redisChecks } from "../doctor/redis.ts";
import { runtimeChecks } from "../doctor/runtime.ts";
import { serviceChecks } from "../doctor/services.ts";
import { workerCheck } from "../doctor/worker.ts";

const usage = `Usage: agent-gateway doctor [--json]

Checks the install and says, line by line, ok / warn / fail with the fix:
Node and pi versions; Redis reachable, loopback-bound or authenticated, persistent; the
extension registered with pi; the home's file modes (user-only); and for tier 2 and up the worker's /health, the last heartbeat
and the tripwire file against the watchdog threshold, the central tmux session, and the
services (launchd, systemd, or the nohup fallback).

Exit code 1 when any check fails.

Options:
  --json   machine-readable: { ok, tier, services, checks: [{ name, status, detail, fix? }] }`;

const LABEL: Record<Verdict, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "--  " };

export async function runChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const groups = await Promise.all([runtimeChecks, buildCheck, redisChecks, extensionCheck, fileModeChecks, workerCheck, heartbeatChecks, serviceChecks].map((check) => check(ctx)));
  return groups.flat();
}

export const command: Command = {
  summary: "check the install: versions, Redis, extension, worker, heartbeat, tmux, services",
  usage,
  async run(args, io) {
    const { values } = parse(args, { json: { type: "boolean", default: false } }, false);
    const config = configFrom(io);
    const install = readInstallState(config.home);
    const checks = await runChecks({ config, env: io.env, install });
    const ok = !checks.some((c) => c.status === "fail");
    if (values.json) {
      io.stdout(JSON.stringify({ ok, tier: install.tier, services: install.services ?? null, checks }, null, 2));
    } else {
      const tier = install.tier ? `tier ${install.tier}${install.services ? `, services: ${install.services}` : ""}` : "setup.sh has not run for this home; checking tier 1";
      io.stdout(`agent-gateway doctor (${tier}; home ${config.home})`);
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) {
        io.stdout(`  ${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
        if (c.fix) io.stdout(`  ${" ".repeat(6 + width)}  fix: ${c.fix}`);
      }
      const count = (v: Verdict) => checks.filter((c) => c.status === v).length;
      io.stdout(`${count("ok")} ok, ${count("warn")} warn, ${count("fail")} fail`);
    }
    return ok ? EXIT.ok : EXIT.failure;
  },
};
