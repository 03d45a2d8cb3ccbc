// Markdown (what the agent writes) → Telegram's HTML parse mode. Every piece of text is
// escaped, and every tag is opened and closed by the same call, so the output is balanced by
// construction; a marker without its partner stays literal text. Supported: fenced code,
// `inline code`, **bold**, *italic* / _italic_, ~~strike~~, [links](https://…), headings
// (shown bold), > quotes and - lists.

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const escapeAttribute = (text: string) => escapeHtml(text).replace(/"/g, "&quot;");

const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
const isSpace = (ch: string | undefined) => ch === undefined || /\s/.test(ch);

/** Paired markers, longest first, and the tag each becomes. */
const PAIRS: [string, string][] = [["**", "b"], ["__", "b"], ["~~", "s"], ["*", "i"], ["_", "i"]];

/** Where the closing `marker` of a span opened at `from` is, or -1. */
function findClosing(text: string, marker: string, from: number): number {
  let at = text.indexOf(marker, from + 1);
  while (at !== -1) {
    const flanked = !isSpace(text[at - 1]) && !(marker === "_" && isWordChar(text[at + 1]));
    // A single * or _ must not be half of a doubled marker.
    const single = marker.length > 1 || (text[at + 1] !== marker && text[at - 1] !== marker);
    if (flanked && single) return at;
    at = text.indexOf(marker, at + 1);
  }
  return -1;
}

function renderInline(text: string, inLink = false): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "`") {
      const run = /^`+/.exec(text.slice(i))![0];
      const end = text.indexOf(run, i + run.length);
      if (end !== -1 && end > i + run.length) {
        out += `<code>${escapeHtml(text.slice(i + run.length, end))}</code>`;
        i = end + run.length;
        continue;
      }
      out += escapeHtml(run);
      i += run.length;
      continue;
    }
    if (ch === "[" && !inLink) {
      const link = /^\[([^\]\n]+)\]\(((?:https?|tg|mailto):[^\s()]+)\)/.exec(text.slice(i));
      if (link) {
        out += `<a href="${escapeAttribute(link[2]!)}">${renderInline(link[1]!, true)}</a>`;
        i += link[0].length;
        continue;
      }
    }
    const pair = PAIRS.find(([marker]) => text.startsWith(marker, i));
    if (pair) {
      const [marker, tag] = pair;
      const opensWord = !isSpace(text[i + marker.length]) && !(marker === "_" && isWordChar(text[i - 1]));
      const end = opensWord ? findClosing(text, marker, i + marker.length - 1) : -1;
      if (end > i + marker.length) {
        out += `<${tag}>${renderInline(text.slice(i + marker.length, end), inLink)}</${tag}>`;
        i = end + marker.length;
        continue;
      }
      out += escapeHtml(marker);
      i += marker.length;
      continue;
    }
    out += escapeHtml(ch);
    i += 1;
  }
  return out;
}

/** A line opening a fenced code block: its marker (``` or ~~~, 3 or more) and language. */
export function openingFence(line: string): { marker: string; language: string } | undefined {
  const match = /^\s*(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/.exec(line);
  return match ? { marker: match[1]!, language: match[2]! } : undefined;
}

/** Whether `line` closes a block opened with `marker`: same character, at least as long, no language. */
export function closesFence(line: string, marker: string): boolean {
  const fence = openingFence(line);
  return !!fence && !fence.language && fence.marker[0] === marker[0] && fence.marker.length >= marker.length;
}

/** Converts one piece of Markdown (see split.ts) to Telegram HTML. */
export function markdownToTelegramHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = openingFence(line);
    if (fence) {
      const body: string[] = [];
      while (++i < lines.length && !closesFence(lines[i]!, fence.marker)) body.push(lines[i]!);
      const language = fence.language ? ` class="language-${escapeAttribute(fence.language)}"` : "";
      out.push(`<pre><code${language}>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      out.push(`<b>${renderInline(heading[1]!)}</b>`);
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quoted: string[] = [];
      for (; i < lines.length && /^>\s?/.test(lines[i]!); i++) quoted.push(renderInline(lines[i]!.replace(/^>\s?/, "")));
      i -= 1;
      out.push(`<blockquote>${quoted.join("\n")}</blockquote>`);
      continue;
    }
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    if (bullet) {
      out.push(`${bullet[1]}• ${renderInline(bullet[2]!)}`);
      continue;
    }
    out.push(renderInline(line));
  }
  return out.join("\n");
}
