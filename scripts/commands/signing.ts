// `agent-gateway signing rotate`: replaces the gateway's signing key (<home>/signing.key) and
// re-signs what is stored with it (the daemon's queued human messages, Telegram pairings). The
// daemon must be stopped: it holds the key in memory and removes its queue entries by value.
import { EXIT } from "../../core/config.ts";
import { readDaemonState } from "../../core/daemon-state.ts";
import { keysFor } from "../../core/keys.ts";
import { rotateSigningKey, signingKeyPath } from "../../core/signing.ts";
import { resignPairings } from "../../daemon/channels/telegram/pairing-store.ts";
import { resignQueue } from "../../daemon/queue.ts";
import { resignSchedules } from "../../core/schedule-store.ts";
import { configFrom, parse, UsageError, withRedis, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway signing rotate [--json]

The gateway signs what only its owner may put into Redis (the daemon's queue of human messages,
Telegram pairings, run-time schedules) with a key in <home>/signing.key (0600, created on first use). An entry whose
signature does not hold is never run: it is dead-lettered (a pairing: ignored and logged).

  rotate   make a new key and re-sign everything stored; the old key stops working.
           Stop the daemon first (agent-gateway daemon), start it again after.

Exit codes: 0 ok, 1 the daemon is running, 2 usage error, 75 Redis unreachable.`;

export const command: Command = {
  summary: "rotate the key that signs the daemon's queue and Telegram pairings",
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { json: { type: "boolean", default: false } });
    const [action, ...extra] = positionals;
    if (action !== "rotate") throw new UsageError(action ? `unknown action "${action}" (rotate)` : "missing action (rotate)");
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const config = configFrom(io);
    return withRedis(config, async (redis) => {
      const daemon = await readDaemonState(redis, config.prefix);
      if (daemon) {
        io.stderr(`agent-gateway signing: the daemon is running (pid ${daemon.pid} on ${daemon.host}); stop it first, rotate, then start it again`);
        return EXIT.failure;
      }
      const counts = { queue: 0, pairings: 0, schedules: 0 };
      await rotateSigningKey(config.home, async (old, next) => {
        counts.queue = await resignQueue(redis, keysFor(config.prefix).daemonQueue, old, next);
        counts.pairings = await resignPairings(redis, config.prefix, old, next);
        counts.schedules = await resignSchedules(redis, config.prefix, old, next);
      });
      if (values.json) io.stdout(JSON.stringify({ rotated: true, key: signingKeyPath(config.home), resigned: counts }));
      else io.stdout(`new signing key in ${signingKeyPath(config.home)}; re-signed ${counts.queue} queued message(s), ${counts.pairings} pairing(s) and ${counts.schedules} run-time schedule(s)`);
      return EXIT.ok;
    }, "agent-gateway-signing");
  },
};
