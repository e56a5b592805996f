/**
 * Validates a splice_info_section given as JSON (or built in code) and returns a fresh,
 * normalized copy that the encoder trusts. Every problem is ONAIR_SCTE35_BAD_FIELD with the
 * field path, e.g. `spliceCommand.spliceTime.ptsTime: must be an integer 0..8589934591`.
 *
 * Rules: unknown keys are refused (a typo in a cue must not be dropped silently); fields the
 * flags say are absent must be absent; the computed fields (lengths, CRC) and the readable
 * `segmentationUpidText` are accepted and ignored.
 */
import { OnairError } from "../core/errors.js";
import { PTS_MODULUS } from "../ts/timestamps.js";
import { identifierFromString, isHex } from "./bytes.js";
import { SUB_SEGMENT_TYPES } from "./splice-descriptors.js";
import { UPID_MID, upidLengthProblem } from "./upid.js";
import type {
  BreakDuration,
  ClearSpliceInfoSectionInput,
  EncryptedSpliceInfoSectionInput,
  MidUpidEntry,
  SectionHeader,
  SegmentationComponent,
  SegmentationDescriptor,
  SpliceCommandPart,
  SpliceDescriptor,
  SpliceInfoSectionInput,
  SpliceInsert,
  SpliceSchedule,
  SpliceScheduleEvent,
  SpliceTime,
} from "./types.js";

type Obj = Record<string, unknown>;

const MAX33 = PTS_MODULUS - 1;
const MAX40 = 2 ** 40 - 1;
const MAX48 = 2 ** 48 - 1;

function bad(path: string, message: string, value?: unknown): never {
  throw new OnairError("ONAIR_SCTE35_BAD_FIELD", `${path}: ${message}`, { path, value });
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(path || "section", "must be an object", v);
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) bad(path, "must be an array", v);
  return v;
}

/** Refuses keys outside `allowed` (computed / readable-only keys are listed by callers). */
function keys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (o[k] === undefined) continue;
    if (!allowed.includes(k)) bad(join(path, k), "unexpected field here");
  }
}

function uint(o: Obj, key: string, path: string, max: number): number {
  const p = join(path, key);
  const v = o[key];
  if (v === undefined) bad(p, "required");
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) bad(p, `must be an integer 0..${max}`, v);
  return v;
}

function bool(o: Obj, key: string, path: string): boolean {
  const p = join(path, key);
  const v = o[key];
  if (v === undefined) bad(p, "required");
  if (typeof v !== "boolean") bad(p, "must be true or false", v);
  return v;
}

function hex(o: Obj, key: string, path: string): string {
  const p = join(path, key);
  const v = o[key];
  if (v === undefined) bad(p, "required");
  if (typeof v !== "string" || !isHex(v)) bad(p, "must be a hex string with an even number of digits (no 0x)", v);
  return v.toLowerCase();
}

function optHex(o: Obj, key: string, path: string): string | undefined {
  if (o[key] === undefined) return undefined;
  const h = hex(o, key, path);
  return h.length > 0 ? h : undefined;
}

function identifier(o: Obj, key: string, path: string): string {
  const p = join(path, key);
  const v = o[key];
  if (v === undefined) bad(p, "required");
  if (typeof v !== "string" || identifierFromString(v) === undefined) {
    bad(p, 'must be 4 printable ASCII characters or "0x" + 8 hex digits', v);
  }
  return v;
}

/** Copies `trailingBytes` when given (decoded from an over-long command or descriptor). */
function withTrailing<T extends object>(out: T, o: Obj, path: string): T & { trailingBytes?: string } {
  const t = optHex(o, "trailingBytes", path);
  return t === undefined ? out : { ...out, trailingBytes: t };
}

function spliceTime(v: unknown, path: string): SpliceTime {
  const o = obj(v, path);
  const timeSpecifiedFlag = bool(o, "timeSpecifiedFlag", path);
  keys(o, path, timeSpecifiedFlag ? ["timeSpecifiedFlag", "ptsTime"] : ["timeSpecifiedFlag"]);
  if (!timeSpecifiedFlag) return { timeSpecifiedFlag };
  return { timeSpecifiedFlag, ptsTime: uint(o, "ptsTime", path, MAX33) };
}

