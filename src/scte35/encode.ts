/**
 * splice_info_section encoder: the mirror of decode.ts. Input is validated first
 * (ONAIR_SCTE35_BAD_FIELD with the field path); lengths and CRC_32 are recomputed;
 * reserved bits are written as 1.
 */
import { OnairError } from "../core/errors.js";
import { writeCrc32 } from "../ts/crc32.js";
import { CUEI, TWO_32, Writer, hexToBytes, identifierFromString } from "./bytes.js";
import { midBytes } from "./upid.js";
import { validateSpliceInfoSection } from "./validate.js";
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
  type BreakDuration,
  type SegmentationDescriptor,
  type SpliceCommandPart,
  type SpliceDescriptor,
  type SpliceInfoSectionInput,
  type SpliceInsert,
  type SpliceSchedule,
  type SpliceTime,
} from "./types.js";

/** Largest section: section_length ≤ 4093, so 4096 bytes in all. */
const MAX_SECTION_BYTES = 4096;

function bit(b: boolean | undefined, mask: number): number {
  return b ? mask : 0;
}

function spliceTime(w: Writer, t: SpliceTime): void {
  if (!t.timeSpecifiedFlag) {
    w.u8(0x7f);
    return;
  }
  w.flags33(0xfe, t.ptsTime ?? 0);
}

function breakDuration(w: Writer, b: BreakDuration): void {
  w.flags33(bit(b.autoReturn, 0x80) | 0x7e, b.duration);
}

function trailing(w: Writer, t: { trailingBytes?: string }): void {
  if (t.trailingBytes) w.bytes(hexToBytes(t.trailingBytes));
}

function spliceInsert(w: Writer, c: SpliceInsert): void {
  w.u32(c.spliceEventId);
  if (c.spliceEventCancelIndicator) {
    w.u8(0xff);
    trailing(w, c);
    return;
  }
  w.u8(0x7f);
  w.u8(
    bit(c.outOfNetworkIndicator, 0x80) |
      bit(c.programSpliceFlag, 0x40) |
      bit(c.durationFlag, 0x20) |
      bit(c.spliceImmediateFlag, 0x10) |
      bit(c.eventIdComplianceFlag, 0x08) |
      0x07,
  );
  if (c.programSpliceFlag) {
    if (!c.spliceImmediateFlag && c.spliceTime) spliceTime(w, c.spliceTime);
  } else {
    const comps = c.components ?? [];
    w.u8(comps.length);
    for (const comp of comps) {
      w.u8(comp.componentTag);
      if (!c.spliceImmediateFlag && comp.spliceTime) spliceTime(w, comp.spliceTime);
    }
  }
  if (c.durationFlag && c.breakDuration) breakDuration(w, c.breakDuration);
  w.u16(c.uniqueProgramId ?? 0);
  w.u8(c.availNum ?? 0);
  w.u8(c.availsExpected ?? 0);
  trailing(w, c);
}

function spliceSchedule(w: Writer, c: SpliceSchedule): void {
  w.u8(c.events.length);
  for (const e of c.events) {
    w.u32(e.spliceEventId);
    w.u8(bit(e.spliceEventCancelIndicator, 0x80) | bit(e.eventIdComplianceFlag, 0x40) | 0x3f);
    if (e.spliceEventCancelIndicator) continue;
    w.u8(bit(e.outOfNetworkIndicator, 0x80) | bit(e.programSpliceFlag, 0x40) | bit(e.durationFlag, 0x20) | 0x1f);
    if (e.programSpliceFlag) {
      w.u32(e.utcSpliceTime ?? 0);
    } else {
      const comps = e.components ?? [];
      w.u8(comps.length);
      for (const comp of comps) {
        w.u8(comp.componentTag);
        w.u32(comp.utcSpliceTime);
      }
    }
    if (e.durationFlag && e.breakDuration) breakDuration(w, e.breakDuration);
    w.u16(e.uniqueProgramId ?? 0);
    w.u8(e.availNum ?? 0);
    w.u8(e.availsExpected ?? 0);
  }
  trailing(w, c);
}

