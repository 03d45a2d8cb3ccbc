// JSON.stringify(value, null, 2), built without recursion and capped while it is built: only the
// first `cap` characters are kept, the rest is only counted. A payload is rendered once per
// prompt, whatever its size, and no nesting can overflow the stack.
import { sanitise } from "./quote.ts";

export interface Rendered {
  /** The first `cap` characters (or fewer: never half a surrogate pair), sanitised. */
  text: string;
  /** Length of the whole rendering. */
  total: number;
}

type Item = string | { value: unknown; indent: string };

export function renderJson(value: unknown, cap: number): Rendered {
  let text = "";
  let total = 0;
  const emit = (piece: string) => {
    total += piece.length;
    if (text.length < cap) text += piece.length <= cap - text.length ? piece : piece.slice(0, cap - text.length);
  };
  const stack: Item[] = [{ value, indent: "" }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === "string") {
      emit(item);
      continue;
    }
    const { value: node, indent } = item;
    if (typeof node !== "object" || node === null) {
      emit(sanitise(JSON.stringify(node) ?? "null"));
      continue;
    }
    const inner = indent + "  ";
    const parts: Item[] = [];
    if (Array.isArray(node)) {
      if (node.length === 0) {
        emit("[]");
        continue;
      }
      node.forEach((child, i) => {
        parts.push(i === 0 ? `[\n${inner}` : `,\n${inner}`, { value: child === undefined ? null : child, indent: inner });
      });
      parts.push(`\n${indent}]`);
    } else {
      const entries = Object.entries(node).filter(([, child]) => child !== undefined);
      if (entries.length === 0) {
        emit("{}");
        continue;
      }
      entries.forEach(([key, child], i) => {
        parts.push(`${i === 0 ? "{" : ","}\n${inner}${sanitise(JSON.stringify(key))}: `, { value: child, indent: inner });
      });
      parts.push(`\n${indent}}`);
    }
    for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
  }
  const code = text.charCodeAt(text.length - 1);
  if (total > text.length && code >= 0xd800 && code <= 0xdbff) text = text.slice(0, -1);
  return { text, total };
}
