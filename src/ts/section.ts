/**
 * Section framing, one layer for every table: PSI (ISO/IEC 13818-1 §2.4.4), DVB SI
 * (EN 300 468 §5.1) and SCTE 35 (§9.6) sections: section_length, CRC presence and checks,
 * the long header, version arithmetic and raw descriptor loops.
 *
 * Long header (8 bytes): table_id 8 | section_syntax_indicator 1, private_indicator 1,
 * reserved 2, section_length 12 | table_id_extension 16 | reserved 2, version_number 5,
 * current_next_indicator 1 | section_number 8 | last_section_number 8; CRC_32 at the end.
 * PAT/PMT/CAT write private_indicator 0 (byte 1 = 0xB0 | len_hi); DVB SI tables set
 * reserved_future_use 1 (0xF0 | len_hi, as ffmpeg): that is the `privateIndicator` field.
 *
 * A table family reports framing faults with its own codes ({@link PSI_SECTION_CODES} for
 * PAT/PMT, {@link SI_SECTION_CODES} for DVB SI), so the codes users see name the table kind.
 */
import { OnairError, type OnairErrorCode } from "../core/errors.js";
import { crc32Mpeg2, writeCrc32 } from "./crc32.js";
import { FieldReader, FieldWriter } from "./fields.js";
import { TABLE_ID_PMT, TABLE_ID_SCTE35, TABLE_ID_TOT } from "./ids.js";

export const SECTION_HEADER_SIZE = 3;
export const LONG_SECTION_HEADER_SIZE = 8;
export const CRC_SIZE = 4;
/** Max section_length of PAT, CAT, PMT (and DVB NIT/SDT/BAT): total section ≤ 1024 bytes. */
export const MAX_PSI_SECTION_LENGTH = 1021;
/** Max section_length of private sections (EIT, SCTE-35): total section ≤ 4096 bytes. */
export const MAX_PRIVATE_SECTION_LENGTH = 4093;
/** Largest whole section in bytes. */
export const MAX_SECTION_SIZE = SECTION_HEADER_SIZE + MAX_PRIVATE_SECTION_LENGTH;

export interface LongSectionHeader {
  tableId: number;
  /** Bit 6 of byte 1: 0 for PAT/PMT/CAT, 1 (reserved_future_use) for DVB SI. */
  privateIndicator: boolean;
  sectionLength: number;
  tableIdExtension: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
}

export function tableId(buf: Uint8Array, at: number): number {
  return buf[at];
}

export function sectionSyntaxIndicator(buf: Uint8Array, at: number): boolean {
  return (buf[at + 1] & 0x80) !== 0;
}

/** section_length (12 bits). */
export function sectionLength(buf: Uint8Array, at: number): number {
  return ((buf[at + 1] & 0x0f) << 8) | buf[at + 2];
}

/** Whole section size in bytes: 3 + section_length. */
export function sectionSize(buf: Uint8Array, at: number): number {
  return SECTION_HEADER_SIZE + sectionLength(buf, at);
}

/** Max section_length allowed for a table_id (PSI tables 0x00–0x02: 1021, others: 4093). */
export function maxSectionLengthFor(tid: number): number {
  return tid <= TABLE_ID_PMT ? MAX_PSI_SECTION_LENGTH : MAX_PRIVATE_SECTION_LENGTH;
}

/**
 * True when a section ends with a CRC_32: long sections (ssi = 1), SCTE-35 (0xFC, ssi = 0)
 * and TOT (0x73, ssi = 0). TDT (0x70) and other short sections have none.
 */
export function sectionHasCrc(tid: number, ssi: boolean): boolean {
  return ssi || tid === TABLE_ID_SCTE35 || tid === TABLE_ID_TOT;
}

/**
 * True when the section starting at `at` is complete in `buf` and its CRC (when it has one)
 * matches. Never throws.
 */
export function checkSectionCrc(buf: Uint8Array, at = 0): boolean {
  if (at < 0 || at + SECTION_HEADER_SIZE > buf.length) return false;
  const size = sectionSize(buf, at);
  if (at + size > buf.length) return false;
  if (!sectionHasCrc(buf[at], sectionSyntaxIndicator(buf, at))) return true;
  if (size < SECTION_HEADER_SIZE + CRC_SIZE) return false;
  return crc32Mpeg2(buf, at, at + size) === 0;
}

