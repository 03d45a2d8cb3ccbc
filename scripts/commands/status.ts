// `agent-gateway status`: who is connected and what is waiting, per session. The readable form
// is a list of sections, each a small function of the report: add a section to extend it.
import { ConfigError, EXIT } from "../../core/config.ts";
import { formatDuration } from "../../core/duration.ts";
import { CENTRAL_SESSION } from "../../core/keys.ts";
import { readState, type GatewayState } from "../../core/inspect.ts";
import { evictionWarning } from "../../core/memory.ts";
import { describeTarget } from "../../core/redis.ts";
import { formatBytes } from "../../core/redis-errors.ts";
import { localClock } from "../../core/local-time.ts";
import { scheduleJson, scheduleRows, viewSchedules, type ScheduleJson } from "../../core/schedule-view.ts";
import { loadSigner } from "../../core/signing.ts";
import { describeSpend, readSpend, type SpendDay } from "../../core/spend.ts";
import { describeBudget, readBudgetState, type BudgetState } from "../../core/budget-view.ts";
import { countSpooled } from "../../core/spool.ts";
import { configFrom, parse, withRedis, type Command } from "../cli-kit.ts";
import { table } from "../table.ts";

const usage = `Usage: agent-gateway status [--json]

Shows the Redis persistence mode and memory policy (with a warning when it evicts keys), who
holds the central session (pid, host, since when, supervised or not) and how long the central
inbox has waited, registered sessions (role, pid, host, age, lease left) and,
per inbox, the events waiting (backlog), drained but not yet acknowledged (in flight), dead
letters, overflow (events the inbox cap moved to dead letters) and the oldest event's age;
the last heartbeat; the tokens and cost of the runs the gateway started (today and the last 7
days, human runs apart) and the budgets (daily: reached or not, until when; runs in the last
hour); each schedule's next run, last run and last result (fired, missed, reply sent, dropped as
ok, reply logged, reply failed); events spooled locally while Redis was unreachable.

Options:
  --json   machine-readable output (the same fields; times in ms since the epoch)

Exit codes: 0 ok, 1 Redis unreachable (the local spool is still shown).`;

export interface StatusReport extends GatewayState {
  redisUrl: string;
  /** Usage of the runs of the last 7 local days, today first (automated apart from human). */
  spend: SpendDay[];
  /** budget.* against what the automated runs used (docs/attention.md). */
  budget: BudgetState;
  spool: { path: string; waiting: number };
  /** Every schedule (config and verified run-time ones), as `schedule list --json` shows it. */
  schedules: ScheduleJson[];
  /** The zone local times are shown in (heartbeat.timezone; undefined: this machine's). */
  timezone?: string;
}

type Section = (report: StatusReport, now: number) => string[];

const ago = (now: number, then: number | undefined) => (then === undefined ? "-" : formatDuration(Math.max(0, now - then)));

const redisSection: Section = (r) => {
  const warn = r.persistence.aof === false ? "  (AOF off: a Redis restart can lose waiting events)" : "";
  const unknown = r.persistence.aof === undefined ? " (INFO not allowed for this user)" : "";
  const { maxmemory, policy } = r.memory;
  const memory = policy === undefined ? "memory unknown (INFO not allowed for this user)" : `maxmemory ${maxmemory ? formatBytes(maxmemory) : "none"}, policy ${policy}`;
  const evicting = evictionWarning(r.memory);
  return [
    `Redis: ${r.redisUrl}, persistence ${r.persistence.mode}${unknown}${warn}, ${memory}`,
    ...(evicting ? [`warning: ${evicting.warning}; fix: ${evicting.fix}`] : []),
  ];
};

/** Who holds central (pid, host, since, supervised) and how long the central inbox has waited. */
const centralSection: Section = (r, now) => {
  const central = r.sessions.find((s) => s.session === CENTRAL_SESSION)?.lease;
  const inbox = r.inboxes.find((i) => i.session === CENTRAL_SESSION);
  const waited = inbox?.oldestTs === undefined ? "nothing waiting" : `oldest waiting ${ago(now, inbox.oldestTs)}`;
  if (!central) return ["", `Central: nobody holds it (${waited}); start it: ./setup.sh 2, or run pi`];
  const how = central.supervised ? "supervised" : "not supervised";
  const claim = central.claim === "default" ? ", central by the config default" : "";
  return ["", `Central: pid ${central.pid} on ${central.host}, since ${ago(now, central.started)} ago (${how}${claim}); ${waited}`];
};

