/**
 * Program Map Table (ISO/IEC 13818-1 §2.4.4.8), table_id 0x02, extension = program_number.
 * reserved 3, PCR_PID 13, reserved 4, program_info_length 12, program descriptors, then per
 * elementary stream {stream_type 8, reserved 3, elementary_PID 13, reserved 4,
 * ES_info_length 12, descriptors}, CRC_32. Descriptors are kept as raw {tag, data} and
 * written back unchanged.
 */
import { OnairError } from "../core/errors.js";
import type { FieldReader, FieldWriter } from "./fields.js";
import { TABLE_ID_PMT } from "./ids.js";
import {
  type Descriptor,
  descriptorsSize,
  endSection,
  MAX_PSI_SECTION_LENGTH,
  PSI_SECTION_CODES,
  readDescriptors,
  readLongSection,
  startLongSection,
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
    const w = startLongSection({ ...this, tableId: TABLE_ID_PMT, privateIndicator: false, tableIdExtension: this.programNumber });
    w.u16(0xe000 | (this.pcrPid & 0x1fff)); // reserved 3, PCR_PID 13
    writeLoop(w, this.programInfo, "program_info_length");
    for (const s of this.streams) {
      w.u8(s.streamType); // stream_type
      w.u16(0xe000 | (s.elementaryPid & 0x1fff)); // reserved 3, elementary_PID 13
      writeLoop(w, s.descriptors, "ES_info_length");
    }
    return endSection(w, PMT_SPEC);
  }

  /**
   * Parses a whole PMT section. Throws OnairError ONAIR_TS_BAD_TABLE_ID, ONAIR_TS_TRUNCATED,
   * ONAIR_TS_BAD_SECTION or ONAIR_TS_CRC.
   */
  static decode(bytes: Uint8Array): PmtSection {
    const { header: h, body: r } = readLongSection(bytes, PMT_SPEC);
    const pcrPid = r.u16("PCR_PID") & 0x1fff;
    const programInfo = readLoop(r, "program_info");
    const streams: PmtStream[] = [];
    while (r.left > 0) {
      const streamType = r.u8("stream_type");
      const elementaryPid = r.u16("elementary_PID") & 0x1fff;
      streams.push({ streamType, elementaryPid, descriptors: readLoop(r, "ES_info") });
    }
    // fields named, not spread (see PatSection.decode)
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

/** reserved 4, `field` 12, then the descriptors. Throws ONAIR_TS_SECTION_TOO_LONG past 1023 bytes. */
function writeLoop(w: FieldWriter, ds: readonly Descriptor[], field: string): void {
  const len = descriptorsSize(ds);
  if (len > 0x3ff) {
    throw new OnairError("ONAIR_TS_SECTION_TOO_LONG", `${field} above 1023 bytes`, { field, length: len });
  }
  w.u16(0xf000 | len);
  w.field(len, (b, at) => writeDescriptors(b, at, ds));
}

/** The mirror of writeLoop: `<name>_length` 12 bits, then that many bytes of descriptors. */
function readLoop(r: FieldReader, name: string): Descriptor[] {
  const len = r.u16(`${name}_length`) & 0x0fff;
  const loop = r.sub(len, name);
  return readDescriptors(loop.bytes, loop.pos, loop.end);
}
