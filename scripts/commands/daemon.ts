// `agent-gateway daemon`: runs the tier-4 daemon in the foreground until SIGTERM/SIGINT, then
// finishes the current turn (within daemon.shutdownTimeout), tells clients, and exits 0.
import { EXIT } from "../../core/config.ts";
import { CentralSessionHeldError, type Daemon, startDaemon } from "../../daemon/main.ts";
import { LockHeldError } from "../../daemon/lock.ts";
import { RedisUnreachableError } from "../../core/redis-errors.ts";
import { configFrom, parse, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway daemon

Runs pi headless (through its SDK) as the central session "gateway", with your pi model, auth,
skills and extensions, and serves it to channels: Redis events and heartbeats, the WebSocket
channel (daemon.host:daemon.port, on when daemon.wsToken is set) and Telegram (when configured).
One command queue, humans first; each settled reply goes back to whoever asked.

Only one daemon runs per home directory (a lock file with its pid); a second one exits 1.
SIGTERM or SIGINT: the current turn may finish (daemon.shutdownTimeout), clients are told, exit 0.
Configuration errors exit 78. Logs: <home>/logs/daemon.log (and stderr).`;

export const command: Command = {
  summary: "run pi headless as the central session, with the WebSocket/Telegram channels",
  usage,
  async run(args, io) {
    parse(args, {}, false);
    const config = configFrom(io);
    let daemon: Daemon;
    try {
      daemon = await startDaemon({ config });
    } catch (error) {
      if (error instanceof LockHeldError || error instanceof CentralSessionHeldError) {
        io.stderr(`agent-gateway daemon: ${error.message}`);
        return EXIT.failure;
      }
      // TLS and credential problems are ConfigErrors (exit 78 in cli.ts), never "unreachable".
      if (error instanceof RedisUnreachableError) {
        io.stderr(`agent-gateway daemon: ${error.message}`);
        return EXIT.failure;
      }
      throw error;
    }
    io.stderr(`agent-gateway daemon: running (pid ${process.pid})${daemon.wsPort ? `, WebSocket on ${config.daemon.host}:${daemon.wsPort}` : ""}`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    await daemon.stop(signal);
    return EXIT.ok;
  },
};
