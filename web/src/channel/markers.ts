/**
 * Ad-break markers of a live HLS window, from what hls.js parsed out of the media playlist:
 * - Elemental-style cue tags, kept by hls.js in each fragment's `tagList` (the tags before that
 *   segment): `EXT-X-CUE-OUT[:duration]`, `EXT-X-CUE-IN`, and `EXT-X-CUE-OUT-CONT` inside a
 *   break whose opening segment already left the window;
 * - RFC 8216 date ranges in `details.dateRanges` carrying `SCTE35-OUT` (the break's start at
 *   `startTime`) and, once closed, `DURATION` / `SCTE35-IN` (its end).
 * A playlist with both styles describes each break twice: markers of one kind less than a
 * second apart are one marker. Times are hls.js media times (the video element's currentTime scale).
 */

export interface FragmentLike {
  start: number;
  duration: number;
  tagList: string[][];
  programDateTime: number | null;
}

export interface DateRangeLike {
  startTime: number;
  duration: number | null;
  attr: Record<string, unknown>;
}

export interface DetailsLike {
  fragments: FragmentLike[];
  dateRanges?: Record<string, DateRangeLike | undefined>;
}

export type MarkerKind = "cue-out" | "cue-in";

export interface Marker {
  kind: MarkerKind;
  /** media time, s */
  time: number;
  /** wall-clock time (ms) from PROGRAM-DATE-TIME, when the playlist has it */
  wallMs: number | null;
  /** planned break length (cue-out), s */
  durationSeconds?: number;
}

export interface LiveWindow {
  start: number;
  end: number;
  /** wall-clock ms at `start` (PROGRAM-DATE-TIME of the first segment), when known */
  startWallMs: number | null;
  markers: Marker[];
  /** a break is on at the window's start (its cue-out already left the window) */
  inBreakAtStart: boolean;
}

const SAME_MARKER_SECONDS = 1;

function wallAt(w: { start: number; startWallMs: number | null }, t: number): number | null {
  return w.startWallMs === null ? null : w.startWallMs + (t - w.start) * 1000;
}

function fromCueTags(fragments: FragmentLike[], w: LiveWindow): void {
  fragments.forEach((f, i) => {
    for (const [tag, value] of f.tagList) {
      if (tag === "EXT-X-CUE-OUT") {
        const d = value !== undefined ? Number.parseFloat(value) : NaN;
        w.markers.push({
          kind: "cue-out",
          time: f.start,
          wallMs: f.programDateTime,
          ...(Number.isFinite(d) ? { durationSeconds: d } : {}),
        });
      } else if (tag === "EXT-X-CUE-IN") {
        w.markers.push({ kind: "cue-in", time: f.start, wallMs: f.programDateTime });
      } else if (tag === "EXT-X-CUE-OUT-CONT" && i === 0) {
        w.inBreakAtStart = true;
      }
    }
  });
}

function fromDateRanges(ranges: Record<string, DateRangeLike | undefined>, w: LiveWindow): void {
  for (const dr of Object.values(ranges)) {
    if (!dr) continue;
    const out = "SCTE35-OUT" in dr.attr;
    if (!out && !("SCTE35-IN" in dr.attr)) continue;
    const t = dr.startTime;
    if (!Number.isFinite(t)) continue;
    const end = dr.duration !== null ? t + dr.duration : null;
    const plannedAttr = dr.attr["PLANNED-DURATION"];
    const planned = typeof plannedAttr === "string" ? Number.parseFloat(plannedAttr) : NaN;
    if (out && t >= w.start) {
      w.markers.push({ kind: "cue-out", time: t, wallMs: wallAt(w, t), ...(Number.isFinite(planned) ? { durationSeconds: planned } : {}) });
    }
    if (end !== null && end >= w.start && end <= w.end) w.markers.push({ kind: "cue-in", time: end, wallMs: wallAt(w, end) });
    if (t < w.start && (end === null || end > w.start)) w.inBreakAtStart = true;
  }
}

/** The window and its markers, sorted by time, duplicates merged. */
export function liveWindowOf(d: DetailsLike): LiveWindow | null {
  const frags = d.fragments;
  if (frags.length === 0) return null;
  const first = frags[0];
  const last = frags[frags.length - 1];
  const w: LiveWindow = {
    start: first.start,
    end: last.start + last.duration,
    startWallMs: first.programDateTime,
    markers: [],
    inBreakAtStart: false,
  };
  fromCueTags(frags, w);
  if (d.dateRanges) fromDateRanges(d.dateRanges, w);
  w.markers.sort((a, b) => a.time - b.time);
  const merged: Marker[] = [];
  for (const m of w.markers) {
    const twin = merged.find((x) => x.kind === m.kind && Math.abs(x.time - m.time) < SAME_MARKER_SECONDS);
    if (!twin) merged.push(m);
    else if (twin.durationSeconds === undefined && m.durationSeconds !== undefined) twin.durationSeconds = m.durationSeconds;
  }
  w.markers = merged;
  return w;
}

/** Spans of the window inside a break, as [from, to] media times (for shading the timeline). */
export function breakSpans(w: LiveWindow): [number, number][] {
  const spans: [number, number][] = [];
  let open: number | null = w.inBreakAtStart ? w.start : null;
  for (const m of w.markers) {
    if (m.kind === "cue-out" && open === null) open = m.time;
    else if (m.kind === "cue-in" && open !== null) {
      spans.push([open, m.time]);
      open = null;
    } else if (m.kind === "cue-in" && open === null && spans.length === 0) spans.push([w.start, m.time]);
  }
  if (open !== null) spans.push([open, w.end]);
  return spans;
}
