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
import { writeCrc32 } from "../ts/crc32.js";
import { TABLE_ID_EIT_LAST, TABLE_ID_EIT_PF_ACTUAL } from "../ts/ids.js";
import {
  checkLongSection,
  CRC_SIZE as CRC_BYTES,
  LONG_SECTION_HEADER_SIZE as LONG_HEADER_BYTES,
  MAX_PRIVATE_SECTION_LENGTH,
  SI_SECTION_CODES,
  writeLongSectionHeader,
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
  const out = new Uint8Array(EIT_EVENT_HEADER_BYTES + descriptors.length);
  out[0] = eventId >> 8;
  out[1] = eventId & 0xff;
  writeUtcTime(out, 2, startTime);
  writeDuration(out, 7, duration);
  out[10] = (runningStatus << 5) | (freeCaMode ? 0x10 : 0) | (descriptors.length >> 8);
  out[11] = descriptors.length & 0xff;
  out.set(descriptors, 12);
  return out;
}

/** Header fields of an EIT section without its events. */
export type EitSectionHeader = Omit<EitSection, "events">;

/** Lays pre-encoded events into one section (total size must be ≤ 4096). */
export function assembleEitSection(h: EitSectionHeader, events: readonly Uint8Array[], from = 0, to = events.length): Uint8Array {
  let total = EIT_FIXED_BYTES + CRC_BYTES;
  for (let i = from; i < to; i++) total += events[i].length;
  if (total > EIT_MAX_SECTION_BYTES) {
    throw new OnairError("ONAIR_SI_SECTION_LENGTH", "EIT section longer than 4096 bytes", { total });
  }
  checkField("service_id", h.serviceId, 0xffff);
  checkField("transport_stream_id", h.transportStreamId, 0xffff);
  checkField("original_network_id", h.originalNetworkId, 0xffff);
  checkField("version_number", h.versionNumber, 31);
  const out = new Uint8Array(total);
  writeLongSectionHeader(out, 0, { ...h, privateIndicator: true, sectionLength: total - 3, tableIdExtension: h.serviceId });
  out[8] = h.transportStreamId >> 8;
  out[9] = h.transportStreamId & 0xff;
  out[10] = h.originalNetworkId >> 8;
  out[11] = h.originalNetworkId & 0xff;
  out[12] = h.segmentLastSectionNumber;
  out[13] = h.lastTableId;
  let p = EIT_FIXED_BYTES;
  for (let i = from; i < to; i++) {
    out.set(events[i], p);
    p += events[i].length;
  }
  writeCrc32(out, 0, total - CRC_BYTES);
  return out;
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

  decode(bytes: Uint8Array): EitSection {
    const h = checkLongSection(bytes, EIT_SPEC);
    const end = h.sectionLength + 3 - CRC_BYTES;
    if (end < EIT_FIXED_BYTES) throw new OnairError("ONAIR_SI_TRUNCATED", "EIT section too short for its fixed fields", {});
    const events: EitEvent[] = [];
    let p = EIT_FIXED_BYTES;
    while (p < end) {
      if (p + EIT_EVENT_HEADER_BYTES > end) throw new OnairError("ONAIR_SI_TRUNCATED", "EIT event header overruns the section", { at: p });
      const loop = ((bytes[p + 10] & 0x0f) << 8) | bytes[p + 11];
      if (p + EIT_EVENT_HEADER_BYTES + loop > end) throw new OnairError("ONAIR_SI_TRUNCATED", "EIT event descriptors overrun the section", { at: p });
      events.push({
        eventId: (bytes[p] << 8) | bytes[p + 1],
        startTime: readUtcTime(bytes, p + 2),
        duration: readDuration(bytes, p + 7),
        runningStatus: bytes[p + 10] >> 5,
        freeCaMode: (bytes[p + 10] & 0x10) !== 0,
        descriptors: decodeDescriptors(bytes, p + 12, p + 12 + loop),
      });
      p += EIT_EVENT_HEADER_BYTES + loop;
    }
    return {
      tableId: h.tableId,
      serviceId: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      transportStreamId: (bytes[8] << 8) | bytes[9],
      originalNetworkId: (bytes[10] << 8) | bytes[11],
      segmentLastSectionNumber: bytes[12],
      lastTableId: bytes[13],
      events,
    };
  },
};