/** Writes the 8-byte long header at `at`; section_syntax_indicator is 1, reserved bits 1. */
export function writeLongSectionHeader(buf: Uint8Array, at: number, h: LongSectionHeader): void {
  buf[at] = h.tableId & 0xff;
  buf[at + 1] = 0x80 | (h.privateIndicator ? 0x40 : 0) | 0x30 | ((h.sectionLength >> 8) & 0x0f);
  buf[at + 2] = h.sectionLength & 0xff;
  buf[at + 3] = (h.tableIdExtension >> 8) & 0xff;
  buf[at + 4] = h.tableIdExtension & 0xff;
  buf[at + 5] = 0xc0 | ((h.versionNumber & 0x1f) << 1) | (h.currentNextIndicator ? 1 : 0);
  buf[at + 6] = h.sectionNumber & 0xff;
  buf[at + 7] = h.lastSectionNumber & 0xff;
}

/** Reads the 8-byte long header at `at` (the caller checks that 8 bytes are there). */
export function readLongSectionHeader(buf: Uint8Array, at: number): LongSectionHeader {
  return {
    tableId: buf[at],
    privateIndicator: (buf[at + 1] & 0x40) !== 0,
    sectionLength: sectionLength(buf, at),
    tableIdExtension: (buf[at + 3] << 8) | buf[at + 4],
    versionNumber: (buf[at + 5] >> 1) & 0x1f,
    currentNextIndicator: (buf[at + 5] & 0x01) !== 0,
    sectionNumber: buf[at + 6],
    lastSectionNumber: buf[at + 7],
  };
}

/**
 * Builds a whole long section: header (section_length computed), `body`, CRC_32.
 * Throws ONAIR_TS_SECTION_TOO_LONG past `maxSectionLength` (default by table_id).
 */
export function buildLongSection(
  h: Omit<LongSectionHeader, "sectionLength">,
  body: Uint8Array,
  maxSectionLength = maxSectionLengthFor(h.tableId),
): Uint8Array {
  const len = LONG_SECTION_HEADER_SIZE - SECTION_HEADER_SIZE + body.length + CRC_SIZE;
  if (len > maxSectionLength) {
    throw new OnairError("ONAIR_TS_SECTION_TOO_LONG", "section does not fit its maximum length", {
      tableId: h.tableId,
      sectionLength: len,
      maxSectionLength,
    });
  }
  const out = new Uint8Array(SECTION_HEADER_SIZE + len);
  writeLongSectionHeader(out, 0, { ...h, sectionLength: len });
  out.set(body, LONG_SECTION_HEADER_SIZE);
  writeCrc32(out, 0, out.length - CRC_SIZE);
  return out;
}

/** Next version_number: (v + 1) mod 32. */
export function nextVersionNumber(v: number): number {
  return (v + 1) & 0x1f;
}

/** Rewrites version_number in place (byte 5) and recomputes the CRC of a whole long section. */
export function setVersion(section: Uint8Array, versionNumber: number): void {
  section[5] = (section[5] & 0xc1) | ((versionNumber & 0x1f) << 1);
  writeCrc32(section, 0, section.length - CRC_SIZE);
}

/** Long sections equal apart from version_number (byte 5 bits 1-5) and the CRC. */
export function sameContent(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n - CRC_SIZE; i++) {
    if (a[i] !== b[i] && !(i === 5 && (a[i] & 0xc1) === (b[i] & 0xc1))) return false;
  }
  return true;
}

// ---------------------------------------------------------------- checking a section to decode

/** The codes a table family reports framing faults with. */
export interface SectionCodes {
  /** The buffer ends before the section does. */
  truncated: OnairErrorCode;
  tableId: OnairErrorCode;
  /** section_syntax_indicator 0 where a long section is expected. */
  syntax: OnairErrorCode;
  /** section_length above the table's limit. */
  length: OnairErrorCode;
  /** section_length too short for the long header and the CRC_32. */
  short: OnairErrorCode;
  crc: OnairErrorCode;
  /** An encoded section longer than the table allows. */
  tooLong: OnairErrorCode;
}

