/**
 * splice_command() codecs (SCTE 35 §9.7): splice_null, splice_schedule, splice_insert,
 * time_signal, bandwidth_reservation, private_command, each encoder beside its decoder as
 * mirrors over the field reader/writer. The decoders keep every non-reserved bit (and bytes
 * the length covers but the syntax does not use, as `trailingBytes`); the encoders write
 * reserved bits as 1.
 */
import { OnairError } from "../core/errors.js";
import { Reader, Writer, hexToBytes, identifierFromString, identifierToString, toHex } from "./bytes.js";
import {
  BANDWIDTH_RESERVATION,
  PRIVATE_COMMAND,
  SPLICE_INSERT,
  SPLICE_NULL,
  SPLICE_SCHEDULE,
  TIME_SIGNAL,
  type BreakDuration,
  type SpliceCommandPart,
  type SpliceInsert,
  type SpliceSchedule,
  type SpliceScheduleEvent,
  type SpliceTime,
  type TimeSignal,
} from "./types.js";

export function bit(b: boolean | undefined, mask: number): number {
  return b ? mask : 0;
}

export function encodeSpliceTime(w: Writer, t: SpliceTime): void {
  if (!t.timeSpecifiedFlag) {
    w.u8(0x7f);
    return;
  }
  w.flags33(0xfe, t.ptsTime ?? 0);
}

export function decodeSpliceTime(r: Reader, field: string): SpliceTime {
  r.need(1, field);
  if ((r.bytes[r.pos] & 0x80) === 0) {
    r.pos += 1;
    return { timeSpecifiedFlag: false };
  }
  const [, ptsTime] = r.flags33(`${field}.pts_time`);
  return { timeSpecifiedFlag: true, ptsTime };
}

function encodeBreakDuration(w: Writer, b: BreakDuration): void {
  w.flags33(bit(b.autoReturn, 0x80) | 0x7e, b.duration);
}

function decodeBreakDuration(r: Reader): BreakDuration {
  const [first, duration] = r.flags33("break_duration");
  return { autoReturn: (first & 0x80) !== 0, duration };
}

/** The tail that splice_insert and a splice_schedule event share (SCTE 35 §9.7.3, §9.7.2). */
interface BreakAndAvail {
  durationFlag?: boolean;
  breakDuration?: BreakDuration;
  uniqueProgramId?: number;
  availNum?: number;
  availsExpected?: number;
}

/** break_duration() when duration_flag, then unique_program_id, avail_num, avails_expected. */
function encodeBreakAndAvail(w: Writer, e: BreakAndAvail): void {
  if (e.durationFlag && e.breakDuration) encodeBreakDuration(w, e.breakDuration);
  w.u16(e.uniqueProgramId ?? 0);
  w.u8(e.availNum ?? 0);
  w.u8(e.availsExpected ?? 0);
}

/** The mirror of encodeBreakAndAvail, onto `e` (whose durationFlag is already read). */
function decodeBreakAndAvail(r: Reader, e: BreakAndAvail): void {
  if (e.durationFlag) e.breakDuration = decodeBreakDuration(r);
  e.uniqueProgramId = r.u16("unique_program_id");
  e.availNum = r.u8("avail_num");
  e.availsExpected = r.u8("avails_expected");
}

export function encodeTrailing(w: Writer, t: { trailingBytes?: string }): void {
  if (t.trailingBytes) w.bytes(hexToBytes(t.trailingBytes));
}

/** Keeps bytes the length field covers but the syntax does not use. */
export function decodeTrailing<T extends object>(obj: T, r: Reader): T {
  if (r.left > 0) (obj as { trailingBytes?: string }).trailingBytes = toHex(r.rest());
  return obj;
}

