// `agent-gateway watch <file>` as a user runs it (a real CLI subprocess, a real redis-server):
// a file that appears later, rotation (rename and a new file), truncation, a 10 000-line burst
// coalesced with nothing lost in the count, and a restart that pushes what was written meanwhile.
import assert from "node:assert/strict";
import { appendFileSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CENTRAL_SESSION, keysFor } from "../../core/keys.ts";
import { cliHome } from "../harness/cli.ts";
import { startRedis } from "../harness/redis.ts";

const server = await startRedis();
const redis = server.client();

interface WatchEvent {
  type: string;
  source: string;
  payload: { file: string; count: number; lines: string[]; omitted: number };
}

function home(config?: (home: string) => Record<string, unknown>) {
  const prefix = server.prefix();
  const cli = cliHome(server.url, prefix);
  if (config) writeFileSync(join(cli.home, "config.json"), JSON.stringify(config(cli.home)));
  const inbox = async (): Promise<WatchEvent[]> => (await redis.lrange(keysFor(prefix).inbox(CENTRAL_SESSION), 0, -1)).map((r) => JSON.parse(r)).reverse();
  /** Waits until the events pushed so far satisfy `done` (Redis is polled: the watcher's pushes are the event awaited). */
  const until = async (done: (events: WatchEvent[]) => boolean, what: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const events = await inbox();
      if (done(events)) return events;
      if (Date.now() > deadline) throw new Error(`${what}: not within 20 s; events: ${JSON.stringify(events).slice(0, 2000)}`);
      await sleep(50);
    }
  };
  const lines = (events: WatchEvent[]) => events.flatMap((e) => e.payload.lines);
  return { cli, inbox, until, lines };
}

test("watch: a file created later, renamed away and replaced, then truncated: every matching line pushed once, in order", async () => {
  const { cli, until, lines } = home();
  const file = join(cli.home, "app.log");
  const watch = cli.start(["watch", file, "--match", "^(ERROR|DONE)", "--type", "app.log", "--source", "app"]);
  await watch.waitFor("stderr", /"msg":"watching"/);

  writeFileSync(file, "INFO starting\nERROR disk almost full\n");
  let events = await until((e) => e.length === 1, "the line of a file created after watch started");
  assert.deepEqual([events[0]!.type, events[0]!.source, events[0]!.payload.file, events[0]!.payload.count], ["app.log", "app", file, 1]);

  // logrotate's create mode: the old file renamed (its writer still appends to it), a new one in its place.
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, "ERROR written to the old file after the rename\n");
  writeFileSync(file, "DONE first line of the new file\n");
  events = await until((e) => lines(e).length === 3, "the rotated lines");

  // copytruncate mode: the same file cut to nothing, then written again (less than was there).
  truncateSync(file, 0);
  appendFileSync(file, "ERROR after truncation\n");
  events = await until((e) => lines(e).length === 4, "the line after truncation");
  assert.deepEqual(lines(events), [
    "ERROR disk almost full",
    "ERROR written to the old file after the rename",
    "DONE first line of the new file",
    "ERROR after truncation",
  ]);
  assert.equal(await watch.stop(), 0);
});

test("watch: a 10 000-line burst is coalesced into a few events whose counts add up to 10 000; a restart pushes only what was written meanwhile", async () => {
  const { cli, until, inbox } = home();
  const file = join(cli.home, "burst.log");
  writeFileSync(file, "old line, before watch ever ran\n");
  let watch = cli.start(["watch", file]);
  await watch.waitFor("stderr", /"msg":"watching"/);
  appendFileSync(file, Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}\n`).join(""));
  const events = await until((e) => e.reduce((sum, x) => sum + x.payload.count, 0) >= 10_000, "the burst");
  assert.equal(events.reduce((sum, x) => sum + x.payload.count, 0), 10_000, "nothing lost or repeated in the count");
  assert.ok(events.length <= 3, `${events.length} events for one burst`);
  assert.deepEqual(events[0]!.payload.lines.slice(0, 2), ["line 1", "line 2"], "the first lines are quoted, the old one is not");
  assert.equal(events[0]!.payload.lines.length + events[0]!.payload.omitted, events[0]!.payload.count);
  assert.equal(await watch.stop(), 0);

  appendFileSync(file, "written while watch was down 1\nwritten while watch was down 2\n");
  watch = cli.start(["watch", file]);
  await watch.waitFor("stderr", /"msg":"watching"/);
  const after = await until((e) => e.length > events.length, "the lines written while down");
  assert.deepEqual(after.slice(events.length).map((e) => e.payload.lines), [["written while watch was down 1", "written while watch was down 2"]]);
  assert.equal(await watch.stop(), 0);
  assert.equal((await inbox()).length, events.length + 1, "nothing pushed twice");
});

test("watch --config-entries follows every `watch` entry of config.json (the service entry point); none configured is exit 78", async () => {
  const { cli, until } = home((dir) => ({
    watch: [
      { file: join(dir, "a.log"), match: "done", type: "backup.log", fromStart: true },
      { file: join(dir, "b.log"), source: "aria2" },
    ],
  }));
  writeFileSync(join(cli.home, "a.log"), "backup done before the first start\nnoise\n");
  const watch = cli.start(["watch", "--config-entries"]);
  await watch.waitFor("stderr", /"msg":"watching".*"msg":"watching"/s);
  appendFileSync(join(cli.home, "b.log"), "Download complete: film.mkv\n");
  const events = await until((e) => e.length === 2, "one event per file");
  assert.deepEqual(
    events.map((e) => [e.type, e.source, e.payload.lines]).sort(),
    [["backup.log", "watch", ["backup done before the first start"]], ["log.line", "aria2", ["Download complete: film.mkv"]]],
  );
  assert.equal(await watch.stop(), 0);
  const none = await home().cli.run(["watch", "--config-entries"]);
  assert.equal(none.code, 78);
  assert.match(none.stderr, /no `watch` entries/);
});
