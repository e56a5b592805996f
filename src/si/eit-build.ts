/**
 * EIT actual builders: present/following (table 0x4E) and schedule (0x50…0x5F), from a
 * service and its events at a given instant. Pure: the caller passes the time and the
 * previous state, and gets back sections plus the state for the next call.
 *
 * Versioning: sections are built with the previous version; if every section of a
 * sub-table matches the previous one apart from version and CRC, the previous
 * Uint8Arrays are returned as they were (same identity, so packets cached per section
 * stay valid); otherwise the sub-table gets version (v + 1) mod 32.
 */
import type { DvbTextOptions } from "./text.js";
import { encodeEventDescriptors, type SiEvent, type SiService } from "./event.js";
import {
  assembleEitSection,
  EIT_FIXED_BYTES,
  EIT_MAX_SECTION_BYTES,
  EIT_SECTIONS_PER_SEGMENT,
  EIT_SEGMENT_MS,
  EIT_SEGMENTS_PER_TABLE,
  encodeEventBytes,
  type EitSectionHeader,
  RunningStatus,
} from "./eit.js";
import { TABLE_ID_EIT_PF_ACTUAL, TABLE_ID_EIT_SCHEDULE_ACTUAL_FIRST } from "../ts/ids.js";
import { CRC_SIZE as CRC_BYTES, sameContent, setVersion } from "../ts/section.js";
import { OnairError } from "../core/errors.js";

const DAY_MS = 86_400_000;

export interface EitBuildOptions extends DvbTextOptions {
  /**
   * p/f: the following event gets running_status 2 ("starts in a few seconds") from this
   * many ms before its start, else 1 ("not running"). Default 30 000; 0 disables.
   */
  startsSoonMs?: number;
  /** Version of a sub-table built with no previous state. Default 0. */
  initialVersion?: number;
}

/** Default lead for running_status 2 on the following event. */
export const DEFAULT_STARTS_SOON_MS = 30_000;

/** State carried between p/f builds. */
export interface PfState {
  versionNumber: number;
  sections: readonly [Uint8Array, Uint8Array];
}

export interface PfResult {
  /** Section 0 (present) and section 1 (following). */
  sections: readonly [Uint8Array, Uint8Array];
  state: PfState;
  /** True if the content differs from `prev` (new version), or there was no `prev`. */
  changed: boolean;
  present: SiEvent | undefined;
  following: SiEvent | undefined;
  /**
   * The next instant (> now) at which the p/f content changes by time alone (present end,
   * following start, or following's running_status turning 2): rebuild then.
   */
  nextChangeMs: number | undefined;
}

function sortedByStart(events: readonly SiEvent[]): readonly SiEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (events[i].startMs < events[i - 1].startMs) return [...events].sort((a, b) => a.startMs - b.startMs);
  }
  return events;
}

function endMs(e: SiEvent): number {
  return e.startMs + e.durationSec * 1000;
}

/** The event on air at `nowMs` and the next one after it. */
export function findPresentFollowing(
  events: readonly SiEvent[],
  nowMs: number,
): { present: SiEvent | undefined; following: SiEvent | undefined } {
  const sorted = sortedByStart(events);
  let present: SiEvent | undefined;
  let following: SiEvent | undefined;
  for (const e of sorted) {
    if (e.startMs <= nowMs) {
      if (endMs(e) > nowMs) present = e;
    } else {
      following = e;
      break;
    }
  }
  return { present, following };
}

/**
 * EIT p/f actual: section 0 = the event on air at `nowMs` (running_status 4), section 1 =
 * the next event (running_status 1, or 2 within `startsSoonMs` of its start). Both
 * sections are always present; either may have an empty event loop.
 */
export function buildPresentFollowing(
  service: SiService,
  events: readonly SiEvent[],
  nowMs: number,
  prev?: PfState,
  opts?: EitBuildOptions,
): PfResult {
  const { present, following } = findPresentFollowing(events, nowMs);
  const soon = opts?.startsSoonMs ?? DEFAULT_STARTS_SOON_MS;
  const freeCa = service.freeCaMode ?? false;
  const version = prev ? prev.versionNumber : (opts?.initialVersion ?? 0);
  const header = {
    tableId: TABLE_ID_EIT_PF_ACTUAL,
    serviceId: service.serviceId,
    versionNumber: version,
    currentNextIndicator: true,
    lastSectionNumber: 1,
    transportStreamId: service.transportStreamId,
    originalNetworkId: service.originalNetworkId,
    segmentLastSectionNumber: 1,
    lastTableId: TABLE_ID_EIT_PF_ACTUAL,
  };
  const presentBytes = present
    ? [
        encodeEventBytes(
          present.eventId,
          present.startMs,
          present.durationSec,
          RunningStatus.running,
          freeCa,
          encodeEventDescriptors(present, opts),
        ),
      ]
    : [];
  const followingStatus =
    following && soon > 0 && following.startMs - nowMs <= soon ? RunningStatus.startsInAFewSeconds : RunningStatus.notRunning;
  const followingBytes = following
    ? [
        encodeEventBytes(
          following.eventId,
          following.startMs,
          following.durationSec,
          followingStatus,
          freeCa,
          encodeEventDescriptors(following, opts),
        ),
      ]
    : [];
  const s0 = assembleEitSection({ ...header, sectionNumber: 0 }, presentBytes);
  const s1 = assembleEitSection({ ...header, sectionNumber: 1 }, followingBytes);

  let nextChangeMs: number | undefined;
  const consider = (t: number): void => {
    if (t > nowMs && (nextChangeMs === undefined || t < nextChangeMs)) nextChangeMs = t;
  };
  if (present) consider(endMs(present));
  if (following) {
    consider(following.startMs);
    if (soon > 0) consider(following.startMs - soon);
  }

  if (prev && sameContent(prev.sections[0], s0) && sameContent(prev.sections[1], s1)) {
    return { sections: prev.sections, state: prev, changed: false, present, following, nextChangeMs };
  }
  let sections: readonly [Uint8Array, Uint8Array] = [s0, s1];
  let versionNumber = version;
  if (prev) {
    versionNumber = (prev.versionNumber + 1) % 32;
    setVersion(s0, versionNumber);
    setVersion(s1, versionNumber);
    sections = [s0, s1];
  }
  return { sections, state: { versionNumber, sections }, changed: true, present, following, nextChangeMs };
}

