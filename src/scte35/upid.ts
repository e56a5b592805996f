/**
 * segmentation_upid(): length rules per type, MID lists and readable text forms.
 */
import { hexToBytes, toHex } from "./bytes.js";
import type { MidUpidEntry } from "./types.js";

export const UPID_MID = 0x0d;

/** Fixed UPID lengths in bytes (SCTE 35 Table 22). Types not listed are variable. */
export const UPID_FIXED_LENGTH: Readonly<Record<number, number>> = {
  0x00: 0, // not used
  0x02: 8, // ISCI (deprecated)
  0x03: 12, // Ad-ID
  0x04: 32, // UMID
  0x05: 8, // ISAN (deprecated)
  0x06: 12, // versioned ISAN
  0x07: 12, // TID
  0x08: 8, // AiringID
  0x0a: 12, // EIDR
  0x10: 16, // UUID
};

/** Minimum lengths of variable types that have a fixed head. */
export const UPID_MIN_LENGTH: Readonly<Record<number, number>> = {
  0x01: 1, // user defined: a zero-length UPID goes with type 0x00
  0x0b: 4, // ATSC: TSID 16, reserved 2, end_of_day 5, unique_for 9, content_id
  0x0c: 4, // MPU: format_identifier 32, private data
};

export const UPID_NAMES: Readonly<Record<number, string>> = {
  0x00: "Not Used",
  0x01: "User Defined",
  0x02: "ISCI",
  0x03: "Ad-ID",
  0x04: "UMID",
  0x05: "ISAN (deprecated)",
  0x06: "ISAN",
  0x07: "TID",
  0x08: "AiringID",
  0x09: "ADI",
  0x0a: "EIDR",
  0x0b: "ATSC Content Identifier",
  0x0c: "MPU",
  0x0d: "MID",
  0x0e: "ADS Information",
  0x0f: "URI",
  0x10: "UUID",
  0x11: "SCR",
};

/** Why a UPID of this type cannot have this length, or undefined when it can. */
export function upidLengthProblem(type: number, length: number): string | undefined {
  const fixed = UPID_FIXED_LENGTH[type];
  if (fixed !== undefined && length !== fixed) {
    return `UPID type 0x${type.toString(16).padStart(2, "0")} (${UPID_NAMES[type]}) must be ${fixed} bytes, got ${length}`;
  }
  const min = UPID_MIN_LENGTH[type];
  if (min !== undefined && length < min) {
    return `UPID type 0x${type.toString(16).padStart(2, "0")} (${UPID_NAMES[type]}) needs at least ${min} byte${min === 1 ? "" : "s"}, got ${length}`;
  }
  if (length > 255) return `UPID is ${length} bytes, at most 255 fit segmentation_upid_length`;
  return undefined;
}

function printable(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return undefined;
  return String.fromCharCode(...bytes);
}

const MOD37_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** ISO 7064 MOD 37,36 check character, as EIDR uses over its 20 hex-digit suffix. */
export function iso7064Mod3736(s: string): string {
  const m = 36;
  let p = m;
  for (const ch of s.toUpperCase()) {
    const v = MOD37_ALPHABET.indexOf(ch);
    p = (p + v) % m;
    if (p === 0) p = m;
    p = (p * 2) % (m + 1);
  }
  return MOD37_ALPHABET[(m + 1 - p) % m];
}

/** EIDR compact binary (16-bit sub-prefix + 80 bits) as `10.5240/XXXX-XXXX-XXXX-XXXX-XXXX-C`. */
export function eidrText(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 12) return undefined;
  const prefix = bytes[0] * 256 + bytes[1];
  const suffix = toHex(bytes.subarray(2)).toUpperCase();
  const groups = suffix.match(/.{4}/g) ?? [];
  return `10.${prefix}/${groups.join("-")}-${iso7064Mod3736(suffix)}`;
}

/**
 * Readable text of a UPID, or undefined for binary types. Text types: user defined, ISCI,
 * Ad-ID, TID, ADI, ADS info, URI, SCR (when printable ASCII); EIDR as its DOI form; ATSC
 * content id's content_id text; UUID in 8-4-4-4-12 form.
 */
export function upidText(type: number, bytes: Uint8Array): string | undefined {
  switch (type) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x07:
    case 0x09:
    case 0x0e:
    case 0x0f:
    case 0x11:
      return printable(bytes);
    case 0x0a:
      return eidrText(bytes);
    case 0x0b:
      return bytes.length > 4 ? printable(bytes.subarray(4)) : undefined;
    case 0x10: {
      if (bytes.length !== 16) return undefined;
      const h = toHex(bytes);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    default:
      return undefined;
  }
}

/** Splits a MID UPID body; undefined when its inner lengths do not add up. */
export function parseMid(bytes: Uint8Array): MidUpidEntry[] | undefined {
  const out: MidUpidEntry[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 2 > bytes.length) return undefined;
    const type = bytes[p];
    const len = bytes[p + 1];
    if (p + 2 + len > bytes.length) return undefined;
    const value = bytes.subarray(p + 2, p + 2 + len);
    const entry: MidUpidEntry = { segmentationUpidType: type, segmentationUpid: toHex(value) };
    const text = upidText(type, value);
    if (text !== undefined) entry.segmentationUpidText = text;
    out.push(entry);
    p += 2 + len;
  }
  return out;
}

/** Serializes a (validated) MID list. */
export function midBytes(entries: readonly MidUpidEntry[]): Uint8Array {
  const parts: number[] = [];
  for (const e of entries) {
    const v = hexToBytes(e.segmentationUpid);
    parts.push(e.segmentationUpidType, v.length, ...v);
  }
  return Uint8Array.from(parts);
}
