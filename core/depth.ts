// How deeply a JSON value nests, measured without recursion (a 100 000-deep value would
// overflow the stack of any recursive check) and without walking past the limit.
/** Nesting levels a payload may have: `{}` is 1, `{"a":[1]}` is 2. */
export const MAX_PAYLOAD_DEPTH = 64;

/** True when `value` nests deeper than `limit` levels of objects and arrays. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
