/**
 * Splits a stream of JPEG images (FFmpeg's `-f image2pipe -c:v mjpeg`) into whole images,
 * whatever the chunk boundaries (ITU-T T.81 §B.1: marker syntax).
 *
 * It follows the marker structure instead of looking for FF D9 anywhere: inside a marker
 * segment (APPn, COM, DQT, DHT…) any byte may appear, FF D9 included, so a segment is skipped
 * by its length; only in entropy-coded data (after SOS) is FF always followed by 00
 * (stuffing), D0–D7 (RSTn) or another marker, so there a scan for FF is exact. Progressive
 * files (several scans with tables between them) follow the same rules.
 *
 * Bytes before an SOI are skipped and counted; a frame that breaks the syntax or grows past
 * `maxBytes` is dropped and counted, and the search for the next SOI starts again at the
 * byte that broke it. Chunks are kept by reference until the image is whole, then copied
 * once into one Buffer (the caller's chunks are not edited).
 */

/** Marker codes (the byte after FF), T.81 Table B.1. */
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const RST0 = 0xd0;
const RST7 = 0xd7;

const SOI_BYTES = Buffer.from([0xff, SOI]);

const enum S {
  /** looking for FF of an SOI */
  Seek,
  /** saw FF, want D8 */
  SeekMarker,
  /** in a frame, between segments: want FF */
  Marker,
  /** saw FF (and maybe fill FFs): want the marker code */
  MarkerCode,
  LengthHigh,
  LengthLow,
  /** skipping a segment's payload */
  Segment,
  /** entropy-coded data: scanning for FF */
  Entropy,
  /** saw FF in entropy-coded data */
  EntropyFf,
}

export interface JpegSplitterStats {
  /** whole images handed out */
  images: number;
  /** bytes outside any image (before an SOI) */
  skippedBytes: number;
  /** images dropped: broken marker syntax */
  broken: number;
  /** images dropped: larger than maxBytes */
  oversize: number;
}

export class JpegSplitter {
  private state = S.Seek;
  /** the current image's bytes from earlier chunks (SOI first) */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** the marker whose segment is being read */
  private marker = 0;
  private lengthHigh = 0;
  /** bytes of the segment's payload still to skip */
  private remaining = 0;
  /** during push: the next byte of the chunk to read, and where the current image starts in it (-1: not in it) */
  private at = 0;
  private start = -1;
  readonly stats: JpegSplitterStats = { images: 0, skippedBytes: 0, broken: 0, oversize: 0 };

  /** @param maxBytes an image larger than this is dropped (default 8 MiB) */
  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  /** Feeds a chunk; returns the images completed in it, in order (each a Buffer of its own). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    // where the current image starts in this chunk (-1: before this chunk, or no image)
    this.start = this.state === S.Seek || this.state === S.SeekMarker ? -1 : 0;
    this.at = 0;
    while (this.at < chunk.length) this.step(chunk, out);
    if (this.start >= 0) this.keep(chunk, this.start);
    return out;
  }

  /** Reads from `this.at` in the current state: one byte, or a run of bytes it can skip at once. */
  private step(chunk: Buffer, out: Buffer[]): void {
    const b = chunk[this.at];
    switch (this.state) {
      case S.Seek:
        return this.seek(chunk);
      case S.SeekMarker:
        return this.seekMarker(b);
      case S.Marker:
        if (b !== 0xff) {
          this.start = this.broken(); // this byte is looked at again, as outside any image
          return;
        }
        this.state = S.MarkerCode;
        this.at++;
        return;
      case S.MarkerCode:
      case S.EntropyFf:
        return this.markerCode(chunk, b, out);
      case S.LengthHigh:
        this.lengthHigh = b;
        this.state = S.LengthLow;
        this.at++;
        return;
      case S.LengthLow:
        return this.lengthLow(b);
      case S.Segment: {
        const take = Math.min(this.remaining, chunk.length - this.at);
        this.remaining -= take;
        this.at += take;
        if (this.remaining === 0) this.state = this.afterSegment();
        return;
      }
      case S.Entropy: {
        const ff = chunk.indexOf(0xff, this.at);
        this.at = ff < 0 ? chunk.length : ff + 1;
        if (ff >= 0) this.state = S.EntropyFf;
        return;
      }
    }
  }

