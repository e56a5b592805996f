/**
 * splice_info_section decoder (SCTE 35 2022b + 2023 bits). Pure: bytes in, plain objects out.
 * Every non-reserved bit is kept, so `encode(decode(bytes))` gives the bytes back whenever
 * the reserved bits were written as 1.
 */
import { OnairError } from "../core/errors.js";
import { crc32Mpeg2, readCrc32 } from "../ts/crc32.js";
import { TABLE_ID_SCTE35 } from "../ts/ids.js";
import { CUEI, Reader, crcToString, identifierToString, toHex } from "./bytes.js";
import { UPID_MID, parseMid, upidText } from "./upid.js";
import {
  AVAIL_DESCRIPTOR,
  BANDWIDTH_RESERVATION,
  DTMF_DESCRIPTOR,
  PRIVATE_COMMAND,
  SEGMENTATION_DESCRIPTOR,
  SPLICE_INSERT,
  SPLICE_NULL,
  SPLICE_SCHEDULE,
  TIME_DESCRIPTOR,
  TIME_SIGNAL,
  type AvailDescriptor,
  type BreakDuration,
  type DtmfDescriptor,
  type TimeDescriptor,
  type ClearSpliceInfoSection,
  type EncryptedSpliceInfoSection,
  type SectionHeader,
  type SegmentationDescriptor,
  type SpliceCommandPart,
  type SpliceDescriptor,
  type SpliceInfoSection,
  type SpliceInsert,
  type SpliceSchedule,
  type SpliceScheduleEvent,
  type SpliceTime,
  type TimeSignal,
} from "./types.js";

/** segmentation_type_ids whose descriptor may end with sub_segment_num / sub_segments_expected. */
export const SUB_SEGMENT_TYPES: ReadonlySet<number> = new Set([0x30, 0x32, 0x34, 0x36, 0x38, 0x3a, 0x44, 0x46]);

export interface DecodeOptions {
  /** Default true: a CRC mismatch throws ONAIR_SCTE35_CRC. */
  verifyCrc?: boolean;
}

function spliceTime(r: Reader, field: string): SpliceTime {
  r.need(1, field);
  if ((r.bytes[r.pos] & 0x80) === 0) {
    r.pos += 1;
    return { timeSpecifiedFlag: false };
  }
  const [, ptsTime] = r.flags33(`${field}.pts_time`);
  return { timeSpecifiedFlag: true, ptsTime };
}

function breakDuration(r: Reader): BreakDuration {
  const [first, duration] = r.flags33("break_duration");
  return { autoReturn: (first & 0x80) !== 0, duration };
}

/** Keeps bytes the length field covers but the syntax does not use. */
function trailing<T extends object>(obj: T, r: Reader): T {
  if (r.left > 0) (obj as { trailingBytes?: string }).trailingBytes = toHex(r.rest());
  return obj;
}

function spliceInsert(r: Reader): SpliceInsert {
  const spliceEventId = r.u32("splice_event_id");
  const b = r.u8("splice_event_cancel_indicator");
  const cancel = (b & 0x80) !== 0;
  if (cancel) return { spliceEventId, spliceEventCancelIndicator: true };
  const f = r.u8("out_of_network_indicator");
  const cmd: SpliceInsert = {
    spliceEventId,
    spliceEventCancelIndicator: false,
    outOfNetworkIndicator: (f & 0x80) !== 0,
    programSpliceFlag: (f & 0x40) !== 0,
    durationFlag: (f & 0x20) !== 0,
    spliceImmediateFlag: (f & 0x10) !== 0,
    eventIdComplianceFlag: (f & 0x08) !== 0,
  };
  if (cmd.programSpliceFlag) {
    if (!cmd.spliceImmediateFlag) cmd.spliceTime = spliceTime(r, "splice_time");
  } else {
    const count = r.u8("component_count");
    cmd.components = [];
    for (let i = 0; i < count; i++) {
      const componentTag = r.u8("component_tag");
      cmd.components.push(
        cmd.spliceImmediateFlag ? { componentTag } : { componentTag, spliceTime: spliceTime(r, "splice_time") },
      );
    }
  }
  if (cmd.durationFlag) cmd.breakDuration = breakDuration(r);
  cmd.uniqueProgramId = r.u16("unique_program_id");
  cmd.availNum = r.u8("avail_num");
  cmd.availsExpected = r.u8("avails_expected");
  return cmd;
}