function breakDuration(v: unknown, path: string): BreakDuration {
  const o = obj(v, path);
  keys(o, path, ["autoReturn", "duration"]);
  return { autoReturn: bool(o, "autoReturn", path), duration: uint(o, "duration", path, MAX33) };
}

function spliceInsert(o: Obj, path: string): SpliceInsert {
  const spliceEventId = uint(o, "spliceEventId", path, 0xffffffff);
  const spliceEventCancelIndicator = bool(o, "spliceEventCancelIndicator", path);
  if (spliceEventCancelIndicator) {
    keys(o, path, ["spliceEventId", "spliceEventCancelIndicator", "trailingBytes"]);
    return withTrailing({ spliceEventId, spliceEventCancelIndicator }, o, path);
  }
  const programSpliceFlag = bool(o, "programSpliceFlag", path);
  const durationFlag = bool(o, "durationFlag", path);
  const spliceImmediateFlag = bool(o, "spliceImmediateFlag", path);
  const allowed = [
    "spliceEventId",
    "spliceEventCancelIndicator",
    "outOfNetworkIndicator",
    "programSpliceFlag",
    "durationFlag",
    "spliceImmediateFlag",
    "eventIdComplianceFlag",
    "uniqueProgramId",
    "availNum",
    "availsExpected",
    "trailingBytes",
  ];
  if (programSpliceFlag && !spliceImmediateFlag) allowed.push("spliceTime");
  if (!programSpliceFlag) allowed.push("components");
  if (durationFlag) allowed.push("breakDuration");
  keys(o, path, allowed);
  const out: SpliceInsert = {
    spliceEventId,
    spliceEventCancelIndicator,
    outOfNetworkIndicator: bool(o, "outOfNetworkIndicator", path),
    programSpliceFlag,
    durationFlag,
    spliceImmediateFlag,
    eventIdComplianceFlag: bool(o, "eventIdComplianceFlag", path),
  };
  if (programSpliceFlag && !spliceImmediateFlag) {
    out.spliceTime = spliceTime(o.spliceTime ?? bad(join(path, "spliceTime"), "required"), join(path, "spliceTime"));
  }
  if (!programSpliceFlag) {
    const cp = join(path, "components");
    const list = arr(o.components ?? bad(cp, "required"), cp);
    if (list.length > 255) bad(cp, "at most 255 components");
    out.components = list.map((c, i) => {
      const p = join(cp, i);
      const co = obj(c, p);
      keys(co, p, spliceImmediateFlag ? ["componentTag"] : ["componentTag", "spliceTime"]);
      const componentTag = uint(co, "componentTag", p, 0xff);
      if (spliceImmediateFlag) return { componentTag };
      return {
        componentTag,
        spliceTime: spliceTime(co.spliceTime ?? bad(join(p, "spliceTime"), "required"), join(p, "spliceTime")),
      };
    });
  }
  breakAndAvail(o, path, durationFlag, out);
  return withTrailing(out, o, path);
}

