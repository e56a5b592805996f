/**
 * The records `onair inspect` emits (see {@link TsInspector} in inspect.ts for when each is
 * emitted) and the names it gives to stream types, well-known PIDs and section errors.
 */
import type { SpliceInfoSection } from "../scte35/index.js";
import { CAT_PID, EIT_PID, NIT_PID, NULL_PID, PAT_PID, RST_PID, SDT_PID, TDT_PID } from "../ts/packet.js";
import {
  STREAM_TYPE_AAC_ADTS,
  STREAM_TYPE_AAC_LATM,
  STREAM_TYPE_AC3,
  STREAM_TYPE_H264,
  STREAM_TYPE_H265,
  STREAM_TYPE_MPEG1_AUDIO,
  STREAM_TYPE_MPEG2_AUDIO,
  STREAM_TYPE_MPEG2_VIDEO,
  STREAM_TYPE_PRIVATE_PES,
  STREAM_TYPE_SCTE35,
} from "../ts/pmt.js";
import type { SectionErrorKind } from "../ts/section-assembler.js";

// ---------------------------------------------------------------- records

export interface ProgramStream {
  pid: number;
  streamType: number;
  streamTypeName: string;
}

export interface ProgramRecord {
  type: "program";
  programNumber: number;
  pmtPid: number;
  pcrPid: number;
  streams: ProgramStream[];
}

export interface PidRecord {
  type: "pid";
  pid: number;
  /** Present for elementary streams listed in a PMT. */
  streamType?: number;
  streamTypeName: string;
  packets: number;
  ccErrors: number;
}

export interface Scte35Record {
  type: "scte35";
  /** 0-based index of the packet where the section starts. */
  packet: number;
  pid: number;
  /** PCR-derived time of the packet carrying the section's last byte, seconds since the first PCR; null without PCR. */
  arrivalSeconds: number | null;
  section: SpliceInfoSection;
}

export interface ErrorRecord {
  type: "error";
  code: string;
  message: string;
  packet?: number;
  pid?: number;
  /** Byte offset in the input (sync loss). */
  offset?: number;
  details?: Record<string, unknown>;
}

export interface SummaryRecord {
  type: "summary";
  packets: number;
  resyncs: number;
  bytesSkipped: number;
  truncatedBytes: number;
  transportErrors: number;
  ccErrors: number;
  /** PSI sections dropped for a wrong CRC + SCTE-35 sections failing with ONAIR_SCTE35_CRC. */
  crcErrors: number;
  /** SCTE-35 sections decoded (one `scte35` record each). */
  scte35Sections: number;
  /** Section framing errors (length, truncation, pointer_field) on PSI and SCTE-35 PIDs. */
  sectionErrors: number;
  /** SCTE-35 sections that failed to decode (CRC errors included). */
  scte35Errors: number;
  /** Error records counted but not emitted (past maxErrorRecords). */
  errorsNotShown: number;
  /** PCR-derived duration of the whole input; absent with fewer than two PCRs. */
  durationSeconds?: number;
}

export type InspectRecord = ProgramRecord | PidRecord | Scte35Record | ErrorRecord | SummaryRecord;

export interface TsInspectorOptions {
  onRecord: (record: InspectRecord) => void;
  /** Error records emitted at most (default 1000); later ones are only counted. */
  maxErrorRecords?: number;
}

// ---------------------------------------------------------------- names

const STREAM_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, "MPEG-1 video"],
  [STREAM_TYPE_MPEG2_VIDEO, "MPEG-2 video"],
  [STREAM_TYPE_MPEG1_AUDIO, "MPEG-1 audio"],
  [STREAM_TYPE_MPEG2_AUDIO, "MPEG-2 audio"],
  [0x05, "private sections"],
  [STREAM_TYPE_PRIVATE_PES, "private PES"],
  [STREAM_TYPE_AAC_ADTS, "AAC (ADTS)"],
  [0x10, "MPEG-4 video"],
  [STREAM_TYPE_AAC_LATM, "AAC (LATM)"],
  [0x15, "metadata (PES)"],
  [STREAM_TYPE_H264, "H.264"],
  [STREAM_TYPE_H265, "H.265"],
  [STREAM_TYPE_AC3, "AC-3"],
  [STREAM_TYPE_SCTE35, "SCTE-35"],
  [0x87, "E-AC-3"],
]);

export const hex = (v: number, digits: number): string => `0x${v.toString(16).toUpperCase().padStart(digits, "0")}`;

/** A readable name for a PMT stream_type, e.g. `H.264`, `SCTE-35`, `stream_type 0x99`. */
export function streamTypeName(streamType: number): string {
  return STREAM_TYPE_NAMES.get(streamType) ?? `stream_type ${hex(streamType, 2)}`;
}

export const WELL_KNOWN_PIDS: ReadonlyMap<number, string> = new Map([
  [PAT_PID, "PAT"],
  [CAT_PID, "CAT"],
  [NIT_PID, "NIT"],
  [SDT_PID, "SDT/BAT"],
  [EIT_PID, "EIT"],
  [RST_PID, "RST"],
  [TDT_PID, "TDT/TOT"],
  [NULL_PID, "null"],
]);

export const SECTION_ERROR_CODES: Record<Exclude<SectionErrorKind, "continuity" | "transportError">, string> = {
  pointerField: "ONAIR_INSPECT_POINTER_FIELD",
  sectionLength: "ONAIR_INSPECT_SECTION_LENGTH",
  truncated: "ONAIR_INSPECT_SECTION_TRUNCATED",
  crc: "ONAIR_INSPECT_SECTION_CRC",
};

export const PCR_HZ = 27_000_000;
/** A PCR step above this (or backwards) is a time base jump, not an interval. */
export const MAX_PCR_STEP = 10 * PCR_HZ;

export const toSeconds = (ticks27: number): number => Math.round(ticks27 / 27) / 1e6;
