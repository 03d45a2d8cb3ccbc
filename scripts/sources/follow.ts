// Following a file like `tail -F`: complete lines as they are appended, through rotation (the
// path now names a new file: the old one is read to its end first, then the new one from its
// start) and truncation (read again from the start). Lines are cut at a bounded length. The
// position handed out with each batch is where the next unread line starts, so a caller that
// saves it after acting on the batch resumes exactly there.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { cutText } from "../../core/quote.ts";
import { CUT_MARK } from "./lines.ts";

export interface Position {
  /** The file's inode: a different one at the path means it was rotated. */
  ino: number;
  /** Byte offset of the first line not yet handed out. */
  offset: number;
}

const CHUNK = 64 * 1024;

export interface FollowerOptions {
  maxLineChars: number;
  /** Where to begin; absent: the end of the file as it is now. */
  from?: Position;
  /** Read from the start when there is no saved position (or it names another file). */
  fromStart?: boolean;
}

export interface Batch {
  lines: string[];
  position: Position;
  /** The file at the path was replaced or truncated during this read. */
  rotated: boolean;
}

export class FileFollower {
  private fd: number | undefined;
  private position: Position | undefined;
  private readonly maxLineBytes: number;

  constructor(
    readonly path: string,
    private readonly options: FollowerOptions,
  ) {
    this.maxLineBytes = options.maxLineChars * 4;
  }

  /** Where reading stands (undefined until the file first exists). */
  get current(): Position | undefined {
    return this.position && { ...this.position };
  }

  /** Reads what was appended since the last call: at most about `maxBytes` of complete lines. */
  read(maxBytes = 4 * 1024 * 1024): Batch {
    const lines: string[] = [];
    let rotated = false;
    const onPath = this.statPath();
    if (this.fd === undefined) {
      // Not there yet: when it appears, all of it is new (as with a rotation).
      if (!onPath) {
        this.position ??= { ino: 0, offset: 0 };
        return { lines, position: this.position, rotated };
      }
      this.open(onPath.ino, this.startOffset(onPath.ino, onPath.size));
    }
    if (onPath && onPath.ino !== this.position!.ino) {
      // Rotated: finish the old file, then start the new one from its beginning.
      this.readLines(lines, Number.MAX_SAFE_INTEGER);
      closeSync(this.fd!);
      this.open(onPath.ino, 0);
      rotated = true;
    } else if (fstatSync(this.fd!).size < this.position!.offset) {
      this.position!.offset = 0; // truncated in place
      rotated = true;
    }
    this.readLines(lines, maxBytes);
    return { lines, position: { ...this.position! }, rotated };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private statPath(): { ino: number; size: number } | undefined {
    try {
      const stat = statSync(this.path);
      return { ino: stat.ino, size: stat.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  private startOffset(ino: number, size: number): number {
    const from = this.options.from;
    // A saved position in this same file resumes there (unless the file shrank meanwhile).
    if (from && from.ino === ino) return from.offset <= size ? from.offset : 0;
    // A saved position in another file: this one was created while we were away, all of it is new.
    if (from || this.options.fromStart || this.position) return 0;
    return size;
  }

  private open(ino: number, offset: number): void {
    this.fd = openSync(this.path, "r");
    this.position = { ino, offset };
  }

  /** Appends complete lines from the position on; the position moves past each one. */
  private readLines(into: string[], maxBytes: number): void {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer[] = [];
    let carried = 0;
    let read = 0;
    let at = this.position!.offset;
    const before = into.length;
    // Past maxBytes only to finish a line longer than that (its kept part is bounded).
    while (read < maxBytes || into.length === before) {
      const n = readSync(this.fd!, buffer, 0, CHUNK, at);
      if (n === 0) break;
      read += n;
      at += n;
      let start = 0;
      for (let nl = buffer.indexOf(10, 0); nl !== -1 && nl < n; nl = buffer.indexOf(10, start)) {
        const piece = buffer.subarray(start, nl);
        const bytes = carried ? Buffer.concat([...carry, piece]) : piece;
        into.push(this.decode(bytes, carried + piece.length));
        carry = [];
        carried = 0;
        start = nl + 1;
        this.position!.offset = at - n + start;
      }
      if (start < n && carried < this.maxLineBytes) {
        // Part of a line with no newline yet: held (bounded) until its end is read.
        const piece = Buffer.from(buffer.subarray(start, Math.min(n, start + this.maxLineBytes - carried)));
        carry.push(piece);
        carried += piece.length;
      } else if (start < n) carried += n - start;
    }
  }

  private decode(bytes: Buffer, length: number): string {
    const text = bytes.toString("utf8").replace(/\r$/, "");
    return text.length > this.options.maxLineChars || length > bytes.length ? cutText(text, this.options.maxLineChars) + CUT_MARK : text;
  }
}
