/**
 * Convenience builders for the injector. Each returns a SpliceInfoSectionInput (or a
 * descriptor) with defaults filled in; encodeSpliceInfoSection() validates and encodes it.
 *
 * Header defaults follow TSDuck and threefive, so a cue built here is byte-identical to what
 * those tools emit for the same fields: sap_type 3 (unspecified), protocol_version 0, no
 * encryption, pts_adjustment 0, cw_index 0x00 (both tools write 0; unused when clear),
 * tier 0xFFF. The 2023 compliance bits default to 1 (the value of the bit when it was
 * reserved), so cues stay identical to pre-2023 encoders' output.
 */
import { TABLE_ID_SCTE35 } from "../ts/ids.js";
import {
  AVAIL_DESCRIPTOR,
  SEGMENTATION_DESCRIPTOR,
  SPLICE_INSERT,
  SPLICE_NULL,
  TIME_SIGNAL,
  type AvailDescriptor,
  type ClearSpliceInfoSectionInput,
  type MidUpidEntry,
  type SectionHeader,
  type SegmentationComponent,
  type SegmentationDescriptor,
  type SpliceDescriptor,
  type SpliceInsert,
  type SpliceInsertComponent,
} from "./types.js";

/** Header fields a caller may override. */
export type HeaderOptions = Partial<Omit<SectionHeader, "tableId">>;

export const DEFAULT_HEADER: SectionHeader = {
  tableId: TABLE_ID_SCTE35,
  sectionSyntaxIndicator: false,
  privateIndicator: false,
  sapType: 3,
  protocolVersion: 0,
  encryptionAlgorithm: 0,
  ptsAdjustment: 0,
  cwIndex: 0x00,
  tier: 0xfff,
};

function header(h: HeaderOptions = {}): SectionHeader & { encryptedPacket: false } {
  return { ...DEFAULT_HEADER, ...h, tableId: TABLE_ID_SCTE35, encryptedPacket: false };
}

/** splice_null(): the heartbeat. */
export function spliceNull(opts: { header?: HeaderOptions; descriptors?: SpliceDescriptor[] } = {}): ClearSpliceInfoSectionInput {
  return { ...header(opts.header), spliceCommandType: SPLICE_NULL, spliceCommand: {}, descriptors: opts.descriptors ?? [] };
}

/** time_signal(): `ptsTime` absent means time_specified_flag 0. */
export function timeSignal(
  opts: { ptsTime?: number; descriptors?: SpliceDescriptor[]; header?: HeaderOptions } = {},
): ClearSpliceInfoSectionInput {
  return {
    ...header(opts.header),
    spliceCommandType: TIME_SIGNAL,
    spliceCommand: {
      spliceTime: opts.ptsTime === undefined ? { timeSpecifiedFlag: false } : { timeSpecifiedFlag: true, ptsTime: opts.ptsTime },
    },
    descriptors: opts.descriptors ?? [],
  };
}

export interface SpliceInsertOptions {
  spliceEventId: number;
  /** true: cancel the event with this id; every other field is ignored. */
  cancel?: boolean;
  /** Default true (Out point / break start); false for the return. */
  outOfNetworkIndicator?: boolean;
  /** Splice time in 90 kHz; absent = splice_immediate_flag (program mode). */
  ptsTime?: number;
  /** Component mode: a list of {componentTag, ptsTime?}; ptsTime absent on all = immediate. */
  components?: { componentTag: number; ptsTime?: number }[];
  /** break_duration in 90 kHz; absent = duration_flag 0. */
  breakDuration?: number;
  /** Default true. */
  autoReturn?: boolean;
  uniqueProgramId?: number;
  availNum?: number;
  availsExpected?: number;
  /** Default true (see the module comment). */
  eventIdComplianceFlag?: boolean;
  descriptors?: SpliceDescriptor[];
  header?: HeaderOptions;
}

