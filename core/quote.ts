// Showing untrusted text to a model as data: control characters made visible, single-line
// fields kept on one line, and fenced blocks whose fence no content can close early.

// C0 controls except tab and newline, DEL, C1 controls, the bidi overrides that can make text
// read differently from what it is ("trojan source"), and invisible characters that can carry
// hidden text: zero-width and direction marks (U+200B-200F, U+061C), U+FEFF, and the tag
// characters U+E0000-E007F (invisible copies of ASCII that models read).
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/gu;

/** Replaces unsafe characters with a visible `\uXXXX` (`\u{E0041}` beyond the BMP), keeping newline and tab. */
export function sanitise(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16).toUpperCase()}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** At most `max` characters, never splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = Math.max(0, max);
  const code = text.charCodeAt(end - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
}

/** A field shown inline (type, source, id): one line, sanitised, at most `max` characters. */
export function oneLine(text: string, max = 120): string {
  const flat = sanitise(text.replace(/[\r\n\t\u2028\u2029]+/g, " "));
  return flat.length <= max ? flat : `${cutText(flat, max - 1)}…`;
}

/** A producer-given field (type, source, id) shown inline as a quoted string, so it reads as a
 *  value and never as a heading or an instruction: `"build.done"`, quotes inside escaped. */
export function quoted(text: string, max = 120): string {
  return `"${oneLine(text.replace(/["\\]/g, "\\$&"), max)}"`;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/** A fenced block that `content` cannot close: the fence is longer than any backtick run in it. */
export function fenced(content: string, info = ""): string {
  const fence = "`".repeat(Math.max(3, longestBacktickRun(content) + 1));
  return `${fence}${info}\n${content}\n${fence}`;
}

/**
 * Closes a fence the text leaves open (a cut, or an unbalanced file), so what follows it is
 * not read as part of a code block. CommonMark rules: ``` or ~~~ openers, closed by a line of
 * the same character at least as long.
 */
export function closeOpenFence(text: string): string {
  let open: string | undefined;
  for (const line of text.split("\n")) {
    if (open === undefined) {
      open = /^ {0,3}(`{3,})[^`]*$|^ {0,3}(~{3,})/.exec(line)?.slice(1).find(Boolean);
    } else if (new RegExp(`^ {0,3}${open[0]}{${open.length},}\\s*$`).test(line)) {
      open = undefined;
    }
  }
  return open === undefined ? text : `${text}\n${open}`;
}

