/**
 * Where HLS segments are cut and what each one carries of a break, decided from IDR PTS
 * values and cue actions only (no bytes), so that LL-HLS parts or DASH periods can reuse it.
 *
 * Contract (issue #21, domain §8):
 * - A cut lands only on an IDR. Length rule: a segment ends at the last IDR that keeps it at
 *   or below `segmentTicks` (half a frame of tolerance); the grid restarts at each cut. When
 *   an IDR comes too late, the cut goes back to the previous IDR of the segment (`previous`),
 *   so the caller must keep that IDR's position. A GOP longer than the target still cuts at
 *   its IDR: that segment is long.
 * - Every splice IDR (the first IDR at or after an out-cue's splice PTS, within half a frame)
 *   and every return IDR (the in-cue's PTS, or splice + break_duration with auto_return) is
 *   always a cut. The break's segment cue says `out` on the splice segment, `cont` (elapsed
 *   = PTS distance from the splice) inside, `in` on the return segment.
 * - Cues are deduplicated by event and PTS (repeats carry the same bytes); a cue whose
 *   splice time lies more than STALE_TICKS before the current video PTS is ignored; a cancel
 *   removes a break that has not started; an in-cue closes the running break whatever its
 *   event id (deployments differ on reusing the out id).
 */
import { ptsAdd, ptsDiff, PTS_CLOCK_HZ } from "../ts/timestamps.js";
import { IMMEDIATE, type CueAction } from "./cues.js";

/** A cue whose splice time is this far behind the video (90 kHz) is stale. */
export const STALE_TICKS = PTS_CLOCK_HZ;

export interface BreakInfo {
  /** unique over the output's life: event key and splice PTS */
  id: string;
  eventId: number;
  command: "splice_insert" | "time_signal";
  /** the out cue's splice_info_section, as in the TS */
  section: Uint8Array;
  /** PTS of the splice segment's IDR */
  splicePts: number;
  /** break_duration / segmentation_duration, seconds */
  plannedDurationSeconds?: number;
}

export interface SegmentCue {
  /** a break ends at this segment's start */
  in?: { break: BreakInfo; durationSeconds: number; section?: Uint8Array };
  /** a break starts at this segment's start */
  out?: BreakInfo;
  /** this segment lies inside a break that started `elapsedSeconds` before it */
  cont?: { break: BreakInfo; elapsedSeconds: number };
}

export interface Cut {
  /** cut at the segment's previous IDR (the length rule looking back), else at this IDR */
  previous: boolean;
  cue?: SegmentCue;
}

interface ActiveBreak {
  info: BreakInfo;
  /** PTS of the return, or -1 until an in-cue says */
  returnPts: number;
}

export class CutPlanner {
  private readonly limit: number;
  private tol = 1800;
  private segStart = -1;
  private prevIdr = -1;
  private readonly pending: CueAction[] = [];
  private readonly applied: string[] = [];
  private active: ActiveBreak | undefined;

  constructor(segmentSeconds: number) {
    this.limit = Math.round(segmentSeconds * PTS_CLOCK_HZ);
  }

  /** The video frame duration (90 kHz) sets the tolerance: half a frame. */
  setFrameTicks(ticks: number): void {
    if (ticks > 0) this.tol = Math.floor(ticks / 2);
  }

  /** True while a break runs (its return not reached). */
  get inBreak(): boolean {
    return this.active !== undefined;
  }

  /** A decoded cue arrives; `videoPts` is the latest video PTS (-1 when none yet). */
  addCue(a: CueAction, videoPts: number): void {
    if (a.kind === "cancel") {
      const i = this.pending.findIndex((p) => p.kind === "out" && p.eventKey === a.eventKey);
      if (i >= 0) this.pending.splice(i, 1);
      return;
    }
    const key = `${a.kind}:${a.eventKey}@${a.pts}`;
    if (this.applied.includes(key) || this.pending.some((p) => `${p.kind}:${p.eventKey}@${p.pts}` === key)) return;
    if (a.pts !== IMMEDIATE && videoPts >= 0 && ptsDiff(a.pts, videoPts) < -STALE_TICKS) return;
    this.pending.push(a);
  }

