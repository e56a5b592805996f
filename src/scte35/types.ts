/**
 * The SCTE-35 splice_info_section as plain objects. These types ARE the JSON contract
 * (control API, injector logs, users' scripts): spec field names in camelCase, pts values
 * and durations as integers in 90 kHz ticks, byte strings as lowercase hex (no `0x`).
 *
 * A field that the bitstream does not carry (because a flag says so) is absent, never
 * `null`. Decoding prints the lengths and the CRC; encoding recomputes them.
 */

/** Lowercase hex without a prefix, e.g. `"2ca0a18a"`. Input accepts either case. */
export type Hex = string;

/** 0..255 as a union of literals, so reserved command types narrow away from known ones. */
type Enumerate<N extends number, Acc extends number[] = []> = Acc["length"] extends N ? Acc[number] : Enumerate<N, [...Acc, Acc["length"]]>;
export type Uint8Value = Enumerate<256>;

export const SPLICE_NULL = 0x00;
export const SPLICE_SCHEDULE = 0x04;
export const SPLICE_INSERT = 0x05;
export const TIME_SIGNAL = 0x06;
export const BANDWIDTH_RESERVATION = 0x07;
export const PRIVATE_COMMAND = 0xff;
export type KnownSpliceCommandType = 0x00 | 0x04 | 0x05 | 0x06 | 0x07 | 0xff;
export type ReservedSpliceCommandType = Exclude<Uint8Value, KnownSpliceCommandType>;

export const AVAIL_DESCRIPTOR = 0x00;
export const DTMF_DESCRIPTOR = 0x01;
export const SEGMENTATION_DESCRIPTOR = 0x02;
export const TIME_DESCRIPTOR = 0x03;

/** splice_time(): `ptsTime` present iff `timeSpecifiedFlag`. */
export interface SpliceTime {
  timeSpecifiedFlag: boolean;
  ptsTime?: number;
}

/** break_duration(). */
export interface BreakDuration {
  autoReturn: boolean;
  duration: number;
}

/**
 * Bytes that a length field says belong to a command or descriptor but that its syntax
 * does not use. Only present on decode of such sections; written back verbatim.
 */
interface Trailing {
  trailingBytes?: Hex;
}

// ---------------------------------------------------------------- commands

export type SpliceNull = Trailing;
export type BandwidthReservation = Trailing;

export interface TimeSignal extends Trailing {
  spliceTime: SpliceTime;
}

export interface SpliceInsertComponent {
  componentTag: number;
  /** Absent when spliceImmediateFlag. */
  spliceTime?: SpliceTime;
}

/**
 * splice_insert(). When `spliceEventCancelIndicator` is true only the id, the cancel
 * indicator and the reserved bits follow, so every other field is absent.
 */
export interface SpliceInsert extends Trailing {
  spliceEventId: number;
  spliceEventCancelIndicator: boolean;
  outOfNetworkIndicator?: boolean;
  programSpliceFlag?: boolean;
  durationFlag?: boolean;
  spliceImmediateFlag?: boolean;
  /** SCTE 35 2023: 0 = the id follows the uniqueness rules, 1 = no claim (old reserved bit). */
  eventIdComplianceFlag?: boolean;
  /** Program mode, not immediate. */
  spliceTime?: SpliceTime;
  /** Component mode (programSpliceFlag false). */
  components?: SpliceInsertComponent[];
  /** Present iff durationFlag. */
  breakDuration?: BreakDuration;
  uniqueProgramId?: number;
  availNum?: number;
  availsExpected?: number;
}

export interface SpliceScheduleComponent {
  componentTag: number;
  utcSpliceTime: number;
}

/** One event of splice_schedule(); `utcSpliceTime` is seconds since 1980-01-06 00:00 UTC. */
export interface SpliceScheduleEvent {
  spliceEventId: number;
  spliceEventCancelIndicator: boolean;
  /** The bit after the cancel indicator (2023 code reads event_id_compliance_flag there). */
  eventIdComplianceFlag: boolean;
  outOfNetworkIndicator?: boolean;
  programSpliceFlag?: boolean;
  durationFlag?: boolean;
  utcSpliceTime?: number;
  components?: SpliceScheduleComponent[];
  breakDuration?: BreakDuration;
  uniqueProgramId?: number;
  availNum?: number;
  availsExpected?: number;
}

export interface SpliceSchedule extends Trailing {
  events: SpliceScheduleEvent[];
}

/** private_command(): identifier is 4 printable ASCII chars (`"ABCD"`) or `"0x"` + 8 hex digits. */
export interface PrivateCommand {
  identifier: string;
  privateBytes: Hex;
}

/** A reserved splice_command_type: the command bytes kept as they are. */
export interface ReservedCommand {
  raw: Hex;
}

export type SpliceCommandPart =
  | { spliceCommandType: 0x00; spliceCommand: SpliceNull }
  | { spliceCommandType: 0x04; spliceCommand: SpliceSchedule }
  | { spliceCommandType: 0x05; spliceCommand: SpliceInsert }
  | { spliceCommandType: 0x06; spliceCommand: TimeSignal }
  | { spliceCommandType: 0x07; spliceCommand: BandwidthReservation }
  | { spliceCommandType: 0xff; spliceCommand: PrivateCommand }
  | { spliceCommandType: ReservedSpliceCommandType; spliceCommand: ReservedCommand };

// ---------------------------------------------------------------- descriptors

interface CueiDescriptor extends Trailing {
  identifier: "CUEI";
  /** Only unknown descriptors have `raw`; lets `d.raw === undefined` narrow. */
  raw?: undefined;
}