function spliceSchedule(r: Reader): SpliceSchedule {
  const count = r.u8("splice_count");
  const events: SpliceScheduleEvent[] = [];
  for (let i = 0; i < count; i++) {
    const spliceEventId = r.u32("splice_event_id");
    const b = r.u8("splice_event_cancel_indicator");
    const ev: SpliceScheduleEvent = {
      spliceEventId,
      spliceEventCancelIndicator: (b & 0x80) !== 0,
      eventIdComplianceFlag: (b & 0x40) !== 0,
    };
    if (!ev.spliceEventCancelIndicator) {
      const f = r.u8("out_of_network_indicator");
      ev.outOfNetworkIndicator = (f & 0x80) !== 0;
      ev.programSpliceFlag = (f & 0x40) !== 0;
      ev.durationFlag = (f & 0x20) !== 0;
      if (ev.programSpliceFlag) {
        ev.utcSpliceTime = r.u32("utc_splice_time");
      } else {
        const n = r.u8("component_count");
        ev.components = [];
        for (let k = 0; k < n; k++) {
          const componentTag = r.u8("component_tag");
          ev.components.push({ componentTag, utcSpliceTime: r.u32("utc_splice_time") });
        }
      }
      if (ev.durationFlag) ev.breakDuration = breakDuration(r);
      ev.uniqueProgramId = r.u16("unique_program_id");
      ev.availNum = r.u8("avail_num");
      ev.availsExpected = r.u8("avails_expected");
    }
    events.push(ev);
  }
  return { events };
}

/** Parses the command; `r` spans splice_command_length bytes (or the rest, for 0xFFF). */
function spliceCommand(type: number, r: Reader, legacyLength: boolean): SpliceCommandPart {
  switch (type) {
    case SPLICE_NULL:
      return { spliceCommandType: SPLICE_NULL, spliceCommand: legacyLength ? {} : trailing({}, r) };
    case BANDWIDTH_RESERVATION:
      return { spliceCommandType: BANDWIDTH_RESERVATION, spliceCommand: legacyLength ? {} : trailing({}, r) };
    case SPLICE_SCHEDULE: {
      const c = spliceSchedule(r);
      return { spliceCommandType: SPLICE_SCHEDULE, spliceCommand: legacyLength ? c : trailing(c, r) };
    }
    case SPLICE_INSERT: {
      const c = spliceInsert(r);
      return { spliceCommandType: SPLICE_INSERT, spliceCommand: legacyLength ? c : trailing(c, r) };
    }
    case TIME_SIGNAL: {
      const c: TimeSignal = { spliceTime: spliceTime(r, "splice_time") };
      return { spliceCommandType: TIME_SIGNAL, spliceCommand: legacyLength ? c : trailing(c, r) };
    }
    case PRIVATE_COMMAND: {
      if (legacyLength) {
        throw new OnairError(
          "ONAIR_SCTE35_BAD_FIELD",
          "private_command with splice_command_length 0xFFF (unknown) cannot be delimited",
          { field: "splice_command_length" },
        );
      }
      const identifier = identifierToString(r.u32("identifier"));
      return { spliceCommandType: PRIVATE_COMMAND, spliceCommand: { identifier, privateBytes: toHex(r.rest()) } };
    }
    default: {
      if (legacyLength) {
        throw new OnairError(
          "ONAIR_SCTE35_BAD_FIELD",
          `reserved splice_command_type 0x${type.toString(16).padStart(2, "0")} with splice_command_length 0xFFF (unknown) cannot be delimited`,
          { field: "splice_command_length", spliceCommandType: type },
        );
      }
      return { spliceCommandType: type, spliceCommand: { raw: toHex(r.rest()) } } as SpliceCommandPart;
    }
  }
}