/** One EIT schedule sub-table (one table_id of the service). */
export interface ScheduleSubTable {
  tableId: number;
  versionNumber: number;
  sections: readonly Uint8Array[];
  /**
   * Per section: the longest allowed repetition interval (TS 101 211): 10 s if its
   * segment starts within 8 days of now, else 30 s.
   */
  maxIntervalMs: readonly number[];
  /** True if new (version bumped or first build). */
  changed: boolean;
}

/** State carried between schedule builds: per table_id, the last version and sections. */
export interface ScheduleState {
  tables: ReadonlyMap<number, { versionNumber: number; sections: readonly Uint8Array[] }>;
}

export interface ScheduleResult {
  /** Sub-tables 0x50 … last_table_id, each with its sections in section_number order. */
  tables: ScheduleSubTable[];
  state: ScheduleState;
  /** Events in the window that did not fit their segment's 8 sections and were left out. */
  dropped: number;
  /** Events written. */
  eventCount: number;
  /** 00:00 UTC of the current day, the segment reference. */
  referenceMs: number;
}

/** Largest number of days EIT schedule actual can hold (16 table_ids × 4 days). */
export const MAX_SCHEDULE_DAYS = 64;
/** Repetition limits for EIT schedule sections (TS 101 211). */
export const SCHEDULE_NEAR_INTERVAL_MS = 10_000;
export const SCHEDULE_FAR_INTERVAL_MS = 30_000;

/**
 * EIT schedule actual for the events starting in [00:00 UTC today, now + days × 24 h)
 * (capped at the 64 days the table ids hold). Events of segments that lie wholly in the
 * past are left out unless still running; their segments stay as one empty section.
 * Events run running_status 0 (undefined) here: p/f carries the live status, and the
 * schedule then changes only when the schedule does.
 */
export function buildSchedule(
  service: SiService,
  events: readonly SiEvent[],
  nowMs: number,
  days: number,
  prev?: ScheduleState,
  opts?: EitBuildOptions,
): ScheduleResult {
  if (!Number.isInteger(days) || days < 1 || days > MAX_SCHEDULE_DAYS) {
    throw new OnairError("ONAIR_SI_FIELD_RANGE", "EIT schedule days must be 1…64", { days });
  }
  const ref = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const { segments, lastK, eventCount } = eventsBySegment(service, events, nowMs, days, ref, opts);
  const lastTable = lastK < 0 ? 0 : Math.floor(lastK / EIT_SEGMENTS_PER_TABLE);
  const tables: ScheduleSubTable[] = [];
  const nextState = new Map(prev?.tables ?? []);
  let dropped = 0;
  for (let t = 0; t <= lastTable; t++) {
    const tableId = TABLE_ID_EIT_SCHEDULE_ACTUAL_FIRST + t;
    const layout = layOutTable(segments, t);
    dropped += layout.dropped;
    const before = prev?.tables.get(tableId);
    const version = before ? before.versionNumber : (opts?.initialVersion ?? 0);
    const head = { tableId, version, lastTableId: TABLE_ID_EIT_SCHEDULE_ACTUAL_FIRST + lastTable };
    const { sections, maxIntervalMs } = tableSections(service, layout.plan, head, t, ref, nowMs);
    if (before && before.sections.length === sections.length && sections.every((s, i) => sameContent(before.sections[i], s))) {
      tables.push({ tableId, versionNumber: before.versionNumber, sections: before.sections, maxIntervalMs, changed: false });
      continue;
    }
    let versionNumber = version;
    if (before) {
      versionNumber = (before.versionNumber + 1) % 32;
      for (const s of sections) setVersion(s, versionNumber);
    }
    nextState.set(tableId, { versionNumber, sections });
    tables.push({ tableId, versionNumber, sections, maxIntervalMs, changed: true });
  }
  return { tables, state: { tables: nextState }, dropped, eventCount, referenceMs: ref };
}

