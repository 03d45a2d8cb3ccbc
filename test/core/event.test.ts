// The event schema at the producer boundary: ids and times filled in, clear errors naming the
// field, the size cap, unknown fields and versions refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildEvent, EventError, parseEntry } from "../../core/event.ts";
import { newEventId } from "../../core/id.ts";

test("buildEvent fills id (time-sortable), ts and payload", () => {
  const { event, json } = buildEvent({ type: "build.done", source: "ci" }, 65536, 1_700_000_000_000);
  assert.equal(event.ts, 1_700_000_000_000);
  assert.deepEqual(event.payload, {});
  assert.equal(JSON.parse(json).id, event.id);
  const ids = Array.from({ length: 1000 }, () => newEventId(1_700_000_000_000));
  assert.deepEqual([...ids].sort(), ids, "ids made in one millisecond keep their order");
  assert.ok(newEventId(1_700_000_000_001) > ids.at(-1)!, "later millisecond sorts later");
});

test("buildEvent names the bad field", () => {
  assert.throws(() => buildEvent({ type: "t" }), /invalid event: source/);
  for (const payload of [[1], "text", null, new Date(0), new Map()]) {
    assert.throws(() => buildEvent({ type: "t", source: "s", payload }), /payload: expected an object/);
  }
  assert.match(buildEvent({ type: "t", source: "s", payload: Object.create(null) }).json, /"payload":\{\}/);
  assert.throws(() => buildEvent({ type: "t", source: "s", priority: "asap" }), /priority/);
  assert.throws(() => buildEvent({ type: "t", source: "s", originSession: "a b" }), /originSession/);
  assert.throws(() => buildEvent({ type: "t", source: "s", colour: "red" }), /colour/);
  assert.throws(() => buildEvent({ type: "t", source: "s", v: 9 }), /schema version 9/);
});

test("buildEvent refuses an event over the size cap with its size", () => {
  assert.throws(
    () => buildEvent({ type: "t", source: "s", payload: { blob: "x".repeat(70_000) } }),
    (error: unknown) => error instanceof EventError && /bytes, over the 65536-byte cap/.test(error.message),
  );
});

test("parseEntry never throws and says why", () => {
  const reason = (raw: string) => (parseEntry(raw) as { ok: false; reason: string }).reason;
  assert.match(reason("\u0000"), /not JSON/);
  assert.match(reason("null"), /invalid event/);
  assert.match(reason('{"id":"a"}'), /type/);
  const ok = parseEntry('{"id":"a","type":"t","source":"s","payload":{"x":"\\u0000"},"ts":0,"v":1}');
  assert.equal(ok.ok, true);
});