export interface AvailDescriptor extends CueiDescriptor {
  spliceDescriptorTag: 0x00;
  providerAvailId: number;
}

export interface DtmfDescriptor extends CueiDescriptor {
  spliceDescriptorTag: 0x01;
  /** Tenths of a second. */
  preroll: number;
  /** '0'-'9', '*', '#' (decode keeps any byte as a Latin-1 char); up to 7. */
  dtmfChars: string;
}

export interface TimeDescriptor extends CueiDescriptor {
  spliceDescriptorTag: 0x03;
  taiSeconds: number;
  taiNs: number;
  utcOffset: number;
}

/** One entry of a MID UPID (type 0x0D). */
export interface MidUpidEntry {
  segmentationUpidType: number;
  segmentationUpid: Hex;
  /** Readable form of text UPIDs; ignored on encode. */
  segmentationUpidText?: string;
}

export interface SegmentationComponent {
  componentTag: number;
  ptsOffset: number;
}

/**
 * segmentation_descriptor(). With `segmentationEventCancelIndicator` nothing after the
 * compliance indicator is present. The restriction flags are present iff
 * `deliveryNotRestrictedFlag` is false; `components` iff `programSegmentationFlag` is false;
 * the sub-segment pair iff the section carried it.
 */
export interface SegmentationDescriptor extends CueiDescriptor {
  spliceDescriptorTag: 0x02;
  segmentationEventId: number;
  segmentationEventCancelIndicator: boolean;
  /** SCTE 35 2023: 0 compliant, 1 legacy / no claim (old reserved bit). */
  segmentationEventIdComplianceIndicator: boolean;
  programSegmentationFlag?: boolean;
  segmentationDurationFlag?: boolean;
  deliveryNotRestrictedFlag?: boolean;
  webDeliveryAllowedFlag?: boolean;
  noRegionalBlackoutFlag?: boolean;
  archiveAllowedFlag?: boolean;
  deviceRestrictions?: number;
  components?: SegmentationComponent[];
  /** 40 bits, 90 kHz. */
  segmentationDuration?: number;
  segmentationUpidType?: number;
  /** Hex, or for MID (0x0D) the list of its UPIDs. */
  segmentationUpid?: Hex | MidUpidEntry[];
  /** Readable form of text UPIDs; ignored on encode. */
  segmentationUpidText?: string;
  segmentationTypeId?: number;
  segmentNum?: number;
  segmentsExpected?: number;
  subSegmentNum?: number;
  subSegmentsExpected?: number;
}

/** A descriptor with another tag or identifier: raw = hex of the bytes after the identifier. */
export interface UnknownDescriptor {
  spliceDescriptorTag: number;
  /** 4 printable ASCII chars, or `"0x"` + 8 hex digits. */
  identifier: string;
  raw: Hex;
}

export type SpliceDescriptor = AvailDescriptor | DtmfDescriptor | SegmentationDescriptor | TimeDescriptor | UnknownDescriptor;

export function isUnknownDescriptor(d: SpliceDescriptor): d is UnknownDescriptor {
  return d.raw !== undefined;
}

// ---------------------------------------------------------------- section

export interface SectionHeader {
  tableId: 0xfc;
  sectionSyntaxIndicator: boolean;
  privateIndicator: boolean;
  /** 0..3; 3 = unspecified (the old "reserved 11"). */
  sapType: number;
  protocolVersion: number;
  encryptionAlgorithm: number;
  ptsAdjustment: number;
  cwIndex: number;
  tier: number;
}

/** Printed on decode, ignored (recomputed) on encode. */
export interface ComputedFields {
  sectionLength: number;
  spliceCommandLength: number;
  descriptorLoopLength: number;
  /** `"0x"` + 8 lowercase hex digits. */
  crc32: string;
}

interface ClearExtras {
  descriptors: SpliceDescriptor[];
  /** The section said splice_command_length = 0xFFF (legacy "unknown"); re-encoded as such. */
  legacySpliceCommandLength?: true;
  /** Bytes between the descriptor loop and CRC_32 of a clear section (normally none). */
  alignmentStuffing?: Hex;
}

export type ClearSpliceInfoSection = SectionHeader & { encryptedPacket: false } & SpliceCommandPart & ClearExtras & ComputedFields;

/**
 * An encrypted section: the header is clear, everything from splice_command_type up to
 * E_CRC_32 is kept as `encryptedData` and written back unchanged. The command length
 * cannot be recomputed, so it is carried and used on encode.
 */
export interface EncryptedSpliceInfoSection extends SectionHeader {
  encryptedPacket: true;
  spliceCommandLength: number;
  encryptedData: Hex;
  /** `"0x"` + 8 hex digits. */
  eCrc32: string;
  sectionLength: number;
  crc32: string;
}

export type SpliceInfoSection = ClearSpliceInfoSection | EncryptedSpliceInfoSection;

/** What encode accepts: a decoded section with the computed fields optional (ignored). */
export type ClearSpliceInfoSectionInput = SectionHeader & { encryptedPacket: false } & SpliceCommandPart &
  ClearExtras &
  Partial<ComputedFields>;

export type EncryptedSpliceInfoSectionInput = Omit<EncryptedSpliceInfoSection, "sectionLength" | "crc32"> &
  Partial<Pick<EncryptedSpliceInfoSection, "sectionLength" | "crc32">>;

export type SpliceInfoSectionInput = ClearSpliceInfoSectionInput | EncryptedSpliceInfoSectionInput;