  /** Outside any image: skips to the next FF. */
  private seek(chunk: Buffer): void {
    const ff = chunk.indexOf(0xff, this.at);
    const end = ff < 0 ? chunk.length : ff;
    this.stats.skippedBytes += end - this.at;
    this.at = ff < 0 ? end : ff + 1;
    if (ff >= 0) this.state = S.SeekMarker;
  }

  /** After an FF outside any image: D8 starts one, whichever chunk the FF was in. */
  private seekMarker(b: number): void {
    if (b === SOI) {
      this.beginImage();
      this.start = this.at + 1;
      this.state = S.Marker;
    } else if (b !== 0xff) {
      this.stats.skippedBytes += 2;
      this.state = S.Seek;
    } else this.stats.skippedBytes++;
    this.at++;
  }

  /** The byte after FF inside an image (between segments, or in entropy-coded data). */
  private markerCode(chunk: Buffer, b: number, out: Buffer[]): void {
    const entropy = this.state === S.EntropyFf;
    this.at++;
    if (b === 0xff) return; // fill byte
    if (entropy && (b === 0x00 || (b >= RST0 && b <= RST7))) {
      this.state = S.Entropy;
    } else if (b === EOI) {
      out.push(this.endImage(chunk, this.start, this.at));
      this.start = -1;
      this.state = S.Seek;
    } else if (b === SOI) {
      // a new image before this one ended: drop this one, start the new one here
      this.stats.broken++;
      this.beginImage();
      this.start = this.at;
      this.state = S.Marker;
    } else if (!entropy && (b === TEM || (b >= RST0 && b <= RST7))) {
      this.state = S.Marker; // standalone markers, no length
    } else if (b === 0x00) {
      this.start = this.broken();
    } else {
      this.marker = b;
      this.state = S.LengthHigh;
    }
  }

  /** A segment's length, low byte: its payload is skipped next. */
  private lengthLow(b: number): void {
    const length = (this.lengthHigh << 8) | b;
    this.at++;
    if (length < 2) {
      this.start = this.broken();
      return;
    }
    this.remaining = length - 2;
    this.state = this.remaining > 0 ? S.Segment : this.afterSegment();
  }

  /** True while part of an image is held (its end not seen yet). */
  get pending(): boolean {
    return this.state !== S.Seek && this.state !== S.SeekMarker;
  }

  /** Forgets a partial image (a new FFmpeg run starts a new stream). */
  reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.state = S.Seek;
  }

  private afterSegment(): S {
    return this.marker === SOS ? S.Entropy : S.Marker;
  }

  private beginImage(): void {
    this.parts = [SOI_BYTES];
    this.partBytes = SOI_BYTES.length;
  }

  /** Keeps the rest of the chunk from `start` as part of the current image, or drops an image grown too large. */
  private keep(chunk: Buffer, start: number): void {
    if (start >= chunk.length) return;
    if (this.partBytes + chunk.length - start > this.maxBytes) {
      this.stats.oversize++;
      this.reset();
      return;
    }
    this.parts.push(start === 0 ? chunk : chunk.subarray(start));
    this.partBytes += chunk.length - start;
  }

  private endImage(chunk: Buffer, start: number, end: number): Buffer {
    const tail = chunk.subarray(Math.max(0, start), end);
    const image = Buffer.concat([...this.parts, tail], this.partBytes + tail.length);
    this.parts = [];
    this.partBytes = 0;
    this.stats.images++;
    return image;
  }

  /** The image breaks the marker syntax: dropped; returns the new `start` (none). */
  private broken(): number {
    this.stats.broken++;
    this.reset();
    return -1;
  }
}