export const PSI_SECTION_CODES = {
  truncated: "ONAIR_TS_TRUNCATED",
  tableId: "ONAIR_TS_BAD_TABLE_ID",
  syntax: "ONAIR_TS_BAD_SECTION",
  length: "ONAIR_TS_BAD_SECTION",
  short: "ONAIR_TS_BAD_SECTION",
  crc: "ONAIR_TS_CRC",
  tooLong: "ONAIR_TS_SECTION_TOO_LONG",
} as const satisfies SectionCodes;

export const SI_SECTION_CODES = {
  truncated: "ONAIR_SI_TRUNCATED",
  tableId: "ONAIR_SI_TABLE_ID",
  syntax: "ONAIR_SI_SYNTAX",
  length: "ONAIR_SI_SECTION_LENGTH",
  short: "ONAIR_SI_TRUNCATED",
  crc: "ONAIR_SI_CRC",
  tooLong: "ONAIR_SI_SECTION_LENGTH",
} as const satisfies SectionCodes;

/** What a decoder expects of a long section. */
export interface LongSectionSpec {
  /** The table's name in messages, e.g. "PMT". */
  table: string;
  tableIdOk: (tableId: number) => boolean;
  /** Largest section_length the table allows. */
  maxSectionLength: number;
  codes: SectionCodes;
}

/**
 * Checks a long section at bytes[0] for decoding, in this order: header present, table_id,
 * section_syntax_indicator, section_length against the table's limit, against the buffer and
 * against the long header + CRC_32, then the CRC. Returns the header; the body is
 * bytes[8, 3 + sectionLength - 4). Throws the family's code for the first fault found.
 */
export function checkLongSection(bytes: Uint8Array, spec: LongSectionSpec): LongSectionHeader {
  const { table, codes } = spec;
  if (bytes.length < SECTION_HEADER_SIZE) {
    throw new OnairError(codes.truncated, `${table} section shorter than its header`, { table, length: bytes.length });
  }
  if (!spec.tableIdOk(bytes[0])) {
    throw new OnairError(codes.tableId, `not a ${table} section`, { table, tableId: bytes[0] });
  }
  if (!sectionSyntaxIndicator(bytes, 0)) {
    throw new OnairError(codes.syntax, `${table} section has section_syntax_indicator 0`, { table, tableId: bytes[0] });
  }
  const len = sectionLength(bytes, 0);
  if (len > spec.maxSectionLength) {
    throw new OnairError(codes.length, `${table} section_length above its limit`, {
      table,
      sectionLength: len,
      max: spec.maxSectionLength,
    });
  }
  const size = SECTION_HEADER_SIZE + len;
  if (bytes.length < size) {
    throw new OnairError(codes.truncated, `${table} section shorter than its section_length`, {
      table,
      length: bytes.length,
      sectionSize: size,
    });
  }
  if (size < LONG_SECTION_HEADER_SIZE + CRC_SIZE) {
    throw new OnairError(codes.short, `${table} section too short for a long header and CRC_32`, { table, sectionSize: size });
  }
  if (crc32Mpeg2(bytes, 0, size) !== 0) {
    throw new OnairError(codes.crc, `${table} section CRC mismatch`, { table, sectionSize: size });
  }
  return readLongSectionHeader(bytes, 0);
}

// ---------------------------------------------------------------- codec frame

/**
 * Starts a long section for an encoder: a writer holding the 8-byte header with
 * section_length still 0 ({@link endSection} fills it in). The table writes its body next.
 */
export function startLongSection(h: Omit<LongSectionHeader, "sectionLength">, capacity = 64): FieldWriter {
  const w = new FieldWriter(capacity);
  w.u8(h.tableId);
  w.u16(0x8000 | (h.privateIndicator ? 0x4000 : 0) | 0x3000);
  w.u16(h.tableIdExtension);
  w.u8(0xc0 | ((h.versionNumber & 0x1f) << 1) | (h.currentNextIndicator ? 1 : 0));
  w.u8(h.sectionNumber);
  w.u8(h.lastSectionNumber);
  return w;
}

