// Text arriving in chunks, split into lines of bounded length, and a ring of the last N lines:
// `run` and `watch` keep memory bounded by these caps whatever the size of what they read.
import { StringDecoder } from "node:string_decoder";
import { cutText } from "../../core/quote.ts";

export const CUT_MARK = "…";

/** Splits a byte stream into lines; a line longer than maxChars is cut and marked with "…". */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";
  private cut = false;

  constructor(
    private readonly maxChars: number,
    private readonly onLine: (line: string) => void,
  ) {}

  write(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const pieces = text.split("\n");
    this.append(pieces[0]!);
    for (let i = 1; i < pieces.length; i++) {
      this.emit();
      this.append(pieces[i]!);
    }
  }

  /** Emits a last line that has no newline yet (the end of a command's output). */
  end(): void {
    this.append(this.decoder.end());
    if (this.partial !== "" || this.cut) this.emit();
  }

  private append(piece: string): void {
    if (this.cut || piece === "") return;
    const room = this.maxChars - this.partial.length;
    if (piece.length <= room) this.partial += piece;
    else {
      this.partial += cutText(piece, room);
      this.cut = true;
    }
  }

  private emit(): void {
    const line = this.partial.endsWith("\r") ? this.partial.slice(0, -1) : this.partial;
    this.onLine(this.cut ? line + CUT_MARK : line);
    this.partial = "";
    this.cut = false;
  }
}

/** The last `size` lines pushed, oldest first, plus how many were seen in all. */
export class LastLines {
  private readonly ring: string[] = [];
  private next = 0;
  total = 0;

  constructor(private readonly size: number) {}

  push(line: string): void {
    this.total++;
    if (this.size === 0) return;
    if (this.ring.length < this.size) this.ring.push(line);
    else this.ring[this.next] = line;
    this.next = (this.next + 1) % this.size;
  }

  lines(): string[] {
    return this.ring.length < this.size ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
