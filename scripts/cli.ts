// `agent-gateway <command>`: dispatches to scripts/commands/<command>.ts, loaded on demand so
// `push` never pays for the worker's or the daemon's imports. A new command is one more line in
// COMMANDS (its file exports `command`).
import { ConfigError, EXIT } from "../core/config.ts";
import { EventError } from "../core/event.ts";
import { VERSION } from "../core/package-root.ts";
import { UsageError, type Command, type CommandIO } from "./cli-kit.ts";

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  push: () => import("./commands/push.ts"),
  run: () => import("./commands/run.ts"),
  watch: () => import("./commands/watch.ts"),
  status: () => import("./commands/status.ts"),
  worker: () => import("./commands/worker.ts"),
  daemon: () => import("./commands/daemon.ts"),
  flush: () => import("./commands/flush.ts"),
  tail: () => import("./commands/tail.ts"),
  dead: () => import("./commands/dead.ts"),
  history: () => import("./commands/history.ts"),
  logs: () => import("./commands/logs.ts"),
  pairing: () => import("./commands/pairing.ts"),
  signing: () => import("./commands/signing.ts"),
  schedule: () => import("./commands/schedule.ts"),
  doctor: () => import("./commands/doctor.ts"),
  "tripwire-check": () => import("./commands/tripwire-check.ts"),
  service: () => import("./commands/service.ts"),
  token: () => import("./commands/token.ts"),
};

function overview(commands: [string, Command][]): string {
  const width = Math.max(...commands.map(([name]) => name.length));
  return [
    "agent-gateway: reach a running pi session from anything on this machine",
    "",
    "Usage: agent-gateway <command> [options]   (agent-gateway <command> --help for details)",
    "",
    ...commands.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "  --version, -v  print the version",
    "",
    "Exit codes: 0 ok, 1 runtime failure, 2 usage error, 75 Redis unreachable (nothing written), 78 configuration error.",
  ].join("\n");
}

export function defaultIO(): CommandIO {
  return {
    env: process.env,
    stdout: (line) => process.stdout.write(line + "\n"),
    stderr: (line) => process.stderr.write(line + "\n"),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    io.stdout(`agent-gateway ${VERSION}`);
    return EXIT.ok;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const loaded = await Promise.all(Object.entries(COMMANDS).map(async ([n, load]) => [n, (await load()).command] as [string, Command]));
    io.stdout(overview(loaded));
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`agent-gateway: unknown command "${name}". Run \`agent-gateway --help\` for the list.`);
    return EXIT.usage;
  }
  const { command } = await load();
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`agent-gateway ${name}: ${error.message}\nRun \`agent-gateway ${name} --help\` for usage.`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`agent-gateway ${name}: ${error.message}`);
      return EXIT.config;
    }
    if (error instanceof EventError) {
      io.stderr(`agent-gateway ${name}: ${error.message}`);
      return EXIT.usage;
    }
    io.stderr(`agent-gateway ${name}: ${(error as Error).message}`);
    return EXIT.failure;
  }
}
