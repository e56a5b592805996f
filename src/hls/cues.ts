/**
 * What a splice_info_section on the SCTE-35 PID means for HLS cutting and ad markers
 * (domain §8, SCTE 35 §9.9, §10.3.3). Pure: bytes in, one action (or none) out.
 *
 * - splice_insert, out_of_network_indicator 1: a break starts at the splice PTS (or at the
 *   next IDR when splice_immediate_flag is set); with break_duration and auto_return it
 *   returns at splice + duration, otherwise at the in-cue.
 * - splice_insert, out_of_network_indicator 0: the return (in-cue) of that event.
 * - splice_event_cancel_indicator / segmentation_event_cancel_indicator: cancels a break
 *   that has not started yet.
 * - time_signal with a segmentation_descriptor: the ad types 0x22, 0x30, 0x32, 0x34, 0x36,
 *   0x44, 0x46 open a break (segmentation_duration as its duration, returning on its own
 *   like auto_return), type + 1 closes it. Other types are not breaks.
 * Splice times are (pts_time + pts_adjustment) mod 2^33. Encrypted sections, splice_null,
 * splice_schedule and the rest give no action.
 */
import { decodeSpliceInfoSection } from "../scte35/section.js";
import type { ClearSpliceInfoSection, SegmentationDescriptor, SpliceInfoSection } from "../scte35/types.js";
import { wrapPts } from "../ts/timestamps.js";

/** segmentation_type_id values that open a break; each is closed by its value + 1. */
export const BREAK_START_TYPES: ReadonlySet<number> = new Set([0x22, 0x30, 0x32, 0x34, 0x36, 0x44, 0x46]);

export const SPLICE_INSERT = 0x05;
export const TIME_SIGNAL = 0x06;

/** A splice time in the stream's PTS domain, or IMMEDIATE (the next IDR). */
export const IMMEDIATE = -1;

export interface CueAction {
  kind: "out" | "in" | "cancel";
  /** splice_event_id (splice_insert) or segmentation_event_id (time_signal), as "insert:ID" / "segment:ID" */
  eventKey: string;
  eventId: number;
  /** 90 kHz PTS of the splice point, or IMMEDIATE; unused for cancel */
  pts: number;
  /** break_duration / segmentation_duration in 90 kHz ticks (out only) */
  durationTicks?: number;
  /** the break returns by itself after durationTicks (auto_return, or a segmentation duration) */
  autoReturn: boolean;
  /** the splice_info_section exactly as carried in the TS */
  section: Uint8Array;
}

/** Interprets one splice_info_section; undefined when it is not a break cue or does not decode. */
export function cueAction(section: Uint8Array): CueAction | undefined {
  let s: SpliceInfoSection;
  try {
    s = decodeSpliceInfoSection(section);
  } catch {
    return undefined;
  }
  if (s.encryptedPacket) return undefined;
  if (s.spliceCommandType === SPLICE_INSERT) return fromSpliceInsert(s, section);
  if (s.spliceCommandType === TIME_SIGNAL) return fromTimeSignal(s, section);
  return undefined;
}

function splicePts(ptsTime: number | undefined, ptsAdjustment: number): number {
  return ptsTime === undefined ? IMMEDIATE : wrapPts(ptsTime + ptsAdjustment);
}

function fromSpliceInsert(s: ClearSpliceInfoSection & { spliceCommandType: 0x05 }, section: Uint8Array): CueAction | undefined {
  const c = s.spliceCommand;
  const base = { eventKey: `insert:${c.spliceEventId}`, eventId: c.spliceEventId, section };
  if (c.spliceEventCancelIndicator) return { ...base, kind: "cancel", pts: IMMEDIATE, autoReturn: false };
  // component mode: the first component's time is the default (domain §3.2)
  const time = c.spliceImmediateFlag ? undefined : (c.spliceTime ?? c.components?.[0]?.spliceTime);
  const pts = splicePts(time?.timeSpecifiedFlag ? time.ptsTime : undefined, s.ptsAdjustment);
  if (!c.outOfNetworkIndicator) return { ...base, kind: "in", pts, autoReturn: false };
  const d = c.breakDuration;
  return { ...base, kind: "out", pts, durationTicks: d?.duration, autoReturn: d?.autoReturn === true };
}

function fromTimeSignal(s: ClearSpliceInfoSection & { spliceCommandType: 0x06 }, section: Uint8Array): CueAction | undefined {
  const t = s.spliceCommand.spliceTime;
  const pts = splicePts(t.timeSpecifiedFlag ? t.ptsTime : undefined, s.ptsAdjustment);
  for (const d of s.descriptors) {
    if (d.spliceDescriptorTag !== 0x02 || d.identifier !== "CUEI") continue;
    const seg = d as SegmentationDescriptor;
    const base = { eventKey: `segment:${seg.segmentationEventId}`, eventId: seg.segmentationEventId, section };
    if (seg.segmentationEventCancelIndicator) return { ...base, kind: "cancel", pts: IMMEDIATE, autoReturn: false };
    const type = seg.segmentationTypeId ?? -1;
    const offset = seg.components?.[0]?.ptsOffset ?? 0;
    const at = pts === IMMEDIATE ? pts : wrapPts(pts + offset);
    if (BREAK_START_TYPES.has(type)) {
      const dur = seg.segmentationDurationFlag && seg.segmentationDuration ? seg.segmentationDuration : undefined;
      return { ...base, kind: "out", pts: at, durationTicks: dur, autoReturn: dur !== undefined };
    }
    if (BREAK_START_TYPES.has(type - 1)) return { ...base, kind: "in", pts: at, autoReturn: false };
  }
  return undefined;
}
