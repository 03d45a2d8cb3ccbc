// Central and satellite sessions side by side in real pi processes: heartbeats reach only the
// central session (with the HEARTBEAT.md checklist), an event with a satellite's origin reaches
// both, and a second would-be central runs as a satellite and says so.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { keysFor } from "../../core/keys.ts";
import { pushEvent } from "../../core/push.ts";
import { pollUntil, startPi, tempDir, waitConnected, waitUserMessage } from "../harness/pi.ts";
import { startRedis } from "../harness/redis.ts";
import { testConfig } from "../harness/settings.ts";

const server = await startRedis();
const producer = await server.consumer();

test("central gets heartbeats, a satellite does not; an event with the satellite's origin reaches both", async () => {
  const prefix = server.prefix();
  const config = testConfig(server.url, prefix);
  const centralHome = tempDir("home");
  mkdirSync(centralHome, { recursive: true });
  writeFileSync(join(centralHome, "HEARTBEAT.md"), "- is the nightly backup done?\n");
  const quiet = { sweepInterval: "10m" };
  const [central, satellite] = await Promise.all([
    startPi({ redisUrl: server.url, prefix, role: "central", home: centralHome, config: quiet }),
    startPi({ redisUrl: server.url, prefix, role: "satellite", config: quiet }),
  ]);
  let second: Awaited<ReturnType<typeof startPi>> | undefined;
  try {
    const satelliteId = `pid-${satellite.child.pid}`;
    assert.match(await waitConnected(central), /^gateway · connected/);
    assert.equal(await waitConnected(satellite), `${satelliteId} (satellite) · connected`);

    await pushEvent(producer, config, { type: "cron.heartbeat", source: "scheduler" });
    const beat = JSON.stringify(await waitUserMessage(central, "## Heartbeat"));
    assert.match(beat, /is the nightly backup done\?/, "the checklist rides along");
    assert.match(beat, /HEARTBEAT_OK/);
    assert.ok(Number(await producer.get(keysFor(prefix).lastHeartbeat)) > 0, "last-heartbeat written");
    assert.ok(existsSync(join(centralHome, "last-heartbeat")), "tripwire touched");

    await pushEvent(producer, config, { type: "job.done", source: "sh", originSession: satelliteId, payload: { job: 7 } });
    await waitUserMessage(satellite, '## Type "job.done"');
    await waitUserMessage(central, '## Type "job.done"');
    assert.equal(satellite.userMessages().filter((m) => m.includes("Heartbeat")).length, 0, "no heartbeat on the satellite");
    assert.equal(satellite.userMessages().length, 1);

    // A second central: the id is taken, so it runs as a satellite and says so.
    second = await startPi({ redisUrl: server.url, prefix, role: "central", config: quiet });
    assert.equal(await waitConnected(second), `pid-${second.child.pid} (satellite, central taken) · connected`);
    await pollUntil("the takeover warning", () =>
      second!.notifications().some((n) => n.notifyType === "warning" && /central session is held by pid/.test(n.message)),
    );
  } finally {
    await Promise.all([central.kill(), satellite.kill(), second?.kill()]);
  }
});