  /**
   * An IDR with PTS `pts`. `opening`: no segment is open (stream start or after a
   * discontinuity), so this IDR starts one. Returns the cuts to make, in order.
   */
  onIdr(pts: number, opening: boolean): Cut[] {
    if (opening || this.segStart < 0) return [this.cutHere(pts)];
    const cuts: Cut[] = [];
    let d = ptsDiff(pts, this.segStart);
    if (d > this.limit + this.tol && this.prevIdr >= 0) {
      cuts.push({ previous: true, cue: this.contCue(this.prevIdr) });
      this.segStart = this.prevIdr;
      this.prevIdr = -1;
      d = ptsDiff(pts, this.segStart);
    }
    if (this.anyDue(pts) || d >= this.limit - this.tol) cuts.push(this.cutHere(pts));
    else this.prevIdr = pts;
    return cuts;
  }

  /** The stream ends (or breaks) in a segment too long: cut it at its previous IDR. */
  lookBack(): Cut {
    const cut: Cut = { previous: true, cue: this.contCue(this.prevIdr) };
    this.segStart = this.prevIdr;
    this.prevIdr = -1;
    return cut;
  }

  /** Pending cues are dropped (a new time base); a running break stays open. */
  reset(): void {
    this.pending.length = 0;
    this.segStart = -1;
    this.prevIdr = -1;
  }

  /** True when a segment of `ticks` breaks the length rule. */
  isLong(ticks: number): boolean {
    return ticks > this.limit + this.tol;
  }

  private isDue(a: CueAction, pts: number): boolean {
    return a.pts === IMMEDIATE || ptsDiff(pts, a.pts) >= -this.tol;
  }

  private anyDue(pts: number): boolean {
    if (this.active && this.active.returnPts >= 0 && ptsDiff(pts, this.active.returnPts) >= -this.tol) return true;
    return this.pending.some((a) => this.isDue(a, pts));
  }

  private cutHere(pts: number): Cut {
    this.segStart = pts;
    this.prevIdr = -1;
    const cue: SegmentCue = {};
    const due = this.pending.filter((a) => this.isDue(a, pts));
    for (const a of due) {
      this.pending.splice(this.pending.indexOf(a), 1);
      this.applied.push(`${a.kind}:${a.eventKey}@${a.pts}`);
      if (this.applied.length > 64) this.applied.shift();
    }
    const inCue = due.find((a) => a.kind === "in");
    const a = this.active;
    if (a && (inCue || (a.returnPts >= 0 && ptsDiff(pts, a.returnPts) >= -this.tol))) {
      cue.in = { break: a.info, durationSeconds: ptsDiff(pts, a.info.splicePts) / PTS_CLOCK_HZ, section: inCue?.section };
      this.active = undefined;
    }
    const out = due.find((x) => x.kind === "out");
    if (out) this.startBreak(out, pts, cue);
    else if (this.active) cue.cont = this.contCue(pts)?.cont;
    return { previous: false, cue: cue.in || cue.out || cue.cont ? cue : undefined };
  }

  private startBreak(out: CueAction, pts: number, cue: SegmentCue): void {
    const info: BreakInfo = {
      id: `${out.eventKey.replace(":", "-")}-${pts}`,
      eventId: out.eventId,
      command: out.eventKey.startsWith("insert") ? "splice_insert" : "time_signal",
      section: out.section,
      splicePts: pts,
      plannedDurationSeconds: out.durationTicks !== undefined ? out.durationTicks / PTS_CLOCK_HZ : undefined,
    };
    const anchor = out.pts === IMMEDIATE ? pts : out.pts;
    const returnPts = out.autoReturn && out.durationTicks ? ptsAdd(anchor, out.durationTicks) : -1;
    this.active = { info, returnPts };
    cue.out = info;
  }

  private contCue(pts: number): SegmentCue | undefined {
    const a = this.active;
    if (!a) return undefined;
    return { cont: { break: a.info, elapsedSeconds: ptsDiff(pts, a.info.splicePts) / PTS_CLOCK_HZ } };
  }
}