/** splice_insert() in program mode (or component mode with `components`). */
export function spliceInsert(opts: SpliceInsertOptions): ClearSpliceInfoSectionInput {
  let cmd: SpliceInsert;
  if (opts.cancel) {
    cmd = { spliceEventId: opts.spliceEventId, spliceEventCancelIndicator: true };
  } else {
    const program = opts.components === undefined;
    const immediate = program ? opts.ptsTime === undefined : opts.components!.every((c) => c.ptsTime === undefined);
    cmd = {
      spliceEventId: opts.spliceEventId,
      spliceEventCancelIndicator: false,
      outOfNetworkIndicator: opts.outOfNetworkIndicator ?? true,
      programSpliceFlag: program,
      durationFlag: opts.breakDuration !== undefined,
      spliceImmediateFlag: immediate,
      eventIdComplianceFlag: opts.eventIdComplianceFlag ?? true,
    };
    if (program && !immediate) cmd.spliceTime = { timeSpecifiedFlag: true, ptsTime: opts.ptsTime! };
    if (!program) {
      cmd.components = opts.components!.map((c): SpliceInsertComponent =>
        immediate
          ? { componentTag: c.componentTag }
          : {
              componentTag: c.componentTag,
              spliceTime: c.ptsTime === undefined ? { timeSpecifiedFlag: false } : { timeSpecifiedFlag: true, ptsTime: c.ptsTime },
            },
      );
    }
    if (opts.breakDuration !== undefined) {
      cmd.breakDuration = { autoReturn: opts.autoReturn ?? true, duration: opts.breakDuration };
    }
    cmd.uniqueProgramId = opts.uniqueProgramId ?? 0;
    cmd.availNum = opts.availNum ?? 0;
    cmd.availsExpected = opts.availsExpected ?? 0;
  }
  return { ...header(opts.header), spliceCommandType: SPLICE_INSERT, spliceCommand: cmd, descriptors: opts.descriptors ?? [] };
}

export interface SegmentationOptions {
  segmentationEventId: number;
  /** e.g. 0x34 Provider Placement Opportunity Start. Required unless cancel. */
  segmentationTypeId?: number;
  cancel?: boolean;
  /** 40-bit, 90 kHz; absent = segmentation_duration_flag 0. */
  segmentationDuration?: number;
  /** Default: no UPID (type 0x00). `upid` is hex, or a MID list for type 0x0D. */
  upidType?: number;
  upid?: string | MidUpidEntry[];
  segmentNum?: number;
  segmentsExpected?: number;
  subSegmentNum?: number;
  subSegmentsExpected?: number;
  /** Absent = delivery not restricted. */
  restrictions?: {
    webDeliveryAllowed: boolean;
    noRegionalBlackout: boolean;
    archiveAllowed: boolean;
    /** 0..2 = restrict to group 0/1/2, 3 = none. */
    deviceRestrictions: number;
  };
  /** Component mode (program_segmentation_flag 0). */
  components?: SegmentationComponent[];
  /** Default true (see the module comment). */
  segmentationEventIdComplianceIndicator?: boolean;
}

/** segmentation_descriptor() with defaults: program mode, unrestricted, no UPID, 0/0. */
export function segmentationDescriptor(opts: SegmentationOptions): SegmentationDescriptor {
  const d: SegmentationDescriptor = {
    spliceDescriptorTag: SEGMENTATION_DESCRIPTOR,
    identifier: "CUEI",
    segmentationEventId: opts.segmentationEventId,
    segmentationEventCancelIndicator: opts.cancel ?? false,
    segmentationEventIdComplianceIndicator: opts.segmentationEventIdComplianceIndicator ?? true,
  };
  if (opts.cancel) return d;
  d.programSegmentationFlag = opts.components === undefined;
  d.segmentationDurationFlag = opts.segmentationDuration !== undefined;
  d.deliveryNotRestrictedFlag = opts.restrictions === undefined;
  if (opts.restrictions) {
    d.webDeliveryAllowedFlag = opts.restrictions.webDeliveryAllowed;
    d.noRegionalBlackoutFlag = opts.restrictions.noRegionalBlackout;
    d.archiveAllowedFlag = opts.restrictions.archiveAllowed;
    d.deviceRestrictions = opts.restrictions.deviceRestrictions;
  }
  if (opts.components) d.components = opts.components.map((c) => ({ ...c }));
  if (opts.segmentationDuration !== undefined) d.segmentationDuration = opts.segmentationDuration;
  d.segmentationUpidType = opts.upidType ?? 0x00;
  d.segmentationUpid = opts.upid ?? "";
  d.segmentationTypeId = opts.segmentationTypeId ?? 0x00;
  d.segmentNum = opts.segmentNum ?? 0;
  d.segmentsExpected = opts.segmentsExpected ?? 0;
  if (opts.subSegmentNum !== undefined || opts.subSegmentsExpected !== undefined) {
    d.subSegmentNum = opts.subSegmentNum ?? 0;
    d.subSegmentsExpected = opts.subSegmentsExpected ?? 0;
  }
  return d;
}

/** avail_descriptor(). */
export function availDescriptor(providerAvailId: number): AvailDescriptor {
  return { spliceDescriptorTag: AVAIL_DESCRIPTOR, identifier: "CUEI", providerAvailId };
}
