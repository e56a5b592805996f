/**
 * Event Information Table section (EN 300 468 §5.2.4), PID 0x12, ≤ 4096 bytes.
 *
 * Header (long, extension = service_id), transport_stream_id 16, original_network_id 16,
 * segment_last_section_number 8, last_table_id 8, then per event: event_id 16,
 * start_time 40, duration 24, running_status 3, free_CA_mode 1,
 * descriptors_loop_length 12, descriptors; CRC_32.
 */
import { OnairError } from "../core/errors.js";
import { decodeDescriptors, encodeDescriptors, type DvbDescriptor } from "./descriptors.js";
import { FieldWriter, type FieldReader } from "../ts/fields.js";
import { TABLE_ID_EIT_LAST, TABLE_ID_EIT_PF_ACTUAL } from "../ts/ids.js";
import {
  CRC_SIZE as CRC_BYTES,
  endSection,
  LONG_SECTION_HEADER_SIZE as LONG_HEADER_BYTES,
  MAX_PRIVATE_SECTION_LENGTH,
  readLongSection,
  SI_SECTION_CODES,
  startLongSection,
} from "../ts/section.js";
import { checkField } from "./check.js";
import type { DvbTextOptions } from "./text.js";
import { readDuration, readUtcTime, writeDuration, writeUtcTime } from "./time.js";

/** EIT schedule geometry (EN 300 468 §5.2.4, TS 101 211 §4.1.4): a sub-table (one table_id) holds 32 segments… */
export const EIT_SEGMENTS_PER_TABLE = 32;
/** …of 3 hours each (so 4 days per table_id, 64 days over 0x50–0x5F)… */
export const EIT_SEGMENT_MS = 3 * 3_600_000;
/** …of at most 8 sections each: section_number = 8 × segment + i. */
export const EIT_SECTIONS_PER_SEGMENT = 8;
/** Largest EIT section, header and CRC included. */
export const EIT_MAX_SECTION_BYTES = 4096;
/** Bytes before the first event: long header + 6. */
export const EIT_FIXED_BYTES = LONG_HEADER_BYTES + 6;
/** Bytes of an event before its descriptors. */
export const EIT_EVENT_HEADER_BYTES = 12;
/** Largest descriptor loop of one event that still fits a section alone. */
export const EIT_MAX_EVENT_DESCRIPTORS = EIT_MAX_SECTION_BYTES - EIT_FIXED_BYTES - CRC_BYTES - EIT_EVENT_HEADER_BYTES;

/** running_status values (EN 300 468 Table 6). */
export const RunningStatus = {
  undefined: 0,
  notRunning: 1,
  startsInAFewSeconds: 2,
  pausing: 3,
  running: 4,
  serviceOffAir: 5,
} as const;

export interface EitEvent {
  eventId: number;
  /** UTC epoch ms (whole seconds), `undefined` when the field is all ones. */
  startTime: number | undefined;
  /** Seconds, `undefined` when the field is all ones. */
  duration: number | undefined;
  runningStatus: number;
  freeCaMode: boolean;
  descriptors: DvbDescriptor[];
}

export interface EitSection {
  tableId: number;
  /** table_id_extension. */
  serviceId: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
  transportStreamId: number;
  originalNetworkId: number;
  segmentLastSectionNumber: number;
  lastTableId: number;
  events: EitEvent[];
}

/**
 * Serializes one event (header + descriptor loop) already encoded as `descriptors`.
 * Used by the builders, which encode each event once and lay the bytes into sections.
 */
