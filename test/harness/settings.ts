// Test settings: the real defaults from core/config, with a per-test key prefix, and a home of
// their own: an empty temp directory (no config.json to read; the signing key the Telegram
// channel and the CLI create lands there), removed when the test process exits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../core/config.ts";

let home: string | undefined;

/** The home every testConfig of this process shares. */
export function testHome(): string {
  if (!home) {
    const made = mkdtempSync(join(tmpdir(), "agent-gateway-test-home-"));
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
    home = made;
  }
  return home;
}

export function testConfig(url: string, prefix: string, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ AGENT_GATEWAY_HOME: testHome() });
  return { ...base, redisUrl: url, prefix, ...overrides };
}