function scheduleEvent(v: unknown, path: string): SpliceScheduleEvent {
  const o = obj(v, path);
  const spliceEventId = uint(o, "spliceEventId", path, 0xffffffff);
  const spliceEventCancelIndicator = bool(o, "spliceEventCancelIndicator", path);
  const eventIdComplianceFlag = bool(o, "eventIdComplianceFlag", path);
  if (spliceEventCancelIndicator) {
    keys(o, path, ["spliceEventId", "spliceEventCancelIndicator", "eventIdComplianceFlag"]);
    return { spliceEventId, spliceEventCancelIndicator, eventIdComplianceFlag };
  }
  const programSpliceFlag = bool(o, "programSpliceFlag", path);
  const durationFlag = bool(o, "durationFlag", path);
  const allowed = [
    "spliceEventId",
    "spliceEventCancelIndicator",
    "eventIdComplianceFlag",
    "outOfNetworkIndicator",
    "programSpliceFlag",
    "durationFlag",
    "uniqueProgramId",
    "availNum",
    "availsExpected",
    programSpliceFlag ? "utcSpliceTime" : "components",
  ];
  if (durationFlag) allowed.push("breakDuration");
  keys(o, path, allowed);
  const ev: SpliceScheduleEvent = {
    spliceEventId,
    spliceEventCancelIndicator,
    eventIdComplianceFlag,
    outOfNetworkIndicator: bool(o, "outOfNetworkIndicator", path),
    programSpliceFlag,
    durationFlag,
  };
  if (programSpliceFlag) {
    ev.utcSpliceTime = uint(o, "utcSpliceTime", path, 0xffffffff);
  } else {
    const cp = join(path, "components");
    const list = arr(o.components ?? bad(cp, "required"), cp);
    if (list.length > 255) bad(cp, "at most 255 components");
    ev.components = list.map((c, i) => {
      const p = join(cp, i);
      const co = obj(c, p);
      keys(co, p, ["componentTag", "utcSpliceTime"]);
      return { componentTag: uint(co, "componentTag", p, 0xff), utcSpliceTime: uint(co, "utcSpliceTime", p, 0xffffffff) };
    });
  }
  breakAndAvail(o, path, durationFlag, ev);
  return ev;
}

/** The tail splice_insert and a splice_schedule event share: breakDuration (iff durationFlag), uniqueProgramId, availNum, availsExpected. */
function breakAndAvail(
  o: Obj,
  path: string,
  durationFlag: boolean,
  into: { breakDuration?: BreakDuration; uniqueProgramId?: number; availNum?: number; availsExpected?: number },
): void {
  if (durationFlag) {
    into.breakDuration = breakDuration(
      o.breakDuration ?? bad(join(path, "breakDuration"), "required when durationFlag is true"),
      join(path, "breakDuration"),
    );
  }
  into.uniqueProgramId = uint(o, "uniqueProgramId", path, 0xffff);
  into.availNum = uint(o, "availNum", path, 0xff);
  into.availsExpected = uint(o, "availsExpected", path, 0xff);
}

function spliceSchedule(o: Obj, path: string): SpliceSchedule {
  keys(o, path, ["events", "trailingBytes"]);
  const ep = join(path, "events");
  const list = arr(o.events ?? bad(ep, "required"), ep);
  if (list.length > 255) bad(ep, "at most 255 events (splice_count is 8 bits)");
  return withTrailing({ events: list.map((e, i) => scheduleEvent(e, join(ep, i))) }, o, path);
}

function command(type: number, v: unknown, path: string): SpliceCommandPart {
  const o = obj(v ?? bad(path, "required"), path);
  switch (type) {
    case 0x00:
    case 0x07:
      keys(o, path, ["trailingBytes"]);
      return { spliceCommandType: type, spliceCommand: withTrailing({}, o, path) };
    case 0x04:
      return { spliceCommandType: 0x04, spliceCommand: spliceSchedule(o, path) };
    case 0x05:
      return { spliceCommandType: 0x05, spliceCommand: spliceInsert(o, path) };
    case 0x06: {
      keys(o, path, ["spliceTime", "trailingBytes"]);
      const st = spliceTime(o.spliceTime ?? bad(join(path, "spliceTime"), "required"), join(path, "spliceTime"));
      return { spliceCommandType: 0x06, spliceCommand: withTrailing({ spliceTime: st }, o, path) };
    }
    case 0xff:
      keys(o, path, ["identifier", "privateBytes"]);
      return {
        spliceCommandType: 0xff,
        spliceCommand: { identifier: identifier(o, "identifier", path), privateBytes: hex(o, "privateBytes", path) },
      };
    default:
      keys(o, path, ["raw"]);
      return { spliceCommandType: type, spliceCommand: { raw: hex(o, "raw", path) } } as SpliceCommandPart;
  }
}