function segmentationDescriptor(r: Reader): SegmentationDescriptor {
  const segmentationEventId = r.u32("segmentation_event_id");
  const b = r.u8("segmentation_event_cancel_indicator");
  const d: SegmentationDescriptor = {
    spliceDescriptorTag: SEGMENTATION_DESCRIPTOR,
    identifier: "CUEI",
    segmentationEventId,
    segmentationEventCancelIndicator: (b & 0x80) !== 0,
    segmentationEventIdComplianceIndicator: (b & 0x40) !== 0,
  };
  if (d.segmentationEventCancelIndicator) return trailing(d, r);
  const f = r.u8("program_segmentation_flag");
  d.programSegmentationFlag = (f & 0x80) !== 0;
  d.segmentationDurationFlag = (f & 0x40) !== 0;
  d.deliveryNotRestrictedFlag = (f & 0x20) !== 0;
  if (!d.deliveryNotRestrictedFlag) {
    d.webDeliveryAllowedFlag = (f & 0x10) !== 0;
    d.noRegionalBlackoutFlag = (f & 0x08) !== 0;
    d.archiveAllowedFlag = (f & 0x04) !== 0;
    d.deviceRestrictions = f & 0x03;
  }
  if (!d.programSegmentationFlag) {
    const n = r.u8("component_count");
    d.components = [];
    for (let i = 0; i < n; i++) {
      const componentTag = r.u8("component_tag");
      const [, ptsOffset] = r.flags33("pts_offset");
      d.components.push({ componentTag, ptsOffset });
    }
  }
  if (d.segmentationDurationFlag) {
    const hi = r.u8("segmentation_duration");
    d.segmentationDuration = hi * 2 ** 32 + r.u32("segmentation_duration");
  }
  d.segmentationUpidType = r.u8("segmentation_upid_type");
  const len = r.u8("segmentation_upid_length");
  const upid = r.take(len, "segmentation_upid");
  const mid = d.segmentationUpidType === UPID_MID ? parseMid(upid) : undefined;
  if (mid) {
    d.segmentationUpid = mid;
  } else {
    d.segmentationUpid = toHex(upid);
    const text = upidText(d.segmentationUpidType, upid);
    if (text !== undefined) d.segmentationUpidText = text;
  }
  d.segmentationTypeId = r.u8("segmentation_type_id");
  d.segmentNum = r.u8("segment_num");
  d.segmentsExpected = r.u8("segments_expected");
  if (SUB_SEGMENT_TYPES.has(d.segmentationTypeId) && r.left >= 2) {
    d.subSegmentNum = r.u8("sub_segment_num");
    d.subSegmentsExpected = r.u8("sub_segments_expected");
  }
  return trailing(d, r);
}

function descriptor(r: Reader): SpliceDescriptor {
  const tag = r.u8("splice_descriptor_tag");
  const len = r.u8("descriptor_length");
  const body = r.sub(len, "splice_descriptor");
  const id = body.u32("identifier");
  if (id !== CUEI || tag > TIME_DESCRIPTOR) {
    return { spliceDescriptorTag: tag, identifier: identifierToString(id), raw: toHex(body.rest()) };
  }
  switch (tag) {
    case AVAIL_DESCRIPTOR:
      return trailing<AvailDescriptor>(
        { spliceDescriptorTag: AVAIL_DESCRIPTOR, identifier: "CUEI", providerAvailId: body.u32("provider_avail_id") },
        body,
      );
    case DTMF_DESCRIPTOR: {
      const preroll = body.u8("preroll");
      const count = body.u8("dtmf_count") >>> 5;
      const chars = body.take(count, "DTMF_char");
      return trailing<DtmfDescriptor>(
        { spliceDescriptorTag: DTMF_DESCRIPTOR, identifier: "CUEI", preroll, dtmfChars: String.fromCharCode(...chars) },
        body,
      );
    }
    case SEGMENTATION_DESCRIPTOR:
      return segmentationDescriptor(body);
    default: {
      const hi = body.u16("TAI_seconds");
      const taiSeconds = hi * 2 ** 32 + body.u32("TAI_seconds");
      const taiNs = body.u32("TAI_ns");
      const utcOffset = body.u16("UTC_offset");
      return trailing<TimeDescriptor>({ spliceDescriptorTag: TIME_DESCRIPTOR, identifier: "CUEI", taiSeconds, taiNs, utcOffset }, body);
    }
  }
}

interface Frame {
  /** Byte 1: section_syntax_indicator, private_indicator, sap_type, section_length high bits. */
  b1: number;
  sectionLength: number;
  /** 3 + section_length. */
  total: number;
  storedCrc: number;
}