export function encodeEventBytes(
  eventId: number,
  startTime: number | undefined,
  duration: number | undefined,
  runningStatus: number,
  freeCaMode: boolean,
  descriptors: Uint8Array,
): Uint8Array {
  checkField("event_id", eventId, 0xffff);
  checkField("running_status", runningStatus, 7);
  if (descriptors.length > EIT_MAX_EVENT_DESCRIPTORS) {
    throw new OnairError("ONAIR_SI_SECTION_LENGTH", "event descriptors do not fit an EIT section", { eventId, length: descriptors.length });
  }
  const w = new FieldWriter(EIT_EVENT_HEADER_BYTES + descriptors.length);
  w.u16(eventId); // event_id
  w.field(5, (b, at) => writeUtcTime(b, at, startTime)); // start_time 40
  w.field(3, (b, at) => writeDuration(b, at, duration)); // duration 24
  // running_status 3, free_CA_mode 1, descriptors_loop_length 12
  w.u16((runningStatus << 13) | (freeCaMode ? 0x1000 : 0) | descriptors.length);
  w.bytes(descriptors);
  return w.finish();
}

/** The mirror of encodeEventBytes, with the descriptors decoded. */
function decodeEvent(r: FieldReader): EitEvent {
  const eventId = r.u16("event_id");
  const startTime = r.field(5, "start_time", readUtcTime);
  const duration = r.field(3, "duration", readDuration);
  const b = r.u16("running_status");
  const loop = r.sub(b & 0x0fff, "descriptors");
  return {
    eventId,
    startTime,
    duration,
    runningStatus: b >> 13,
    freeCaMode: (b & 0x1000) !== 0,
    descriptors: decodeDescriptors(loop.bytes, loop.pos, loop.end),
  };
}

/** Header fields of an EIT section without its events. */
export type EitSectionHeader = Omit<EitSection, "events">;

/** Lays pre-encoded events into one section (total size must be ≤ 4096). */
export function assembleEitSection(h: EitSectionHeader, events: readonly Uint8Array[], from = 0, to = events.length): Uint8Array {
  checkField("service_id", h.serviceId, 0xffff);
  checkField("transport_stream_id", h.transportStreamId, 0xffff);
  checkField("original_network_id", h.originalNetworkId, 0xffff);
  checkField("version_number", h.versionNumber, 31);
  let total = EIT_FIXED_BYTES + CRC_BYTES;
  for (let i = from; i < to; i++) total += events[i].length;
  const w = startLongSection({ ...h, privateIndicator: true, tableIdExtension: h.serviceId }, total);
  w.u16(h.transportStreamId); // transport_stream_id
  w.u16(h.originalNetworkId); // original_network_id
  w.u8(h.segmentLastSectionNumber); // segment_last_section_number
  w.u8(h.lastTableId); // last_table_id
  for (let i = from; i < to; i++) w.bytes(events[i]);
  return endSection(w, EIT_SPEC);
}

const EIT_SPEC = {
  table: "EIT",
  tableIdOk: (t: number) => t >= TABLE_ID_EIT_PF_ACTUAL && t <= TABLE_ID_EIT_LAST,
  maxSectionLength: MAX_PRIVATE_SECTION_LENGTH,
  codes: SI_SECTION_CODES,
};

export const EitSection = {
  encode(s: EitSection, opts?: DvbTextOptions): Uint8Array {
    const events = s.events.map((e) =>
      encodeEventBytes(e.eventId, e.startTime, e.duration, e.runningStatus, e.freeCaMode, encodeDescriptors(e.descriptors, opts)),
    );
    return assembleEitSection(s, events);
  },

  /** Throws ONAIR_SI_TRUNCATED, ONAIR_SI_TABLE_ID, ONAIR_SI_SYNTAX, ONAIR_SI_SECTION_LENGTH, ONAIR_SI_CRC, ONAIR_SI_DESCRIPTOR. */
  decode(bytes: Uint8Array): EitSection {
    const { header: h, body: r } = readLongSection(bytes, EIT_SPEC);
    const transportStreamId = r.u16("transport_stream_id");
    const originalNetworkId = r.u16("original_network_id");
    const segmentLastSectionNumber = r.u8("segment_last_section_number");
    const lastTableId = r.u8("last_table_id");
    const events: EitEvent[] = [];
    while (r.left > 0) events.push(decodeEvent(r));
    return {
      tableId: h.tableId,
      serviceId: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      transportStreamId,
      originalNetworkId,
      segmentLastSectionNumber,
      lastTableId,
      events,
    };
  },
};
