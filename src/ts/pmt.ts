/**
 * Program Map Table (ISO/IEC 13818-1 §2.4.4.8), table_id 0x02, extension = program_number.
 * reserved 3, PCR_PID 13, reserved 4, program_info_length 12, program descriptors, then per
 * elementary stream {stream_type 8, reserved 3, elementary_PID 13, reserved 4,
 * ES_info_length 12, descriptors}, CRC_32. Descriptors are kept as raw {tag, data} and
 * written back unchanged.
 */
import { OnairError } from "../core/errors.js";
import { TABLE_ID_PMT } from "./ids.js";
import {
  buildLongSection,
  checkLongSection,
  CRC_SIZE,
  type Descriptor,
  descriptorsSize,
  LONG_SECTION_HEADER_SIZE,
  MAX_PSI_SECTION_LENGTH,
  PSI_SECTION_CODES,
  readDescriptors,
  writeDescriptors,
} from "./section.js";

export const STREAM_TYPE_MPEG2_VIDEO = 0x02;
export const STREAM_TYPE_MPEG1_AUDIO = 0x03;
export const STREAM_TYPE_MPEG2_AUDIO = 0x04;
export const STREAM_TYPE_PRIVATE_PES = 0x06;
export const STREAM_TYPE_AAC_ADTS = 0x0f;
export const STREAM_TYPE_AAC_LATM = 0x11;
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_H265 = 0x24;
export const STREAM_TYPE_AC3 = 0x81;
export const STREAM_TYPE_SCTE35 = 0x86;

export interface PmtStream {
  streamType: number;
  elementaryPid: number;
  descriptors: Descriptor[];
}

export interface PmtSectionInit {
  programNumber: number;
  versionNumber?: number;
  currentNextIndicator?: boolean;
  sectionNumber?: number;
  lastSectionNumber?: number;
  /** PCR_PID (0x1FFF when the program has no PCR). */
  pcrPid: number;
  programInfo?: Descriptor[];
  streams: PmtStream[];
}

const PMT_SPEC = {
  table: "PMT",
  tableIdOk: (t: number) => t === TABLE_ID_PMT,
  maxSectionLength: MAX_PSI_SECTION_LENGTH,
  codes: PSI_SECTION_CODES,
};

export class PmtSection {
  programNumber: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
  pcrPid: number;
  programInfo: Descriptor[];
  streams: PmtStream[];

  constructor(init: PmtSectionInit) {
    this.programNumber = init.programNumber;
    this.versionNumber = init.versionNumber ?? 0;
    this.currentNextIndicator = init.currentNextIndicator ?? true;
    this.sectionNumber = init.sectionNumber ?? 0;
    this.lastSectionNumber = init.lastSectionNumber ?? 0;
    this.pcrPid = init.pcrPid;
    this.programInfo = init.programInfo ?? [];
    this.streams = init.streams;
  }

  /** The first stream of a stream_type, or undefined. */
  findStream(streamType: number): PmtStream | undefined {
    return this.streams.find((s) => s.streamType === streamType);
  }

  /** Serializes the whole section, CRC included. Throws ONAIR_TS_SECTION_TOO_LONG past 1024 bytes. */
  encode(): Uint8Array {
    const piLen = descriptorsSize(this.programInfo);
    let size = 4 + piLen;
    for (const s of this.streams) size += 5 + descriptorsSize(s.descriptors);
    const body = new Uint8Array(size);
    body[0] = 0xe0 | ((this.pcrPid >> 8) & 0x1f);
    body[1] = this.pcrPid & 0xff;
    checkLoopLength(piLen, "program_info_length");
    body[2] = 0xf0 | ((piLen >> 8) & 0x0f);
    body[3] = piLen & 0xff;
    let o = writeDescriptors(body, 4, this.programInfo);
    for (const s of this.streams) {
      const esLen = descriptorsSize(s.descriptors);
      checkLoopLength(esLen, "ES_info_length");
      body[o] = s.streamType & 0xff;
      body[o + 1] = 0xe0 | ((s.elementaryPid >> 8) & 0x1f);
      body[o + 2] = s.elementaryPid & 0xff;
      body[o + 3] = 0xf0 | ((esLen >> 8) & 0x0f);
      body[o + 4] = esLen & 0xff;
      o = writeDescriptors(body, o + 5, s.descriptors);
    }
    return buildLongSection(
      {
        tableId: TABLE_ID_PMT,
        privateIndicator: false,
        tableIdExtension: this.programNumber,
        versionNumber: this.versionNumber,
        currentNextIndicator: this.currentNextIndicator,
        sectionNumber: this.sectionNumber,
        lastSectionNumber: this.lastSectionNumber,
      },
      body,
    );
  }

  /**
   * Parses a whole PMT section. Throws OnairError ONAIR_TS_BAD_TABLE_ID, ONAIR_TS_TRUNCATED,
   * ONAIR_TS_BAD_SECTION or ONAIR_TS_CRC.
   */
  static decode(bytes: Uint8Array): PmtSection {
    const h = checkLongSection(bytes, PMT_SPEC);
    const end = 3 + h.sectionLength - CRC_SIZE;
    let o = LONG_SECTION_HEADER_SIZE;
    if (o + 4 > end) throw truncated("PCR_PID and program_info_length", o, end);
    const pcrPid = ((bytes[o] & 0x1f) << 8) | bytes[o + 1];
    const piLen = ((bytes[o + 2] & 0x0f) << 8) | bytes[o + 3];
    o += 4;
    if (o + piLen > end) throw truncated("program_info", o, end);
    const programInfo = readDescriptors(bytes, o, o + piLen);
    o += piLen;
    const streams: PmtStream[] = [];
    while (o < end) {
      if (o + 5 > end) throw truncated("elementary stream entry", o, end);
      const esLen = ((bytes[o + 3] & 0x0f) << 8) | bytes[o + 4];
      if (o + 5 + esLen > end) throw truncated("ES_info", o, end);
      streams.push({
        streamType: bytes[o],
        elementaryPid: ((bytes[o + 1] & 0x1f) << 8) | bytes[o + 2],
        descriptors: readDescriptors(bytes, o + 5, o + 5 + esLen),
      });
      o += 5 + esLen;
    }
    return new PmtSection({
      programNumber: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      pcrPid,
      programInfo,
      streams,
    });
  }
}

function checkLoopLength(len: number, field: string): void {
  if (len > 0x3ff) {
    throw new OnairError("ONAIR_TS_SECTION_TOO_LONG", `${field} above 1023 bytes`, { field, length: len });
  }
}

function truncated(what: string, at: number, end: number): OnairError {
  return new OnairError("ONAIR_TS_TRUNCATED", `PMT ${what} runs past the end of the section`, { at, end });
}
