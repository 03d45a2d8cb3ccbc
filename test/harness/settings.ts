// Test settings: the real defaults from core/config, with a per-test key prefix.
import { loadConfig, type Config } from "../../core/config.ts";

export function testConfig(url: string, prefix: string, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ AGENT_GATEWAY_HOME: "/nonexistent-agent-gateway-home" });
  return { ...base, redisUrl: url, prefix, ...overrides };
}
