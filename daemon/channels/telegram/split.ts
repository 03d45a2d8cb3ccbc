// Splits a Markdown reply into pieces that each fit one Telegram message, BEFORE conversion to
// HTML, so a split can never fall inside a tag or an entity. Splits at line ends (a line longer
// than a piece is cut at a space when it can be); a code block that spans pieces is closed at
// the end of one and reopened, with its language, at the start of the next.
import { closesFence, openingFence } from "./markdown.ts";

/** Telegram's sendMessage takes 1-4096 characters after entity parsing; keep a margin. */
export const PIECE_LIMIT = 4000;


/** Cuts one over-long line into parts of at most `limit`, preferring a space as the cut. */
function cutLine(line: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    const space = rest.lastIndexOf(" ", limit);
    const at = space > limit / 2 ? space + 1 : limit;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  parts.push(rest);
  return parts;
}

/**
 * Pieces of at most `limit` characters. Conversion to Telegram HTML only removes visible
 * characters (markers, entity spellings), so a piece stays under the limit after parsing, and
 * the piece itself is the plain-text fallback.
 */
export function splitMarkdown(markdown: string, limit = PIECE_LIMIT): string[] {
  const pieces: string[] = [];
  let lines: string[] = [];
  let size = 0;
  let fence: { marker: string; opening: string; openedAt: number } | undefined;

  const flush = () => {
    // A block whose opening is the piece's last line moves whole to the next piece.
    if (fence && lines.length - 1 === fence.openedAt) lines.pop();
    else if (fence) lines.push(fence.marker);
    const piece = lines.join("\n");
    if (piece.trim()) pieces.push(piece);
    lines = fence ? [fence.opening] : [];
    if (fence) fence.openedAt = 0;
    size = fence ? fence.opening.length : 0;
  };
  // `reserve`: room kept for closing an open fence should the piece end after this line.
  const add = (line: string, reserve = fence ? fence.marker.length + 1 : 0) => {
    if (lines.length && size + 1 + line.length + reserve > limit) flush();
    size += (lines.length ? 1 : 0) + line.length;
    lines.push(line);
  };

  for (const line of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    const opening = fence ? undefined : openingFence(line);
    if (opening) {
      // An opening fence starts a new piece unless its closing and a few lines fit too.
      add(line, opening.marker.length + 1 + 80);
      fence = { marker: opening.marker, opening: line.trim(), openedAt: lines.length - 1 };
      continue;
    }
    if (fence && closesFence(line, fence.marker)) {
      // Always fits: every line of the block was added with room kept for its closing fence.
      lines.push(line);
      size += 1 + line.length;
      fence = undefined;
      continue;
    }
    const room = limit - (fence ? fence.opening.length + fence.marker.length + 2 : 0);
    for (const part of cutLine(line, room)) add(part);
  }
  if (fence) lines.push(fence.marker);
  const last = lines.join("\n");
  if (last.trim()) pieces.push(last);
  return pieces;
}