/**
 * Ends a section written from byte 0 of `w`: fills section_length into bytes 1–2 (keeping
 * their four flag bits) and appends the CRC_32 when the section has one. Throws the family's
 * `tooLong` code past `spec.maxSectionLength`.
 */
export function endSection(w: FieldWriter, spec: Omit<LongSectionSpec, "tableIdOk">, withCrc = true): Uint8Array {
  const len = w.length - SECTION_HEADER_SIZE + (withCrc ? CRC_SIZE : 0);
  if (len > spec.maxSectionLength) {
    throw new OnairError(spec.codes.tooLong, `${spec.table} section longer than ${SECTION_HEADER_SIZE + spec.maxSectionLength} bytes`, {
      table: spec.table,
      sectionLength: len,
      maxSectionLength: spec.maxSectionLength,
    });
  }
  const b1 = w.view()[1];
  w.patch(1, (b1 & 0xf0) | (len >> 8));
  w.patch(2, len & 0xff);
  if (!withCrc) return w.finish();
  w.u32(0);
  const out = w.finish();
  writeCrc32(out, 0, out.length - CRC_SIZE);
  return out;
}

/** Checks a long section for decoding ({@link checkLongSection}) and returns its header and a reader over its body. */
export function readLongSection(bytes: Uint8Array, spec: LongSectionSpec): { header: LongSectionHeader; body: FieldReader } {
  const header = checkLongSection(bytes, spec);
  const end = SECTION_HEADER_SIZE + header.sectionLength - CRC_SIZE;
  return { header, body: new FieldReader(bytes, LONG_SECTION_HEADER_SIZE, end, spec.codes.truncated) };
}

// ---------------------------------------------------------------- descriptor loops

/** A descriptor as it stands in a loop: tag and the `descriptor_length` bytes that follow. */
export interface Descriptor {
  tag: number;
  data: Uint8Array;
}

/**
 * Walks a descriptor loop buf[at, end): calls `each(tag, bodyStart, bodyEnd)` per descriptor.
 * Returns -1 when the loop is whole, else the position of the descriptor that runs past `end`.
 */
export function walkDescriptors(buf: Uint8Array, at: number, end: number, each: (tag: number, from: number, to: number) => void): number {
  let p = at;
  while (p < end) {
    if (p + 2 > end || p + 2 + buf[p + 1] > end) return p;
    const len = buf[p + 1];
    each(buf[p], p + 2, p + 2 + len);
    p += 2 + len;
  }
  return -1;
}

/**
 * Parses a descriptor loop buf[at, end) into copies. Throws ONAIR_TS_TRUNCATED when a
 * descriptor runs past `end`.
 */
export function readDescriptors(buf: Uint8Array, at: number, end: number): Descriptor[] {
  const out: Descriptor[] = [];
  const bad = walkDescriptors(buf, at, end, (tag, from, to) => out.push({ tag, data: buf.slice(from, to) }));
  if (bad >= 0) throw new OnairError("ONAIR_TS_TRUNCATED", "descriptor runs past the end of its loop", { at: bad, end });
  return out;
}

/** Total bytes of a descriptor loop. */
export function descriptorsSize(ds: readonly Descriptor[]): number {
  let n = 0;
  for (const d of ds) n += 2 + d.data.length;
  return n;
}

/** Writes descriptors at `at`; returns the position after them. Throws on data > 255 bytes. */
export function writeDescriptors(buf: Uint8Array, at: number, ds: readonly Descriptor[]): number {
  let p = at;
  for (const d of ds) {
    if (d.data.length > 255) {
      throw new OnairError("ONAIR_TS_DESCRIPTOR_TOO_LONG", "descriptor data longer than 255 bytes", {
        tag: d.tag,
        length: d.data.length,
      });
    }
    buf[p] = d.tag & 0xff;
    buf[p + 1] = d.data.length;
    buf.set(d.data, p + 2);
    p += 2 + d.data.length;
  }
  return p;
}