function spliceCommand(w: Writer, part: SpliceCommandPart): void {
  switch (part.spliceCommandType) {
    case SPLICE_NULL:
    case BANDWIDTH_RESERVATION:
      trailing(w, part.spliceCommand);
      return;
    case SPLICE_SCHEDULE:
      spliceSchedule(w, part.spliceCommand);
      return;
    case SPLICE_INSERT:
      spliceInsert(w, part.spliceCommand);
      return;
    case TIME_SIGNAL:
      spliceTime(w, part.spliceCommand.spliceTime);
      trailing(w, part.spliceCommand);
      return;
    case PRIVATE_COMMAND:
      w.u32(identifierFromString(part.spliceCommand.identifier) ?? 0);
      w.bytes(hexToBytes(part.spliceCommand.privateBytes));
      return;
    default:
      w.bytes(hexToBytes(part.spliceCommand.raw));
  }
}

function segmentation(w: Writer, d: SegmentationDescriptor): void {
  w.u32(d.segmentationEventId);
  w.u8(bit(d.segmentationEventCancelIndicator, 0x80) | bit(d.segmentationEventIdComplianceIndicator, 0x40) | 0x3f);
  if (d.segmentationEventCancelIndicator) {
    trailing(w, d);
    return;
  }
  const restrictions = d.deliveryNotRestrictedFlag
    ? 0x1f
    : bit(d.webDeliveryAllowedFlag, 0x10) |
      bit(d.noRegionalBlackoutFlag, 0x08) |
      bit(d.archiveAllowedFlag, 0x04) |
      ((d.deviceRestrictions ?? 3) & 0x03);
  w.u8(
    bit(d.programSegmentationFlag, 0x80) |
      bit(d.segmentationDurationFlag, 0x40) |
      bit(d.deliveryNotRestrictedFlag, 0x20) |
      restrictions,
  );
  if (!d.programSegmentationFlag) {
    const comps = d.components ?? [];
    w.u8(comps.length);
    for (const c of comps) {
      w.u8(c.componentTag);
      w.flags33(0xfe, c.ptsOffset);
    }
  }
  if (d.segmentationDurationFlag) {
    const v = d.segmentationDuration ?? 0;
    w.u8(Math.floor(v / TWO_32));
    w.u32(v % TWO_32);
  }
  const upid =
    typeof d.segmentationUpid === "string" || d.segmentationUpid === undefined
      ? hexToBytes(d.segmentationUpid ?? "")
      : midBytes(d.segmentationUpid);
  w.u8(d.segmentationUpidType ?? 0);
  w.u8(upid.length);
  w.bytes(upid);
  w.u8(d.segmentationTypeId ?? 0);
  w.u8(d.segmentNum ?? 0);
  w.u8(d.segmentsExpected ?? 0);
  if (d.subSegmentNum !== undefined) {
    w.u8(d.subSegmentNum);
    w.u8(d.subSegmentsExpected ?? 0);
  }
  trailing(w, d);
}

function descriptor(w: Writer, d: SpliceDescriptor, index: number): void {
  w.u8(d.spliceDescriptorTag);
  const lengthAt = w.length;
  w.u8(0);
  const start = w.length;
  if (d.raw !== undefined) {
    w.u32(identifierFromString(d.identifier) ?? 0);
    w.bytes(hexToBytes(d.raw));
  } else {
    w.u32(CUEI);
    switch (d.spliceDescriptorTag) {
      case AVAIL_DESCRIPTOR:
        w.u32(d.providerAvailId);
        break;
      case DTMF_DESCRIPTOR:
        w.u8(d.preroll);
        w.u8((d.dtmfChars.length << 5) | 0x1f);
        for (let i = 0; i < d.dtmfChars.length; i++) w.u8(d.dtmfChars.charCodeAt(i));
        break;
      case SEGMENTATION_DESCRIPTOR:
        segmentation(w, d);
        break;
      case TIME_DESCRIPTOR:
        w.u16(Math.floor(d.taiSeconds / TWO_32));
        w.u32(d.taiSeconds % TWO_32);
        w.u32(d.taiNs);
        w.u16(d.utcOffset);
        break;
    }
    if (d.spliceDescriptorTag !== SEGMENTATION_DESCRIPTOR) trailing(w, d);
  }
  const len = w.length - start;
  if (len > 255) {
    throw new OnairError("ONAIR_SCTE35_BAD_FIELD", `descriptors[${index}]: ${len} bytes, descriptor_length allows 255`, {
      path: `descriptors[${index}]`,
      value: len,
    });
  }
  w.patch(lengthAt, len);
}

