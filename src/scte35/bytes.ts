/**
 * Byte helpers for the SCTE-35 codec: hex/base64 and a bounded reader/writer.
 * Fields wider than 32 bits use arithmetic, never JS bitwise ops (which are 32-bit).
 */
import { OnairError } from "../core/errors.js";
import { FieldReader, FieldWriter, TWO_32 } from "../ts/fields.js";

export { TWO_32 };

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

/** The field reader of ts/fields.ts for splice_info_section: running past `end` is ONAIR_SCTE35_TRUNCATED. */
export class Reader extends FieldReader {
  constructor(bytes: Uint8Array, pos: number, end: number) {
    super(bytes, pos, end, "ONAIR_SCTE35_TRUNCATED");
  }
}

/** The field writer of ts/fields.ts. */
export { FieldWriter as Writer };

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
