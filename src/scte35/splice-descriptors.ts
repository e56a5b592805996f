/**
 * splice_descriptor() codecs (SCTE 35 §10): avail, DTMF, segmentation and time descriptors
 * with the CUEI identifier, each encoder beside its decoder; other identifiers and tags are
 * kept raw. The segmentation_upid is read by upid.ts.
 */
import { OnairError } from "../core/errors.js";
import { bit, decodeTrailing, encodeTrailing } from "./commands.js";
import { midBytes, parseMid, UPID_MID, upidText } from "./upid.js";
import { CUEI, Reader, Writer, TWO_32, hexToBytes, identifierFromString, identifierToString, toHex } from "./bytes.js";
import {
  AVAIL_DESCRIPTOR,
  DTMF_DESCRIPTOR,
  SEGMENTATION_DESCRIPTOR,
  TIME_DESCRIPTOR,
  type AvailDescriptor,
  type DtmfDescriptor,
  type TimeDescriptor,
  type SegmentationDescriptor,
  type SpliceDescriptor,
} from "./types.js";

/** segmentation_type_ids whose descriptor may end with sub_segment_num / sub_segments_expected. */
export const SUB_SEGMENT_TYPES: ReadonlySet<number> = new Set([0x30, 0x32, 0x34, 0x36, 0x38, 0x3a, 0x44, 0x46]);

function encodeSegmentationDescriptor(w: Writer, d: SegmentationDescriptor): void {
  w.u32(d.segmentationEventId);
  w.u8(bit(d.segmentationEventCancelIndicator, 0x80) | bit(d.segmentationEventIdComplianceIndicator, 0x40) | 0x3f);
  if (d.segmentationEventCancelIndicator) {
    encodeTrailing(w, d);
    return;
  }
  const restrictions = d.deliveryNotRestrictedFlag
    ? 0x1f
    : bit(d.webDeliveryAllowedFlag, 0x10) |
      bit(d.noRegionalBlackoutFlag, 0x08) |
      bit(d.archiveAllowedFlag, 0x04) |
      ((d.deviceRestrictions ?? 3) & 0x03);
  w.u8(
    bit(d.programSegmentationFlag, 0x80) | bit(d.segmentationDurationFlag, 0x40) | bit(d.deliveryNotRestrictedFlag, 0x20) | restrictions,
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
  encodeTrailing(w, d);
}

function decodeSegmentationDescriptor(r: Reader): SegmentationDescriptor {
  const segmentationEventId = r.u32("segmentation_event_id");
  const b = r.u8("segmentation_event_cancel_indicator");
  const d: SegmentationDescriptor = {
    spliceDescriptorTag: SEGMENTATION_DESCRIPTOR,
    identifier: "CUEI",
    segmentationEventId,
    segmentationEventCancelIndicator: (b & 0x80) !== 0,
    segmentationEventIdComplianceIndicator: (b & 0x40) !== 0,
  };
  if (d.segmentationEventCancelIndicator) return decodeTrailing(d, r);
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
  return decodeTrailing(d, r);
}

export function encodeSpliceDescriptor(w: Writer, d: SpliceDescriptor, index: number): void {
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
        encodeSegmentationDescriptor(w, d);
        break;
      case TIME_DESCRIPTOR:
        w.u16(Math.floor(d.taiSeconds / TWO_32));
        w.u32(d.taiSeconds % TWO_32);
        w.u32(d.taiNs);
        w.u16(d.utcOffset);
        break;
    }
    if (d.spliceDescriptorTag !== SEGMENTATION_DESCRIPTOR) encodeTrailing(w, d);
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

export function decodeSpliceDescriptor(r: Reader): SpliceDescriptor {
  const tag = r.u8("splice_descriptor_tag");
  const len = r.u8("descriptor_length");
  const body = r.sub(len, "splice_descriptor");
  const id = body.u32("identifier");
  if (id !== CUEI || tag > TIME_DESCRIPTOR) {
    return { spliceDescriptorTag: tag, identifier: identifierToString(id), raw: toHex(body.rest()) };
  }
  switch (tag) {
    case AVAIL_DESCRIPTOR:
      return decodeTrailing<AvailDescriptor>(
        { spliceDescriptorTag: AVAIL_DESCRIPTOR, identifier: "CUEI", providerAvailId: body.u32("provider_avail_id") },
        body,
      );
    case DTMF_DESCRIPTOR: {
      const preroll = body.u8("preroll");
      const count = body.u8("dtmf_count") >>> 5;
      const chars = body.take(count, "DTMF_char");
      return decodeTrailing<DtmfDescriptor>(
        { spliceDescriptorTag: DTMF_DESCRIPTOR, identifier: "CUEI", preroll, dtmfChars: String.fromCharCode(...chars) },
        body,
      );
    }
    case SEGMENTATION_DESCRIPTOR:
      return decodeSegmentationDescriptor(body);
    default: {
      const hi = body.u16("TAI_seconds");
      const taiSeconds = hi * 2 ** 32 + body.u32("TAI_seconds");
      const taiNs = body.u32("TAI_ns");
      const utcOffset = body.u16("UTC_offset");
      return decodeTrailing<TimeDescriptor>(
        { spliceDescriptorTag: TIME_DESCRIPTOR, identifier: "CUEI", taiSeconds, taiNs, utcOffset },
        body,
      );
    }
  }
}
