// `agent-gateway token [--rotate]`: the bearer token the worker's POST /events accepts. Setup
// (tier 2) creates one in config.json; this shows it, or replaces it and restarts the worker.
// The token goes to standard output only, never to a log.
import { chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { EXIT } from "../../core/config.ts";
import { setKey } from "../setup/json-file.ts";
import { configFrom, parse, type Command } from "../cli-kit.ts";

const usage = `Usage: agent-gateway token [--rotate]

Prints the API token for the worker's POST /events (config.json apiToken, or GATEWAY_API_TOKEN
when set), e.g.  curl -H "Authorization: Bearer $(agent-gateway token)" ...

Options:
  --rotate   write a new random token to config.json (mode 0600), restart the worker so it takes
             it, and print it; the old token stops working`;

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export const command: Command = {
  summary: "print (or --rotate) the worker's API token for POST /events",
  usage,
  async run(args, io) {
    const { values } = parse(args, { rotate: { type: "boolean" } }, false);
    const config = configFrom(io);
    if (!values.rotate) {
      if (!config.apiToken) {
        io.stderr(`agent-gateway token: no API token is configured; create one: agent-gateway token --rotate (or ./setup.sh 2)`);
        return EXIT.config;
      }
      io.stdout(config.apiToken);
      return EXIT.ok;
    }
    if (io.env.GATEWAY_API_TOKEN) {
      io.stderr("agent-gateway token: GATEWAY_API_TOKEN is set and overrides config.json; unset it first (the worker's service reads config.json)");
      return EXIT.config;
    }
    const token = newToken();
    setKey(config.paths.configFile, "apiToken", token);
    chmodSync(config.paths.configFile, 0o600);
    io.stdout(token);
    const { command: service } = await import("./service.ts");
    const restarted = await service.run(["restart", "worker"], { ...io, stdout: (line) => io.stderr(line) });
    if (restarted !== EXIT.ok) io.stderr("agent-gateway token: the new token is stored; restart the worker to use it: agent-gateway service restart worker");
    return EXIT.ok;
  },
};
