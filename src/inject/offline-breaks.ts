/**
 * Which of the offline command's requested breaks made it into the output.
 *
 * Contract: a break is placed when its first cue (kind "out": the splice_insert out of
 * network, or the time_signal start) went into the stream at least once AND the stream
 * reached its splice point (a video IDR with PTS at or after it). Requests map to plans in
 * order: the injector plans the offline breaks in the order they were asked for, each under
 * a new splice_event_id (a break planned again after a PTS jump keeps its id, and its new
 * splice point replaces the old one).
 */
import { OnairError } from "../core/errors.js";
import { ptsDiff } from "../ts/timestamps.js";
import type { InjectorEvent } from "./injector.js";
import type { OfflineBreak } from "./offline.js";
import { TICKS, type PlannedCue } from "./planner.js";

export type BreakNotPlacedReason = "not_planned" | "splice_after_end" | "cue_not_sent";

export interface BreakOutcome {
  /** 1-based, in the order the breaks were given */
  index: number;
  startSeconds: number;
  durationSeconds: number;
  breakId?: string;
  placed: boolean;
  spliceEventId?: number;
  /** seconds after the first video frame (the splice point actually planned) */
  spliceSeconds?: number;
  reason?: BreakNotPlacedReason;
}

interface Tracked {
  req: OfflineBreak;
  spliceEventId?: number;
  splicePts?: number;
  sent: boolean;
  reached: boolean;
}

const REASON_TEXT: Record<BreakNotPlacedReason, string> = {
  not_planned: "the input ended before it could be planned (no video key frames found)",
  splice_after_end: "the input ends before its splice point",
  cue_not_sent: "its cue could not be sent ahead of the splice point",
};

export class OfflineBreakTracker {
  private readonly tracked: Tracked[];
  private readonly byId = new Map<number, Tracked>();
  private nextUnplanned = 0;
  private lastIdrPts = -1;

  constructor(requests: readonly OfflineBreak[]) {
    this.tracked = requests.map((req) => ({ req, sent: false, reached: false }));
  }

  /** Feed every injector event (only break_planned is looked at). */
  onEvent(e: InjectorEvent): void {
    if (e.event !== "break_planned") return;
    const id = e.spliceEventId as number;
    let t = this.byId.get(id);
    if (!t) {
      t = this.tracked[this.nextUnplanned++];
      if (!t) return;
      t.spliceEventId = id;
      this.byId.set(id, t);
    }
    t.splicePts = e.splicePts as number;
  }

  onCueSent(cue: PlannedCue): void {
    if (cue.kind !== "out") return;
    const t = this.byId.get(cue.spliceEventId);
    if (t) t.sent = true;
  }

  onIdr(pts: number): void {
    this.lastIdrPts = pts;
    for (const t of this.tracked) {
      if (!t.reached && t.splicePts !== undefined && ptsDiff(pts, t.splicePts) >= 0) t.reached = true;
    }
  }

  /** Each requested break with whether it was placed; `firstVideoPts` (or -1) dates the splice points. */
  outcomes(firstVideoPts: number): BreakOutcome[] {
    return this.tracked.map((t, i) => {
      const o: BreakOutcome = { index: i + 1, ...t.req, placed: t.sent && t.reached };
      if (t.spliceEventId !== undefined) o.spliceEventId = t.spliceEventId;
      if (t.splicePts !== undefined && firstVideoPts >= 0) o.spliceSeconds = ptsDiff(t.splicePts, firstVideoPts) / TICKS;
      if (!o.placed) o.reason = t.splicePts === undefined ? "not_planned" : !t.reached ? "splice_after_end" : "cue_not_sent";
      return o;
    });
  }

  /** Seconds from the first video frame to the last IDR seen, or undefined. */
  lastIdrSeconds(firstVideoPts: number): number | undefined {
    return this.lastIdrPts < 0 || firstVideoPts < 0 ? undefined : ptsDiff(this.lastIdrPts, firstVideoPts) / TICKS;
  }
}

function describeBreak(o: BreakOutcome): string {
  const name = o.breakId ? ` "${o.breakId}"` : "";
  const at = o.spliceSeconds !== undefined ? ` (splice point at ${o.spliceSeconds.toFixed(1)} s)` : "";
  return `break ${o.index}${name} (--break ${o.startSeconds},${o.durationSeconds}): ${REASON_TEXT[o.reason!]}${at}`;
}

/**
 * ONAIR_INJECT_BREAK_NOT_PLACED naming every break that is not in the output, or undefined
 * when all are. The output itself is complete, with the breaks that were placed.
 */
export function breaksNotPlacedError(outcomes: readonly BreakOutcome[], lastIdrSeconds?: number): OnairError | undefined {
  const missing = outcomes.filter((o) => !o.placed);
  if (missing.length === 0) return undefined;
  const end = lastIdrSeconds !== undefined ? `; the input's last key frame is at ${lastIdrSeconds.toFixed(1)} s` : "";
  const head = missing.length === 1 ? "" : `${missing.length} of ${outcomes.length} breaks not placed: `;
  return new OnairError(
    "ONAIR_INJECT_BREAK_NOT_PLACED",
    `${head}${missing.map(describeBreak).join("; ")}${end}; the output was written without ${missing.length === 1 ? "it" : "them"}`,
    { breaks: missing },
  );
}
