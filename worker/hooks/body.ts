// A webhook body as an event payload: a JSON object as it is, any other JSON value as
// `{ body }`, a form as its fields (a repeated field as an array), anything else as `{ text }`.
// curl's -d sends JSON labelled as a form; a "form" that is one JSON object or array is JSON.
type Payload = Record<string, unknown>;

export type ParsedBody = { ok: true; payload: Payload } | { ok: false; error: string };

function fromJson(value: unknown): Payload {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Payload) : { body: value };
}

function jsonOrUndefined(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

function fromForm(text: string): Payload {
  const fields: Payload = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = fields[key];
    fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return { ...fields };
}

export function parseBody(text: string, contentType = ""): ParsedBody {
  const type = contentType.toLowerCase();
  if (type.includes("json")) {
    try {
      return { ok: true, payload: fromJson(JSON.parse(text)) };
    } catch (error) {
      return { ok: false, error: `body is not valid JSON (Content-Type ${contentType}): ${(error as Error).message}` };
    }
  }
  if (type.includes("application/x-www-form-urlencoded")) {
    const json = jsonOrUndefined(text);
    return { ok: true, payload: json === undefined ? fromForm(text) : fromJson(json) };
  }
  if (text.trim() === "") return { ok: true, payload: {} };
  return { ok: true, payload: { text } };
}