function midList(v: unknown[], path: string): MidUpidEntry[] {
  return v.map((e, i) => {
    const p = join(path, i);
    const o = obj(e, p);
    keys(o, p, ["segmentationUpidType", "segmentationUpid", "segmentationUpidText"]);
    const segmentationUpidType = uint(o, "segmentationUpidType", p, 0xff);
    const segmentationUpid = hex(o, "segmentationUpid", p);
    const problem = upidLengthProblem(segmentationUpidType, segmentationUpid.length / 2);
    if (problem) bad(join(p, "segmentationUpid"), problem, segmentationUpid);
    return { segmentationUpidType, segmentationUpid };
  });
}

function segmentationComponents(o: Obj, path: string): SegmentationComponent[] {
  const cp = join(path, "components");
  const list = arr(o.components ?? bad(cp, "required when programSegmentationFlag is false"), cp);
  if (list.length > 255) bad(cp, "at most 255 components");
  return list.map((c, i) => {
    const p = join(cp, i);
    const co = obj(c, p);
    keys(co, p, ["componentTag", "ptsOffset"]);
    return { componentTag: uint(co, "componentTag", p, 0xff), ptsOffset: uint(co, "ptsOffset", p, MAX33) };
  });
}

/** segmentation_upid: hex checked against its type's length, or a MID list (type 13). */
function segmentationUpid(o: Obj, path: string, upidType: number): string | MidUpidEntry[] {
  const up = join(path, "segmentationUpid");
  const raw = o.segmentationUpid;
  if (raw === undefined) bad(up, 'required (use "" with segmentationUpidType 0)');
  if (Array.isArray(raw)) {
    if (upidType !== UPID_MID) bad(up, "a list is only for segmentationUpidType 13 (MID)");
    const list = midList(raw, up);
    const total = list.reduce((n, e) => n + 2 + e.segmentationUpid.length / 2, 0);
    if (total > 255) bad(up, `MID UPID is ${total} bytes, at most 255 fit segmentation_upid_length`);
    return list;
  }
  const h = hex(o, "segmentationUpid", path);
  const problem = upidLengthProblem(upidType, h.length / 2);
  if (problem) bad(up, problem, h);
  return h;
}

function segmentation(o: Obj, path: string): SegmentationDescriptor {
  const segmentationEventId = uint(o, "segmentationEventId", path, 0xffffffff);
  const segmentationEventCancelIndicator = bool(o, "segmentationEventCancelIndicator", path);
  const segmentationEventIdComplianceIndicator = bool(o, "segmentationEventIdComplianceIndicator", path);
  const base = ["spliceDescriptorTag", "identifier", "segmentationEventId", "segmentationEventCancelIndicator"];
  base.push("segmentationEventIdComplianceIndicator", "trailingBytes");
  const d: SegmentationDescriptor = {
    spliceDescriptorTag: 0x02,
    identifier: "CUEI",
    segmentationEventId,
    segmentationEventCancelIndicator,
    segmentationEventIdComplianceIndicator,
  };
  if (segmentationEventCancelIndicator) {
    keys(o, path, base);
    return withTrailing(d, o, path);
  }
  const programSegmentationFlag = bool(o, "programSegmentationFlag", path);
  const segmentationDurationFlag = bool(o, "segmentationDurationFlag", path);
  const deliveryNotRestrictedFlag = bool(o, "deliveryNotRestrictedFlag", path);
  const allowed = [
    ...base,
    "programSegmentationFlag",
    "segmentationDurationFlag",
    "deliveryNotRestrictedFlag",
    "segmentationUpidType",
    "segmentationUpid",
    "segmentationUpidText",
    "segmentationTypeId",
    "segmentNum",
    "segmentsExpected",
    "subSegmentNum",
    "subSegmentsExpected",
  ];
  if (!deliveryNotRestrictedFlag) {
    allowed.push("webDeliveryAllowedFlag", "noRegionalBlackoutFlag", "archiveAllowedFlag", "deviceRestrictions");
  }
  if (!programSegmentationFlag) allowed.push("components");
  if (segmentationDurationFlag) allowed.push("segmentationDuration");
  keys(o, path, allowed);
  d.programSegmentationFlag = programSegmentationFlag;
  d.segmentationDurationFlag = segmentationDurationFlag;
  d.deliveryNotRestrictedFlag = deliveryNotRestrictedFlag;
  if (!deliveryNotRestrictedFlag) {
    d.webDeliveryAllowedFlag = bool(o, "webDeliveryAllowedFlag", path);
    d.noRegionalBlackoutFlag = bool(o, "noRegionalBlackoutFlag", path);
    d.archiveAllowedFlag = bool(o, "archiveAllowedFlag", path);
    d.deviceRestrictions = uint(o, "deviceRestrictions", path, 3);
  }
  if (!programSegmentationFlag) d.components = segmentationComponents(o, path);
  if (segmentationDurationFlag) d.segmentationDuration = uint(o, "segmentationDuration", path, MAX40);
  const upidType = uint(o, "segmentationUpidType", path, 0xff);
  d.segmentationUpidType = upidType;
  d.segmentationUpid = segmentationUpid(o, path, upidType);
  const typeId = uint(o, "segmentationTypeId", path, 0xff);
  d.segmentationTypeId = typeId;
  d.segmentNum = uint(o, "segmentNum", path, 0xff);
  d.segmentsExpected = uint(o, "segmentsExpected", path, 0xff);
  const hasSub = o.subSegmentNum !== undefined || o.subSegmentsExpected !== undefined;
  if (hasSub) {
    if (!SUB_SEGMENT_TYPES.has(typeId)) {
      bad(join(path, "subSegmentNum"), "sub-segments exist only for segmentationTypeId 0x30, 0x32, 0x34, 0x36, 0x38, 0x3A, 0x44, 0x46");
    }
    d.subSegmentNum = uint(o, "subSegmentNum", path, 0xff);
    d.subSegmentsExpected = uint(o, "subSegmentsExpected", path, 0xff);
  }
  return withTrailing(d, o, path);
}

