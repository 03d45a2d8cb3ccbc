// A payload too large for one event (maxEventBytes), summarised until it fits: long strings
// cut, long arrays and objects shortened, each cut saying how much was left out, and a
// `_summarised` note with the original size. Steps get harsher until the JSON fits.
import { cutText } from "../../core/quote.ts";

type Json = Record<string, unknown>;
interface Caps {
  chars: number;
  items: number;
}

const STEPS: Caps[] = [
  { chars: 2000, items: 50 },
  { chars: 500, items: 20 },
  { chars: 120, items: 8 },
  { chars: 40, items: 3 },
];

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

function shrink(value: unknown, caps: Caps): unknown {
  if (typeof value === "string") return value.length > caps.chars ? `${cutText(value, caps.chars)}… (${value.length} chars)` : value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, caps.items).map((item) => shrink(item, caps));
    return value.length > caps.items ? [...kept, `… ${value.length - caps.items} more item(s)`] : kept;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    const kept: Json = {};
    for (const [key, item] of entries.slice(0, caps.items)) kept[key] = shrink(item, caps);
    if (entries.length > caps.items) kept["…"] = `${entries.length - caps.items} more field(s)`;
    return kept;
  }
  return value;
}

/** The payload itself when it takes at most `budget` bytes of JSON, else a summary that does. */
export function fitPayload(payload: Json, budget: number): Json {
  const bytes = bytesOf(payload);
  if (bytes <= budget) return payload;
  const note = { bytes, note: "the delivery was too large for one event; long values were cut" };
  for (const caps of STEPS) {
    const summary = { _summarised: note, ...(shrink(payload, caps) as Json) };
    if (bytesOf(summary) <= budget) return summary;
  }
  return { _summarised: { ...note, note: "the delivery was too large for one event; only its field names are kept" }, fields: Object.keys(payload).slice(0, 50).map((key) => cutText(key, 40)) };
}