/**
 * Encodes a splice_info_section. `sectionLength`, `spliceCommandLength`,
 * `descriptorLoopLength`, `crc32` and `segmentationUpidText` are ignored and recomputed
 * (except an encrypted section's spliceCommandLength, which cannot be). Throws
 * ONAIR_SCTE35_BAD_FIELD for any value outside its range.
 */
export function encodeSpliceInfoSection(input: SpliceInfoSectionInput): Uint8Array {
  const s = validateSpliceInfoSection(input);
  const w = new Writer();
  w.u8(0xfc);
  // section_syntax_indicator, private_indicator, sap_type, section_length (patched below)
  w.u8(bit(s.sectionSyntaxIndicator, 0x80) | bit(s.privateIndicator, 0x40) | ((s.sapType & 3) << 4));
  w.u8(0);
  w.u8(s.protocolVersion);
  w.flags33(bit(s.encryptedPacket, 0x80) | ((s.encryptionAlgorithm & 0x3f) << 1), s.ptsAdjustment);
  w.u8(s.cwIndex);
  const tierAt = w.length;
  w.u8(0);
  w.u8(0);
  w.u8(0);
  let commandLength: number;
  if (s.encryptedPacket) {
    commandLength = s.spliceCommandLength;
    w.bytes(hexToBytes(s.encryptedData));
    w.u32(parseInt(s.eCrc32.slice(2), 16));
  } else {
    w.u8(s.spliceCommandType);
    const cmdStart = w.length;
    spliceCommand(w, s);
    commandLength = s.legacySpliceCommandLength ? 0xfff : w.length - cmdStart;
    const loopAt = w.length;
    w.u16(0);
    s.descriptors.forEach((d, i) => descriptor(w, d, i));
    const loopLength = w.length - loopAt - 2;
    w.patch(loopAt, loopLength >>> 8);
    w.patch(loopAt + 1, loopLength & 0xff);
    if (s.alignmentStuffing) w.bytes(hexToBytes(s.alignmentStuffing));
  }
  const total = w.length + 4;
  if (total > MAX_SECTION_BYTES) {
    throw new OnairError(
      "ONAIR_SCTE35_BAD_FIELD",
      `sectionLength: the section would be ${total} bytes, at most ${MAX_SECTION_BYTES} (section_length ≤ 4093)`,
      { path: "sectionLength", value: total - 3 },
    );
  }
  if (commandLength > 0xfff || (!s.encryptedPacket && commandLength === 0xfff && !s.legacySpliceCommandLength)) {
    throw new OnairError("ONAIR_SCTE35_BAD_FIELD", `spliceCommand: ${commandLength} bytes, splice_command_length allows 4094`, {
      path: "spliceCommand",
      value: commandLength,
    });
  }
  const sectionLength = total - 3;
  w.patch(1, (w.view()[1] & 0xf0) | (sectionLength >>> 8));
  w.patch(2, sectionLength & 0xff);
  w.patch(tierAt, s.tier >>> 4);
  w.patch(tierAt + 1, ((s.tier & 0x0f) << 4) | (commandLength >>> 8));
  w.patch(tierAt + 2, commandLength & 0xff);
  w.u32(0);
  const out = w.finish();
  writeCrc32(out, 0, out.length - 4);
  return out;
}