const sessionsSection: Section = (r, now) => {
  if (r.sessions.length === 0) return ["", "Sessions: none running (events wait in their inboxes)"];
  const rows = r.sessions.map(({ session, lease, leaseLeft }) => [
    session,
    lease?.role ?? "?",
    lease?.pid ?? "?",
    lease?.host ?? "?",
    ago(now, lease?.started),
    formatDuration(leaseLeft ?? 0),
  ]);
  return ["", "Sessions:", ...table(["SESSION", "ROLE", "PID", "HOST", "AGE", "LEASE LEFT"], rows)];
};

const inboxesSection: Section = (r, now) => {
  const rows = r.inboxes.map((i) => [i.session, i.backlog, i.inflight, i.dead, i.overflow, ago(now, i.oldestTs)]);
  return ["", "Inboxes:", ...table(["INBOX", "BACKLOG", "IN-FLIGHT", "DEAD", "OVERFLOW", "OLDEST"], rows)];
};

const heartbeatSection: Section = (r, now) => [
  "",
  `Last heartbeat: ${r.lastHeartbeat ? `${ago(now, r.lastHeartbeat)} ago` : "never"}`,
];

const spoolSection: Section = (r) =>
  r.spool.waiting > 0 ? ["", `Spool: ${r.spool.waiting} event(s) waiting in ${r.spool.path}; run \`agent-gateway flush\``] : [];

const daemonSection: Section = (r, now) => {
  const daemon = r.daemon;
  if (!daemon) return [];
  const running = daemon.running;
  const humans = daemon.waiting.filter((w) => w.kind === "human").length;
  return [
    "",
    `Daemon: pid ${daemon.pid} on ${daemon.host}, up ${formatDuration(now - daemon.started)}, channels: ${daemon.channels.join(", ") || "none"}`,
    `  running: ${running ? `${running.kind} from ${running.source} (reply to ${running.replyTo}) for ${formatDuration(now - running.startedAt)}` : "idle"}`,
    `  queue:   ${daemon.waiting.length} waiting (${humans} human, ${daemon.waiting.length - humans} automated)`,
  ];
};

const schedulesSection: Section = (r) =>
  r.schedules.length === 0 ? [] : ["", "Schedules:", ...table(...scheduleRows(r.schedules, localClock(r.timezone)))];

const spendSection: Section = (r) => ["", "Spend:", ...describeSpend(r.spend).map((line) => `  ${line}`)];

const budgetSection: Section = (r) => ["", "Budget:", ...describeBudget(r.budget).map((line) => `  ${line}`)];

const SECTIONS: Section[] = [redisSection, centralSection, sessionsSection, inboxesSection, heartbeatSection, schedulesSection, spendSection, budgetSection, spoolSection, daemonSection];

export function renderStatus(report: StatusReport, now = Date.now()): string[] {
  return SECTIONS.flatMap((section) => section(report, now));
}

export const command: Command = {
  summary: "sessions, inboxes (backlog, in-flight, dead, overflow), heartbeat, persistence, spool",
  usage,
  async run(args, io) {
    const { values } = parse(args, { json: { type: "boolean", default: false } }, false);
    const config = configFrom(io);
    const spool = { path: config.paths.spool, waiting: countSpooled(config.paths.spool) };
    let state: GatewayState & { spend: SpendDay[]; budget: BudgetState; schedules: ScheduleJson[] };
    try {
      state = await withRedis(
        config,
        async (redis) => ({
          ...(await readState(redis, config.prefix)),
          spend: await readSpend(redis, config.prefix, Date.now(), config.heartbeat.timezone),
          budget: await readBudgetState(redis, config.prefix, config.budget, Date.now(), config.heartbeat.timezone),
          schedules: (await viewSchedules(redis, config, loadSigner(config.home))).schedules.map(scheduleJson),
        }),
        "agent-gateway-status",
      );
    } catch (error) {
      if (error instanceof ConfigError) throw error; // TLS or credentials: exit 78 with the fix
      io.stderr(`agent-gateway status: ${(error as Error).message}`);
      if (spool.waiting > 0) io.stderr(`${spool.waiting} event(s) are spooled in ${spool.path}; they are delivered by \`agent-gateway flush\` once Redis is back.`);
      return EXIT.failure;
    }
    const report: StatusReport = { redisUrl: describeTarget(config), ...state, spool, timezone: config.heartbeat.timezone };
    if (values.json) io.stdout(JSON.stringify(report, null, 2));
    else for (const line of renderStatus(report)) io.stdout(line);
    return EXIT.ok;
  },
};
