/**
 * Splits a byte stream into text lines across arbitrary chunk boundaries (also inside
 * a UTF-8 sequence). `\n`, `\r\n` and a bare `\r` (FFmpeg's progress-line ending) end a
 * line; empty lines are dropped. A line longer than `maxLineLength` is cut there and the
 * rest is discarded up to the next line end, so memory stays bounded on garbage input.
 */
import { StringDecoder } from "node:string_decoder";

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";
  private discarding = false;
  /** Lines cut at maxLineLength. */
  truncated = 0;

  constructor(private readonly maxLineLength = 4096) {}

  /** Complete lines in this chunk (the unfinished tail is kept for the next one). */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.take(text.slice(start, i), out, true);
      start = i + 1;
    }
    if (start < text.length) this.take(text.slice(start), out, false);
    return out;
  }

  /** The unfinished last line, if any (at end of stream). */
  flush(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    const wasDiscarding = this.discarding;
    this.discarding = false;
    return rest.length > 0 && !wasDiscarding ? [rest] : [];
  }

  private take(piece: string, out: string[], ended: boolean): void {
    if (this.discarding) {
      if (ended) this.discarding = false;
      return;
    }
    let line = this.partial + piece;
    this.partial = "";
    if (line.length > this.maxLineLength) {
      line = line.slice(0, this.maxLineLength);
      this.truncated++;
      if (!ended) {
        this.discarding = true;
        out.push(line);
        return;
      }
    }
    if (ended) {
      if (line.length > 0) out.push(line);
    } else {
      this.partial = line;
    }
  }
}