function descriptor(v: unknown, path: string): SpliceDescriptor {
  const o = obj(v, path);
  const tag = uint(o, "spliceDescriptorTag", path, 0xff);
  const id = identifier(o, "identifier", path);
  if (o.raw !== undefined) {
    keys(o, path, ["spliceDescriptorTag", "identifier", "raw"]);
    return { spliceDescriptorTag: tag, identifier: id, raw: hex(o, "raw", path) };
  }
  if (id !== "CUEI" || tag > 0x03) {
    bad(join(path, "raw"), "required for a descriptor other than CUEI tags 0..3");
  }
  switch (tag) {
    case 0x00:
      keys(o, path, ["spliceDescriptorTag", "identifier", "providerAvailId", "trailingBytes"]);
      return withTrailing(
        { spliceDescriptorTag: 0x00, identifier: "CUEI", providerAvailId: uint(o, "providerAvailId", path, 0xffffffff) },
        o,
        path,
      );
    case 0x01: {
      keys(o, path, ["spliceDescriptorTag", "identifier", "preroll", "dtmfChars", "trailingBytes"]);
      const preroll = uint(o, "preroll", path, 0xff);
      const chars = o.dtmfChars;
      const cp = join(path, "dtmfChars");
      if (chars === undefined) bad(cp, "required");
      if (typeof chars !== "string" || chars.length > 7 || [...chars].some((c) => c.charCodeAt(0) > 0xff)) {
        bad(cp, "must be a string of at most 7 characters ('0'-'9', '*', '#')", chars);
      }
      return withTrailing({ spliceDescriptorTag: 0x01, identifier: "CUEI", preroll, dtmfChars: chars }, o, path);
    }
    case 0x02:
      return segmentation(o, path);
    default:
      keys(o, path, ["spliceDescriptorTag", "identifier", "taiSeconds", "taiNs", "utcOffset", "trailingBytes"]);
      return withTrailing(
        {
          spliceDescriptorTag: 0x03,
          identifier: "CUEI",
          taiSeconds: uint(o, "taiSeconds", path, MAX48),
          taiNs: uint(o, "taiNs", path, 0xffffffff),
          utcOffset: uint(o, "utcOffset", path, 0xffff),
        },
        o,
        path,
      );
  }
}

