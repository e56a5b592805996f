/**
 * Section framing shared by the DVB SI tables (EN 300 468 §5.1, ISO/IEC 13818-1 §2.4.4.10).
 *
 * Long header (8 bytes): table_id 8, section_syntax_indicator 1, reserved_future_use 1,
 * reserved 2, section_length 12, table_id_extension 16, reserved 2, version_number 5,
 * current_next_indicator 1, section_number 8, last_section_number 8; CRC_32 at the end.
 * DVB tables carry reserved_future_use = 1, so byte 1 is 0xF0 | length_hi (as ffmpeg).
 *
 * Kept inside `src/si/` on purpose: this folder depends only on `src/ts/crc32.ts`.
 */
import { OnairError } from "../core/errors.js";
import { crc32Mpeg2, writeCrc32 } from "../ts/crc32.js";

/** Bytes of the long header before the table body. */
export const LONG_HEADER_BYTES = 8;
/** Bytes of the CRC_32 that ends a long section. */
export const CRC_BYTES = 4;

/** The fields of a long section header (spec names in camelCase). */
export interface LongSectionHeader {
  tableId: number;
  tableIdExtension: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
}

/**
 * Writes the 8-byte long header at `bytes[0..8)` for a section whose total length is
 * `totalLength` (header + body + CRC). The CRC is written by {@link finishLongSection}.
 */
export function writeLongHeader(bytes: Uint8Array, h: LongSectionHeader, totalLength: number): void {
  const sectionLength = totalLength - 3;
  bytes[0] = h.tableId;
  bytes[1] = 0xf0 | (sectionLength >> 8);
  bytes[2] = sectionLength & 0xff;
  bytes[3] = h.tableIdExtension >> 8;
  bytes[4] = h.tableIdExtension & 0xff;
  bytes[5] = 0xc0 | ((h.versionNumber & 0x1f) << 1) | (h.currentNextIndicator ? 1 : 0);
  bytes[6] = h.sectionNumber;
  bytes[7] = h.lastSectionNumber;
}

/** Rewrites version_number in place (byte 5) and recomputes the CRC of a long section. */
export function setVersion(section: Uint8Array, versionNumber: number): void {
  section[5] = (section[5] & 0xc1) | ((versionNumber & 0x1f) << 1);
  writeCrc32(section, 0, section.length - CRC_BYTES);
}

/** Writes the CRC over `bytes[0..length-4)` at `length-4`. */
export function finishLongSection(bytes: Uint8Array, totalLength: number): void {
  writeCrc32(bytes, 0, totalLength - CRC_BYTES);
}

/**
 * Checks table_id, the syntax indicator, section_length against the buffer and the
 * maximum, and the CRC; returns the header fields. The body is bytes[8, length-4).
 */
export function readLongHeader(
  bytes: Uint8Array,
  what: string,
  tableIdOk: (tableId: number) => boolean,
  maxTotal: number,
): LongSectionHeader {
  if (bytes.length < LONG_HEADER_BYTES + CRC_BYTES) {
    throw new OnairError("ONAIR_SI_TRUNCATED", `${what} shorter than a long section header`, { length: bytes.length });
  }
  const tableId = bytes[0];
  if (!tableIdOk(tableId)) {
    throw new OnairError("ONAIR_SI_TABLE_ID", `${what} has an unexpected table_id`, { tableId });
  }
  if ((bytes[1] & 0x80) === 0) {
    throw new OnairError("ONAIR_SI_SYNTAX", `${what} has section_syntax_indicator 0`, { tableId });
  }
  const total = checkedTotalLength(bytes, what, maxTotal);
  if (crc32Mpeg2(bytes, 0, total) !== 0) {
    throw new OnairError("ONAIR_SI_CRC", `${what} fails its CRC_32`, { tableId });
  }
  return {
    tableId,
    tableIdExtension: (bytes[3] << 8) | bytes[4],
    versionNumber: (bytes[5] >> 1) & 0x1f,
    currentNextIndicator: (bytes[5] & 1) === 1,
    sectionNumber: bytes[6],
    lastSectionNumber: bytes[7],
  };
}

/** section_length + 3, checked against the buffer and the table's maximum. */
export function checkedTotalLength(bytes: Uint8Array, what: string, maxTotal: number): number {
  const total = (((bytes[1] & 0x0f) << 8) | bytes[2]) + 3;
  if (total > maxTotal) {
    throw new OnairError("ONAIR_SI_SECTION_LENGTH", `${what} is longer than ${maxTotal} bytes`, { total });
  }
  if (total > bytes.length) {
    throw new OnairError("ONAIR_SI_TRUNCATED", `${what} is cut short`, { total, length: bytes.length });
  }
  return total;
}

/** Sections equal apart from version_number (byte 5 bits 1-5) and the CRC. */
export function sameContent(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n - CRC_BYTES; i++) {
    if (a[i] !== b[i] && !(i === 5 && (a[i] & 0xc1) === (b[i] & 0xc1))) return false;
  }
  return true;
}

/** Requires `v` to be an integer in [0, max]. */
export function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new OnairError("ONAIR_SI_FIELD_RANGE", `${name} out of range`, { name, value: v, max });
  }
}