/** table_id, section_length against the buffer and the fixed fields, then the CRC_32 (unless told not to). */
function frame(bytes: Uint8Array, options: DecodeOptions): Frame {
  const head = new Reader(bytes, 0, bytes.length);
  const tableId = head.u8("table_id");
  if (tableId !== TABLE_ID_SCTE35) {
    throw new OnairError(
      "ONAIR_SCTE35_BAD_TABLE_ID",
      `table_id is 0x${tableId.toString(16).padStart(2, "0")}, a splice_info_section has 0xfc`,
      { tableId },
    );
  }
  const b1 = head.u8("section_length");
  const sectionLength = (b1 & 0x0f) * 256 + head.u8("section_length");
  const total = 3 + sectionLength;
  if (bytes.length < total) {
    throw new OnairError(
      "ONAIR_SCTE35_TRUNCATED",
      `section truncated at byte ${bytes.length}: section_length ${sectionLength} needs ${total} bytes`,
      { offset: bytes.length, field: "section_length", needed: total, available: bytes.length },
    );
  }
  // protocol_version .. splice_command_type (or the encrypted part) + CRC_32
  if (total < 3 + 11 + 4) {
    throw new OnairError(
      "ONAIR_SCTE35_TRUNCATED",
      `section truncated at byte ${total}: section_length ${sectionLength} is too short for the fixed header and CRC_32 (15 bytes)`,
      { offset: total, field: "section_length", needed: 18, available: total },
    );
  }
  const storedCrc = readCrc32(bytes, total - 4);
  if (options.verifyCrc !== false) {
    const computed = crc32Mpeg2(bytes, 0, total - 4);
    if (computed !== storedCrc) {
      throw new OnairError(
        "ONAIR_SCTE35_CRC",
        `CRC mismatch: section carries ${crcToString(storedCrc)}, computed ${crcToString(computed)}`,
        { stored: crcToString(storedCrc), computed: crcToString(computed) },
      );
    }
  }
  return { b1, sectionLength, total, storedCrc };
}

type Header = SectionHeader & { encryptedPacket: boolean };

/** protocol_version .. splice_command_length, read from `r` (at byte 3). */
function header(r: Reader, b1: number): { header: Header; spliceCommandLength: number } {
  const protocolVersion = r.u8("protocol_version");
  const [encByte, ptsAdjustment] = r.flags33("pts_adjustment");
  const cwIndex = r.u8("cw_index");
  const t0 = r.u8("tier");
  const t1 = r.u8("tier");
  const t2 = r.u8("splice_command_length");
  // Key order follows the bitstream (and the §14.2 JSON shape).
  const h = {
    tableId: TABLE_ID_SCTE35,
    sectionSyntaxIndicator: (b1 & 0x80) !== 0,
    privateIndicator: (b1 & 0x40) !== 0,
    sapType: (b1 >>> 4) & 0x03,
    protocolVersion,
    encryptedPacket: (encByte & 0x80) !== 0,
    encryptionAlgorithm: (encByte >>> 1) & 0x3f,
    ptsAdjustment,
    cwIndex,
    tier: t0 * 16 + (t1 >>> 4),
  } satisfies Header;
  return { header: h, spliceCommandLength: (t1 & 0x0f) * 256 + t2 };
}

/**
 * Decodes one splice_info_section starting at bytes[0]; bytes after section_length are
 * ignored (TS stuffing). Throws OnairError: ONAIR_SCTE35_BAD_TABLE_ID, ONAIR_SCTE35_TRUNCATED
 * (with offset and field), ONAIR_SCTE35_CRC (with both values).
 */
export function decodeSpliceInfoSection(bytes: Uint8Array, options: DecodeOptions = {}): SpliceInfoSection {
  const { b1, sectionLength, total, storedCrc } = frame(bytes, options);
  const r = new Reader(bytes, 3, total - 4);
  const { header: h, spliceCommandLength } = header(r, b1);
  const crc32 = crcToString(storedCrc);

  if (h.encryptedPacket) {
    // Encrypted from splice_command_type through E_CRC_32: keep it as it is.
    r.need(4, "E_CRC_32");
    const data = r.take(r.left - 4, "encrypted data");
    const eCrc = readCrc32(bytes, r.pos);
    const enc: EncryptedSpliceInfoSection = {
      ...h,
      encryptedPacket: true,
      spliceCommandLength,
      encryptedData: toHex(data),
      eCrc32: crcToString(eCrc),
      sectionLength,
      crc32,
    };
    return enc;
  }

  const spliceCommandType = r.u8("splice_command_type");
  const legacy = spliceCommandLength === 0xfff;
  const cmdReader = legacy ? new Reader(bytes, r.pos, r.end) : r.sub(spliceCommandLength, "splice_command");
  const command = spliceCommand(spliceCommandType, cmdReader, legacy);
  if (legacy) r.pos = cmdReader.pos;

  const descriptorLoopLength = r.u16("descriptor_loop_length");
  const loop = r.sub(descriptorLoopLength, "splice_descriptor loop");
  const descriptors: SpliceDescriptor[] = [];
  while (loop.left > 0) descriptors.push(descriptor(loop));

  const section: ClearSpliceInfoSection = {
    ...h,
    encryptedPacket: false,
    ...command,
    descriptors,
    ...(legacy ? { legacySpliceCommandLength: true as const } : {}),
    ...(r.left > 0 ? { alignmentStuffing: toHex(r.rest()) } : {}),
    sectionLength,
    spliceCommandLength,
    descriptorLoopLength,
    crc32,
  };
  return section;
}