/**
 * Encoded events per segment k (0 … 511) from `ref` (midnight UTC), up to the horizon;
 * events of segments wholly in the past are left out unless still running.
 */
function eventsBySegment(
  service: SiService,
  events: readonly SiEvent[],
  nowMs: number,
  days: number,
  ref: number,
  opts?: EitBuildOptions,
): { segments: Map<number, Uint8Array[]>; lastK: number; eventCount: number } {
  const horizon = Math.min(nowMs + days * DAY_MS, ref + MAX_SCHEDULE_DAYS * DAY_MS);
  const freeCa = service.freeCaMode ?? false;
  const segments = new Map<number, Uint8Array[]>();
  let lastK = -1;
  let eventCount = 0;
  for (const e of sortedByStart(events)) {
    if (e.startMs < ref || e.startMs >= horizon) continue;
    const k = Math.floor((e.startMs - ref) / EIT_SEGMENT_MS);
    if (ref + (k + 1) * EIT_SEGMENT_MS <= nowMs && endMs(e) <= nowMs) continue;
    const bytes = encodeEventBytes(e.eventId, e.startMs, e.durationSec, RunningStatus.undefined, freeCa, encodeEventDescriptors(e, opts));
    let list = segments.get(k);
    if (!list) segments.set(k, (list = []));
    list.push(bytes);
    if (k > lastK) lastK = k;
    eventCount++;
  }
  return { segments, lastK, eventCount };
}

/** One segment of a sub-table: its events and the [from, to) ranges of its sections. */
interface SegmentPlan {
  seg: number;
  list: Uint8Array[];
  ranges: [number, number][];
}

/**
 * Lays the events of sub-table `t` into sections: segments 0 … the last with events, each
 * cut into at most 8 sections of whole events; events that do not fit are counted as dropped.
 */
function layOutTable(segments: ReadonlyMap<number, Uint8Array[]>, t: number): { plan: SegmentPlan[]; dropped: number } {
  const capacity = EIT_MAX_SECTION_BYTES - EIT_FIXED_BYTES - CRC_BYTES;
  let lastSeg = 0;
  for (let s = EIT_SEGMENTS_PER_TABLE - 1; s > 0; s--) {
    if (segments.has(t * EIT_SEGMENTS_PER_TABLE + s)) {
      lastSeg = s;
      break;
    }
  }
  const plan: SegmentPlan[] = [];
  let dropped = 0;
  for (let seg = 0; seg <= lastSeg; seg++) {
    const list = segments.get(t * EIT_SEGMENTS_PER_TABLE + seg) ?? [];
    const ranges: [number, number][] = [];
    let from = 0;
    let size = 0;
    for (let i = 0; i < list.length; i++) {
      if (size + list[i].length > capacity) {
        ranges.push([from, i]);
        if (ranges.length === EIT_SECTIONS_PER_SEGMENT) break;
        from = i;
        size = 0;
      }
      size += list[i].length;
    }
    if (ranges.length < EIT_SECTIONS_PER_SEGMENT) ranges.push([from, list.length]);
    const placed = ranges[ranges.length - 1][1];
    dropped += list.length - placed;
    plan.push({ seg, list, ranges });
  }
  return { plan, dropped };
}

/** The sections of sub-table `t` (numbered 8 × segment + i) and each one's repetition interval. */
function tableSections(
  service: SiService,
  plan: readonly SegmentPlan[],
  head: { tableId: number; version: number; lastTableId: number },
  t: number,
  ref: number,
  nowMs: number,
): { sections: Uint8Array[]; maxIntervalMs: number[] } {
  const lastPlan = plan[plan.length - 1];
  const lastSectionNumber = EIT_SECTIONS_PER_SEGMENT * lastPlan.seg + lastPlan.ranges.length - 1;
  const sections: Uint8Array[] = [];
  const maxIntervalMs: number[] = [];
  for (const { seg, list, ranges } of plan) {
    const segmentLast = EIT_SECTIONS_PER_SEGMENT * seg + ranges.length - 1;
    const near = ref + (t * EIT_SEGMENTS_PER_TABLE + seg) * EIT_SEGMENT_MS < nowMs + 8 * DAY_MS;
    ranges.forEach(([from, to], i) => {
      const h: EitSectionHeader = {
        tableId: head.tableId,
        serviceId: service.serviceId,
        versionNumber: head.version,
        currentNextIndicator: true,
        sectionNumber: EIT_SECTIONS_PER_SEGMENT * seg + i,
        lastSectionNumber,
        transportStreamId: service.transportStreamId,
        originalNetworkId: service.originalNetworkId,
        segmentLastSectionNumber: segmentLast,
        lastTableId: head.lastTableId,
      };
      sections.push(assembleEitSection(h, list, from, to));
      maxIntervalMs.push(near ? SCHEDULE_NEAR_INTERVAL_MS : SCHEDULE_FAR_INTERVAL_MS);
    });
  }
  return { sections, maxIntervalMs };
}
