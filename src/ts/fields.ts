/**
 * The field-named reader and writer every table codec is written with (PAT, PMT, SDT, EIT,
 * TDT, TOT, splice_info_section): big-endian fields read and written in bitstream order, each
 * read naming the spec field it reads, so a decoder reads against the standard line by line
 * and its encoder mirrors it. Fields wider than 32 bits use arithmetic, never JS bitwise
 * operators (which are 32-bit).
 *
 * Reading past the end of the span is the reader's `truncatedCode` (each codec family keeps
 * its own: ONAIR_TS_TRUNCATED, ONAIR_SI_TRUNCATED, ONAIR_SCTE35_TRUNCATED), with the byte
 * offset, the field and the bytes it needed and had.
 */
import { OnairError, type OnairErrorCode } from "../core/errors.js";

export const TWO_32 = 2 ** 32;

/** Reads big-endian fields inside [pos, end) of a section; running past `end` is `truncatedCode`. */
export class FieldReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    public end: number,
    readonly truncatedCode: OnairErrorCode,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      throw new OnairError(
        this.truncatedCode,
        `section truncated at byte ${this.pos}: ${field} needs ${n} byte${n === 1 ? "" : "s"}, ${Math.max(0, this.left)} left`,
        { offset: this.pos, field, needed: n, available: Math.max(0, this.left) },
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.bytes[this.pos] * 256 + this.bytes[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return b[p] * 0x1000000 + b[p + 1] * 0x10000 + b[p + 2] * 0x100 + b[p + 3];
  }

  /** One byte whose low bit is bit 32 of a 33-bit field, then 4 bytes. Returns [firstByte, value]. */
  flags33(field: string): [number, number] {
    this.need(5, field);
    const first = this.bytes[this.pos++];
    const low = this.u32(field);
    return [first, (first & 1) * TWO_32 + low];
  }

  /** An n-byte field decoded by `read(bytes, at)` (e.g. a 40-bit MJD + BCD UTC_time). */
  field<T>(n: number, field: string, read: (bytes: Uint8Array, at: number) => T): T {
    this.need(n, field);
    const v = read(this.bytes, this.pos);
    this.pos += n;
    return v;
  }

  /** The next n bytes as a view (not a copy). */
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A sub-reader over the next n bytes (advances this one past them). */
  sub(n: number, field: string): FieldReader {
    this.need(n, field);
    const r = new FieldReader(this.bytes, this.pos, this.pos + n, this.truncatedCode);
    this.pos += n;
    return r;
  }

  rest(): Uint8Array {
    return this.take(this.left, "rest");
  }
}

/** Appends big-endian fields; values are range-checked before they get here. */
export class FieldWriter {
  private buf: Uint8Array;
  length = 0;

  /** `capacity`: bytes to start with (the writer grows as needed). */
  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(1, capacity));
  }

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number): void {
    this.u8(Math.floor(v / 256));
    this.u8(v % 256);
  }

  u32(v: number): void {
    this.u16(Math.floor(v / 0x10000));
    this.u16(v % 0x10000);
  }

  /** `prefix` supplies bits 7..1 of the first byte; bit 0 is bit 32 of the 33-bit value. */
  flags33(prefix: number, v: number): void {
    this.u8((prefix & 0xfe) | Math.floor(v / TWO_32));
    this.u32(v % TWO_32);
  }

  /** An n-byte field encoded in place by `write(bytes, at)` (the mirror of FieldReader.field). */
  field(n: number, write: (bytes: Uint8Array, at: number) => void): void {
    this.grow(n);
    write(this.buf, this.length);
    this.length += n;
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Overwrites a byte already written. */
  patch(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** A view of what was written (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