function encodeSpliceInsert(w: Writer, c: SpliceInsert): void {
  w.u32(c.spliceEventId);
  if (c.spliceEventCancelIndicator) {
    w.u8(0xff);
    encodeTrailing(w, c);
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
    if (!c.spliceImmediateFlag && c.spliceTime) encodeSpliceTime(w, c.spliceTime);
  } else {
    const comps = c.components ?? [];
    w.u8(comps.length);
    for (const comp of comps) {
      w.u8(comp.componentTag);
      if (!c.spliceImmediateFlag && comp.spliceTime) encodeSpliceTime(w, comp.spliceTime);
    }
  }
  encodeBreakAndAvail(w, c);
  encodeTrailing(w, c);
}

function decodeSpliceInsert(r: Reader): SpliceInsert {
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
    if (!cmd.spliceImmediateFlag) cmd.spliceTime = decodeSpliceTime(r, "splice_time");
  } else {
    const count = r.u8("component_count");
    cmd.components = [];
    for (let i = 0; i < count; i++) {
      const componentTag = r.u8("component_tag");
      cmd.components.push(cmd.spliceImmediateFlag ? { componentTag } : { componentTag, spliceTime: decodeSpliceTime(r, "splice_time") });
    }
  }
  decodeBreakAndAvail(r, cmd);
  return cmd;
}

function encodeSpliceSchedule(w: Writer, c: SpliceSchedule): void {
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
    encodeBreakAndAvail(w, e);
  }
  encodeTrailing(w, c);
}

function decodeSpliceSchedule(r: Reader): SpliceSchedule {
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
      decodeBreakAndAvail(r, ev);
    }
    events.push(ev);
  }
  return { events };
}

export function encodeSpliceCommand(w: Writer, part: SpliceCommandPart): void {
  switch (part.spliceCommandType) {
    case SPLICE_NULL:
    case BANDWIDTH_RESERVATION:
      encodeTrailing(w, part.spliceCommand);
      return;
    case SPLICE_SCHEDULE:
      encodeSpliceSchedule(w, part.spliceCommand);
      return;
    case SPLICE_INSERT:
      encodeSpliceInsert(w, part.spliceCommand);
      return;
    case TIME_SIGNAL:
      encodeSpliceTime(w, part.spliceCommand.spliceTime);
      encodeTrailing(w, part.spliceCommand);
      return;
    case PRIVATE_COMMAND:
      w.u32(identifierFromString(part.spliceCommand.identifier) ?? 0);
      w.bytes(hexToBytes(part.spliceCommand.privateBytes));
      return;
    default:
      w.bytes(hexToBytes(part.spliceCommand.raw));
  }
}

/** Parses the command; `r` spans splice_command_length bytes (or the rest, for 0xFFF). */
export function decodeSpliceCommand(type: number, r: Reader, legacyLength: boolean): SpliceCommandPart {
  switch (type) {
    case SPLICE_NULL:
      return { spliceCommandType: SPLICE_NULL, spliceCommand: legacyLength ? {} : decodeTrailing({}, r) };
    case BANDWIDTH_RESERVATION:
      return { spliceCommandType: BANDWIDTH_RESERVATION, spliceCommand: legacyLength ? {} : decodeTrailing({}, r) };
    case SPLICE_SCHEDULE: {
      const c = decodeSpliceSchedule(r);
      return { spliceCommandType: SPLICE_SCHEDULE, spliceCommand: legacyLength ? c : decodeTrailing(c, r) };
    }
    case SPLICE_INSERT: {
      const c = decodeSpliceInsert(r);
      return { spliceCommandType: SPLICE_INSERT, spliceCommand: legacyLength ? c : decodeTrailing(c, r) };
    }
    case TIME_SIGNAL: {
      const c: TimeSignal = { spliceTime: decodeSpliceTime(r, "splice_time") };
      return { spliceCommandType: TIME_SIGNAL, spliceCommand: legacyLength ? c : decodeTrailing(c, r) };
    }
    case PRIVATE_COMMAND: {
      if (legacyLength) {
        throw new OnairError("ONAIR_SCTE35_BAD_FIELD", "private_command with splice_command_length 0xFFF (unknown) cannot be delimited", {
          field: "splice_command_length",
        });
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
