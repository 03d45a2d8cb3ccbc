// What a user's own script does: `import { pushOrSpool } from "agent-gateway"` and push.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pushOrSpool } from "agent-gateway";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();

test("the package entry point pushes an event into the central inbox", async () => {
  const config = testConfig(server.url, server.prefix());
  const outcome = await pushOrSpool(config, { type: "download.done", source: "fetcher", payload: { file: "x.iso" } });
  assert.equal(outcome.spooled, false);
  const [raw] = await server.client().lrange(keysFor(config.prefix).inbox(CENTRAL_SESSION), 0, -1);
  assert.equal(JSON.parse(raw!).id, outcome.ids[0]);
});
