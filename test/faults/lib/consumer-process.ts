// A stand-in consumer for the fault suite, run as a child process so it can be SIGKILLed:
// the drain loop (drainBatch → "deliver" by appending the ids to a file → ackBatch), waking on
// the notify channel or every 200 ms, retrying while Redis is away. Reconnects for ever.
// usage: node --import tsx consumer-process.ts <redis-url> <prefix> <delivered-file>
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ackBatch, drainBatch } from "../../../core/drain.ts";
import { CENTRAL_SESSION, keysFor } from "../../../core/keys.ts";
import { connectRedis, ensureConnected } from "../../../core/redis.ts";
import { testConfig } from "../../harness/settings.ts";

const [url, prefix, deliveredFile] = process.argv.slice(2);
if (!url || !prefix || !deliveredFile) {
  console.error("usage: consumer-process.ts <redis-url> <prefix> <delivered-file>");
  process.exit(2);
}
const settings = testConfig(url, prefix);
const redis = connectRedis(url, { kind: "consumer", name: "fault-consumer" });
const subscriber = connectRedis(url, { kind: "subscriber", name: "fault-consumer:sub" });

let wake: (() => void) | undefined;
subscriber.on("message", () => wake?.());
subscriber.on("ready", () => wake?.());
const nextWake = (ms: number) =>
  Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(ms)]).finally(() => (wake = undefined));

for (;;) {
  try {
    await Promise.all([ensureConnected(redis), ensureConnected(subscriber)]);
    await subscriber.subscribe(keysFor(prefix).notify(CENTRAL_SESSION));
    break;
  } catch {
    await sleep(100);
  }
}
process.stdout.write("ready\n");

for (;;) {
  try {
    const batch = await drainBatch(redis, settings, CENTRAL_SESSION);
    if (batch.entries.length > 0) {
      appendFileSync(deliveredFile, batch.entries.map((e) => e.event.id).join("\n") + "\n");
      await ackBatch(redis, settings, batch);
      continue;
    }
    await nextWake(200);
  } catch {
    await sleep(100); // Redis away: retry; the in-flight batch comes back marked redelivered
  }
}
