/**
 * Byte helpers for the SCTE-35 codec: hex/base64 and a bounded reader/writer.
 * Fields wider than 32 bits use arithmetic, never JS bitwise ops (which are 32-bit).
 */
import { OnairError } from "../core/errors.js";

export const TWO_32 = 2 ** 32;

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Hex (even number of digits, either case, no prefix) to bytes; caller checks the format. */
export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function isHex(s: string): boolean {
  return s.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(s);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;

/** A splice_info_section is at most 4096 bytes (section_length is 12 bits, SCTE 35 §9.6). */
export const MAX_SECTION_BYTES = 4096;
const MAX_HEX_DIGITS = 2 * MAX_SECTION_BYTES;
const MAX_BASE64_CHARS = 4 * Math.ceil(MAX_SECTION_BYTES / 3);
/** The longest cue string read, whitespace included: room for a spaced, wrapped hex dump. */
export const MAX_CUE_STRING_CHARS = 4 * MAX_HEX_DIGITS;

function tooLarge(what: string, length: number): OnairError {
  return new OnairError(
    "ONAIR_SCTE35_TOO_LARGE",
    `cue string too long (${length} ${what}): a splice_info_section is at most ${MAX_SECTION_BYTES} bytes ` +
      `(${MAX_HEX_DIGITS} hex digits, ${MAX_BASE64_CHARS} base64 characters)`,
    { length, maxBytes: MAX_SECTION_BYTES },
  );
}

/**
 * A cue as users paste it. Whitespace is dropped. A `0x` prefix, or only hex digits starting
 * with `fc`/`FC`, means hex; anything else must be base64 (standard or URL-safe alphabet,
 * padding optional). Lengths are checked before any pattern runs: a string longer than a
 * 4096-byte section can be (MAX_CUE_STRING_CHARS with whitespace) is ONAIR_SCTE35_TOO_LARGE.
 */
export function parseCueString(input: string): Uint8Array {
  if (input.length > MAX_CUE_STRING_CHARS) throw tooLarge("characters", input.length);
  const s = input.replace(/\s+/g, "");
  if (s.length === 0) throw new OnairError("ONAIR_SCTE35_BAD_INPUT", "empty cue string");
  if (/^0x/i.test(s)) {
    const hex = s.slice(2);
    if (hex.length > MAX_HEX_DIGITS) throw tooLarge("hex digits", hex.length);
    if (!/^[0-9a-fA-F]+$/.test(hex)) {
      throw new OnairError("ONAIR_SCTE35_BAD_INPUT", "not hex: a 0x prefix must be followed by hex digits only", { input });
    }
    if (hex.length % 2 !== 0) {
      throw new OnairError("ONAIR_SCTE35_BAD_INPUT", `not hex: odd number of hex digits (${hex.length})`, { input });
    }
    return hexToBytes(hex);
  }
  if (/^fc[0-9a-fA-F]*$/i.test(s)) {
    if (s.length > MAX_HEX_DIGITS) throw tooLarge("hex digits", s.length);
    if (s.length % 2 !== 0) {
      throw new OnairError("ONAIR_SCTE35_BAD_INPUT", `not hex: odd number of hex digits (${s.length})`, { input });
    }
    return hexToBytes(s);
  }
  if (s.length > MAX_BASE64_CHARS) throw tooLarge("characters without whitespace", s.length);
  if (BASE64.test(s) || BASE64URL.test(s)) {
    const bytes = Buffer.from(s, BASE64.test(s) ? "base64" : "base64url");
    if (bytes.length > MAX_SECTION_BYTES) throw tooLarge("bytes of base64", bytes.length);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  throw new OnairError("ONAIR_SCTE35_BAD_INPUT", "neither hex (0x… or fc…) nor base64", { input });
}

/** Reads big-endian fields inside [pos, end) of a section; running past `end` is TRUNCATED. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      throw new OnairError(
        "ONAIR_SCTE35_TRUNCATED",
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

  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A sub-reader over the next n bytes (advances this one past them). */
  sub(n: number, field: string): Reader {
    this.need(n, field);
    const r = new Reader(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  rest(): Uint8Array {
    return this.take(this.left, "rest");
  }
}

/** Appends big-endian fields; values are range-checked before they get here. */
export class Writer {
  private buf: Uint8Array = new Uint8Array(64);
  length = 0;

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

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Overwrites a byte already written. */
  patch(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** 4-char printable ASCII, else `0x` + 8 hex digits. */
export function identifierToString(v: number): string {
  const chars = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  if (chars.every((c) => c >= 0x20 && c <= 0x7e)) return String.fromCharCode(...chars);
  return `0x${v.toString(16).padStart(8, "0")}`;
}

/** Inverse of identifierToString; undefined when the string is neither form. */
export function identifierFromString(s: string): number | undefined {
  if (/^0x[0-9a-fA-F]{8}$/.test(s)) return parseInt(s.slice(2), 16);
  if (s.length !== 4) return undefined;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return undefined;
    v = v * 256 + c;
  }
  return v;
}

export function crcToString(crc: number): string {
  return `0x${crc.toString(16).padStart(8, "0")}`;
}

export const CUEI = 0x43554549;