const HEADER_KEYS = [
  "tableId",
  "sectionSyntaxIndicator",
  "privateIndicator",
  "sapType",
  "protocolVersion",
  "encryptedPacket",
  "encryptionAlgorithm",
  "ptsAdjustment",
  "cwIndex",
  "tier",
];

function header(o: Obj): SectionHeader {
  if (o.tableId !== 0xfc) bad("tableId", "must be 252 (0xfc)", o.tableId);
  return {
    tableId: 0xfc,
    sectionSyntaxIndicator: bool(o, "sectionSyntaxIndicator", ""),
    privateIndicator: bool(o, "privateIndicator", ""),
    sapType: uint(o, "sapType", "", 3),
    protocolVersion: uint(o, "protocolVersion", "", 0xff),
    encryptionAlgorithm: uint(o, "encryptionAlgorithm", "", 0x3f),
    ptsAdjustment: uint(o, "ptsAdjustment", "", MAX33),
    cwIndex: uint(o, "cwIndex", "", 0xff),
    tier: uint(o, "tier", "", 0xfff),
  };
}

/**
 * Checks a section given as JSON (or an object built in code) and returns a normalized copy.
 * Throws ONAIR_SCTE35_BAD_FIELD naming the field path.
 */
export function validateSpliceInfoSection(value: unknown): SpliceInfoSectionInput {
  const o = obj(value, "");
  const h = header(o);
  const encryptedPacket = bool(o, "encryptedPacket", "");
  if (encryptedPacket) {
    keys(o, "", [...HEADER_KEYS, "spliceCommandLength", "encryptedData", "eCrc32", "sectionLength", "crc32"]);
    const e = o.eCrc32;
    if (typeof e !== "string" || !/^0x[0-9a-fA-F]{8}$/.test(e)) bad("eCrc32", 'must be "0x" + 8 hex digits', e);
    const enc: EncryptedSpliceInfoSectionInput = {
      ...h,
      encryptedPacket: true,
      spliceCommandLength: uint(o, "spliceCommandLength", "", 0xfff),
      encryptedData: hex(o, "encryptedData", ""),
      eCrc32: e.toLowerCase(),
    };
    return enc;
  }
  keys(o, "", [
    ...HEADER_KEYS,
    "spliceCommandType",
    "spliceCommand",
    "descriptors",
    "legacySpliceCommandLength",
    "alignmentStuffing",
    "sectionLength",
    "spliceCommandLength",
    "descriptorLoopLength",
    "crc32",
  ]);
  const type = uint(o, "spliceCommandType", "", 0xff);
  const cmd = command(type, o.spliceCommand, "spliceCommand");
  const list = arr(o.descriptors ?? bad("descriptors", "required (use [] for none)"), "descriptors");
  const descriptors = list.map((d, i) => descriptor(d, join("descriptors", i)));
  const legacy = o.legacySpliceCommandLength;
  if (legacy !== undefined && legacy !== true && legacy !== false) {
    bad("legacySpliceCommandLength", "must be true or false", legacy);
  }
  if (legacy === true && (type === 0xff || ![0x00, 0x04, 0x05, 0x06, 0x07].includes(type))) {
    bad("legacySpliceCommandLength", "only commands that delimit themselves can use splice_command_length 0xFFF");
  }
  if (legacy === true && (cmd.spliceCommand as { trailingBytes?: string }).trailingBytes !== undefined) {
    bad("spliceCommand.trailingBytes", "cannot be carried with splice_command_length 0xFFF");
  }
  const stuffing = optHex(o, "alignmentStuffing", "");
  const out: ClearSpliceInfoSectionInput = {
    ...h,
    encryptedPacket: false,
    ...cmd,
    descriptors,
    ...(legacy === true ? { legacySpliceCommandLength: true as const } : {}),
    ...(stuffing !== undefined ? { alignmentStuffing: stuffing } : {}),
  };
  return out;
}

/** Parses JSON text (e.g. stdin) into a validated section input. */
export function parseSpliceInfoSectionJson(text: string): SpliceInfoSectionInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new OnairError("ONAIR_SCTE35_BAD_INPUT", `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return validateSpliceInfoSection(value);
}
