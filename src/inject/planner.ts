import { OnairError } from "../core/errors.js";
import type { KeyframeGrid } from "./grid.js";
import { PTS_CLOCK_HZ, ptsAdd, ptsDiff } from "../ts/timestamps.js";
import type {
  BreakRequest,
  CueSpec,
  CueEncoder,
  CueKind,
  PlannedCue,
  PlannedBreak,
  PlannerCounters,
  RebasedBreak,
  PlannerEvents,
} from "./planner-types.js";

export type * from "./planner-types.js";

/** 90 kHz ticks per second: PTS_CLOCK_HZ, under the name the cue code uses. */
export const TICKS = PTS_CLOCK_HZ;

export type CueMode = "splice_insert" | "time_signal";

export interface CuePlanConfig {
  /** first send this long before the splice point (≥ 4 s); default 6 s */
  prerollTicks: number;
  /** total sends of each cue, same event id; default 3 */
  repeat: number;
  /** spacing of the repeats; default 1 s */
  repeatIntervalTicks: number;
  mode: CueMode;
  /** splice_insert: break_duration with auto_return; off → a return splice_insert at the end */
  autoReturn: boolean;
  /** time_signal segmentation types for break start/end; default provider placement opportunity */
  segmentationTypeStart: number;
  segmentationTypeEnd: number;
  /** splice_null heartbeat interval (0 = off) */
  heartbeatTicks: number;
}

export const MIN_LEAD_TICKS = 4 * TICKS;
/** A cue never goes out later than this before its splice point. */
export const LAST_SEND_MARGIN_TICKS = TICKS / 2;
/** Margin on top of the 4 s minimum when a break has to move, for slot and PCR jitter. */
const MOVE_MARGIN_TICKS = TICKS / 4;
/**
 * How long past its due point a break may wait for the key-frame grid (two IDRs) before it
 * is given up: the longest GOP a profile may set (encoding.video.gopSeconds ≤ 10 s).
 */
export const NO_GRID_GRACE_TICKS = 10 * TICKS;

export function defaultCuePlanConfig(over: Partial<CuePlanConfig> = {}): CuePlanConfig {
  const c: CuePlanConfig = {
    prerollTicks: 6 * TICKS,
    repeat: 3,
    repeatIntervalTicks: TICKS,
    mode: "splice_insert",
    autoReturn: true,
    segmentationTypeStart: 0x34,
    segmentationTypeEnd: 0x35,
    heartbeatTicks: 0,
    ...over,
  };
  if (!(c.prerollTicks >= MIN_LEAD_TICKS)) {
    throw new OnairError("ONAIR_CUE_PREROLL", `preroll must be at least 4 s (got ${c.prerollTicks / TICKS} s)`, {
      preroll: c.prerollTicks / TICKS,
    });
  }
  if (!Number.isInteger(c.repeat) || c.repeat < 1) {
    throw new OnairError("ONAIR_CUE_REPEAT", `repeat must be a whole number ≥ 1 (got ${c.repeat})`);
  }
  return c;
}

/**
 * Turns breaks into cues over stream time. The injector calls `poll(nowPcr)` with the
 * current PCR (90 kHz base, interpolated to the packet) and gets the next due cue, if any;
 * it calls `sent(cue, pcr)` once the cue's packet is in the stream.
 */
export class CuePlanner {
  private readonly pending: BreakRequest[] = [];
  private readonly cues: PlannedCue[] = [];
  private nextDue = Number.POSITIVE_INFINITY;
  private nextHeartbeat = -1;
  private lastPcr = -1;
  readonly planned: PlannedBreak[] = [];
  readonly counters: PlannerCounters = {
    breaksPlanned: 0,
    breaksMoved: 0,
    breaksReplanned: 0,
    breaksDue: 0,
    cuesSent: {},
    cuesRepeated: 0,
    cuesDropped: 0,
    heartbeats: 0,
  };

  constructor(
    readonly config: CuePlanConfig,
    private readonly grid: KeyframeGrid,
    private readonly encode: CueEncoder,
    /** persisted, never-reused splice_event_id allocation; called before a cue exists */
    private readonly allocateEventId: () => number,
    private readonly events: PlannerEvents = {},
  ) {
    // a heartbeat needs polling even when no break is planned
    if (config.heartbeatTicks > 0) this.nextDue = Number.NEGATIVE_INFINITY;
  }

  /** Asks for a break; it is planned as soon as the key-frame grid is known. */
  addBreak(req: BreakRequest): void {
    if (!(req.durationTicks > 0)) {
      throw new OnairError("ONAIR_CUE_DURATION", `break duration must be positive (got ${req.durationTicks / TICKS} s)`);
    }
    this.pending.push(req);
    this.nextDue = Number.NEGATIVE_INFINITY;
  }

  /**
   * "As soon as possible": the first IDR after `nowPcr` + preroll. `nowPcr` is the stream's
   * present (90 kHz) when the break is asked for; unknown (< 0), the moment it is planned
   * counts as the request. (The planner's own last poll is no clock: it may be a heartbeat
   * interval old.)
   */
  addImmediateBreak(durationTicks: number, breakId?: string, spliceEventId?: number, nowPcr = -1): void {
    this.addBreak({ duePts: 0, durationTicks, breakId, spliceEventId, immediate: true, ...(nowPcr >= 0 ? { requestedPts: nowPcr } : {}) });
  }

  /**
   * Cancels a break not yet at its splice point (`nowPcr`, 90 kHz): its request or pending
   * sends are dropped and a splice_insert with splice_event_cancel_indicator 1 goes out
   * under the same id, `repeat` times (it voids an out cue already sent ahead). False when
   * no such break is pending (unknown, or its splice point has passed).
   */
  cancel(spliceEventId: number, nowPcr = this.lastPcr): boolean {
    const now = nowPcr < 0 ? Math.max(this.lastPcr, 0) : nowPcr;
    const req = this.pending.findIndex((r) => r.spliceEventId === spliceEventId);
    const plan = this.planned.findIndex((b) => b.spliceEventId === spliceEventId);
    if (req < 0 && (plan < 0 || ptsDiff(now, this.planned[plan].splicePts) >= 0)) return false;
    if (req >= 0) this.pending.splice(req, 1);
    if (plan >= 0) this.planned.splice(plan, 1);
    this.dropCues(spliceEventId);
    const spec: CueSpec = { command: "splice_insert_cancel", spliceEventId };
    this.pushNow("cancel", spec, now);
    return true;
  }

  /**
   * Ends a break on air early (`nowPcr`, 90 kHz: its splice point passed, its return not
   * reached): a splice_insert with out_of_network_indicator 0 and the same id on the first
   * IDR a preroll from now (never under the 4 s lead), sent `repeat` times; the planned
   * return (break_duration, or the in cue) no longer applies. Returns the new return PTS, or
   * -1 when the break is not on air or the earliest return is not before its planned end.
   */
  returnNow(spliceEventId: number, nowPcr = this.lastPcr): number {
    const plan = this.planned.find((b) => b.spliceEventId === spliceEventId);
    if (!plan || nowPcr < 0 || !this.grid.ready) return -1;
    if (ptsDiff(nowPcr, plan.splicePts) < 0 || ptsDiff(plan.returnPts, nowPcr) <= 0) return -1;
    const lead = Math.max(this.config.prerollTicks, MIN_LEAD_TICKS + MOVE_MARGIN_TICKS);
    const returnPts = this.grid.predictAtOrAfter(ptsAdd(nowPcr, lead));
    if (ptsDiff(plan.returnPts, returnPts) <= 0) return -1;
    this.dropCues(spliceEventId);
    plan.returnPts = returnPts;
    plan.breakDurationTicks = ptsDiff(returnPts, plan.splicePts);
    plan.returnedEarly = true;
    if (this.config.mode === "splice_insert") {
      this.addCue("in", nowPcr, { command: "splice_insert", spliceEventId, outOfNetwork: false, splicePts: returnPts });
    } else {
      const segmentationTypeId = this.config.segmentationTypeEnd;
      this.addCue("in", nowPcr, { command: "time_signal", spliceEventId, splicePts: returnPts, segmentationTypeId, breakId: plan.breakId });
    }
    this.nextDue = Number.NEGATIVE_INFINITY;
    return returnPts;
  }

  /** Drops the cues still to be sent for one event id (not its cancel), counting their sends. */
  private dropCues(spliceEventId: number): void {
    for (let i = this.cues.length - 1; i >= 0; i--) {
      const c = this.cues[i];
      if (c.spliceEventId === spliceEventId && c.kind !== "cancel" && c.kind !== "heartbeat") {
        this.counters.cuesDropped += c.sendsLeft;
        this.cues.splice(i, 1);
      }
    }
  }

  /** Queues a cue without a splice point (cancel), due at `now`, sent `repeat` times. */
  private pushNow(kind: CueKind, spec: CueSpec & { spliceEventId: number }, now: number): void {
    const sendsLeft = kind === "cancel" ? this.config.repeat : 1;
    this.cues.push({
      kind,
      spliceEventId: spec.spliceEventId,
      splicePts: -1,
      section: this.encode(spec),
      spec,
      nextSendPcr: now,
      sendsLeft,
      sendsDone: 0,
    });
    this.nextDue = Number.NEGATIVE_INFINITY;
  }

  /** Earliest PCR at which poll() may return something (for a cheap per-packet check). */
  get nextDuePcr(): number {
    return this.nextDue;
  }

  /** The next cue due at `nowPcr` (90 kHz), or undefined. */
  poll(nowPcr: number): PlannedCue | undefined {
    this.lastPcr = nowPcr;
    this.countDue(nowPcr);
    if (this.pending.length) {
      if (this.grid.ready) this.planPending(nowPcr);
      else this.dropUnreachable(nowPcr);
    }
    if (this.config.heartbeatTicks > 0) {
      if (this.nextHeartbeat < 0) this.nextHeartbeat = ptsAdd(nowPcr, this.config.heartbeatTicks);
      else if (ptsDiff(nowPcr, this.nextHeartbeat) >= 0) {
        const spec: CueSpec = { command: "splice_null" };
        this.cues.push({
          kind: "heartbeat",
          spliceEventId: 0,
          splicePts: -1,
          section: this.encode(spec),
          spec,
          nextSendPcr: nowPcr,
          sendsLeft: 1,
          sendsDone: 0,
        });
        this.nextHeartbeat = ptsAdd(nowPcr, this.config.heartbeatTicks);
      }
    }
    let best: PlannedCue | undefined;
    for (let i = this.cues.length - 1; i >= 0; i--) {
      const c = this.cues[i];
      if (c.splicePts >= 0 && ptsDiff(c.splicePts, nowPcr) < LAST_SEND_MARGIN_TICKS) {
        // never after (or too close to) the splice point
        this.counters.cuesDropped += c.sendsLeft;
        this.cues.splice(i, 1);
        if (c.kind === "out" && c.sendsDone === 0) {
          const plan = this.planned.find((b) => b.spliceEventId === c.spliceEventId);
          this.events.onDropped?.(
            { spliceEventId: c.spliceEventId, breakId: plan?.breakId },
            "its cue could not be sent before the splice point",
          );
        }
        continue;
      }
      if (ptsDiff(nowPcr, c.nextSendPcr) >= 0 && (!best || ptsDiff(c.nextSendPcr, best.nextSendPcr) < 0)) best = c;
    }
    this.recomputeNextDue(nowPcr);
    return best;
  }

  /** Records that `cue` went out at `pcr`. */
  sent(cue: PlannedCue, pcr: number): void {
    const key = cue.kind === "heartbeat" ? "splice_null" : cue.spec.command === "time_signal" ? "time_signal" : "splice_insert";
    this.counters.cuesSent[key] = (this.counters.cuesSent[key] ?? 0) + 1;
    if (cue.sendsDone > 0) this.counters.cuesRepeated++;
    if (cue.kind === "heartbeat") this.counters.heartbeats++;
    cue.sendsDone++;
    cue.sendsLeft--;
    if (cue.sendsLeft <= 0) {
      const i = this.cues.indexOf(cue);
      if (i >= 0) this.cues.splice(i, 1);
    } else {
      cue.nextSendPcr = ptsAdd(cue.nextSendPcr, this.config.repeatIntervalTicks);
      // a repeat is never later than the last send margin before the splice
      if (cue.splicePts >= 0 && ptsDiff(cue.splicePts, cue.nextSendPcr) < LAST_SEND_MARGIN_TICKS) {
        this.counters.cuesDropped += cue.sendsLeft;
        const i = this.cues.indexOf(cue);
        if (i >= 0) this.cues.splice(i, 1);
      }
    }
    this.recomputeNextDue(pcr);
  }

  /**
   * The stream's time base changed (an FFmpeg restart, a switch to the slate): takes back
   * every break whose splice point is still ahead (its cues, sent or not, point into the old
   * time base) and every request not planned yet, with its instant in the OLD time base, so
   * the caller can map it through wall time and plan it again under the same event id.
   * A break already past its splice point keeps nothing pending (its return, if any, is
   * dropped and counted: auto_return covers it). `oldNowPcr` is the last PCR (90 kHz) of
   * the old time base.
   */
  rebase(oldNowPcr: number): RebasedBreak[] {
    const out: RebasedBreak[] = [];
    // "now" in the old time base: the last PCR before the change (the planner's own last
    // poll can be long ago when nothing was due)
    const now = oldNowPcr;
    for (const b of this.planned) {
      if (now < 0 || ptsDiff(b.splicePts, now) > 0) {
        out.push({
          pts: b.splicePts,
          durationTicks: b.breakDurationTicks,
          breakId: b.breakId,
          spliceEventId: b.spliceEventId,
          ...(b.asap ? { asap: true } : {}),
        });
      }
    }
    const replanned = new Set(out.map((b) => b.spliceEventId));
    for (const r of this.pending.splice(0)) {
      out.push({
        pts: r.duePts,
        durationTicks: r.durationTicks,
        breakId: r.breakId,
        spliceEventId: r.spliceEventId,
        ...(r.immediate ? { immediate: true } : {}),
      });
    }
    for (const c of this.cues) if (c.kind !== "heartbeat" && !replanned.has(c.spliceEventId)) this.counters.cuesDropped += c.sendsLeft;
    this.cues.length = 0;
    // forget planned breaks that are over, so `planned` does not grow for ever
    this.planned.length = 0;
    this.counters.breaksReplanned += replanned.size;
    this.nextHeartbeat = -1;
    this.nextDue = Number.NEGATIVE_INFINITY;
    return out;
  }

  private readonly dueCounted = new Set<number>();

  /** Counts planned breaks whose splice point has passed, once each. */
  private countDue(nowPcr: number): void {
    for (const b of this.planned) {
      if (!this.dueCounted.has(b.spliceEventId) && ptsDiff(nowPcr, b.splicePts) >= 0) {
        this.dueCounted.add(b.spliceEventId);
        this.counters.breaksDue++;
      }
    }
    // keep `planned` bounded: drop breaks over for more than their duration
    while (this.planned.length > 64 && this.dueCounted.has(this.planned[0].spliceEventId)) {
      this.dueCounted.delete(this.planned[0].spliceEventId);
      this.planned.shift();
    }
  }

  /** The nearest planned splice point after `nowPcr` (90 kHz) and how far it is, or null. */
  nextSplice(nowPcr: number): { plan: PlannedBreak; seconds: number } | null {
    let best: { plan: PlannedBreak; seconds: number } | null = null;
    for (const b of this.planned) {
      const d = ptsDiff(b.splicePts, nowPcr);
      if (d > 0 && (best === null || d / TICKS < best.seconds)) best = { plan: b, seconds: d / TICKS };
    }
    return best;
  }

  /** Seconds from `nowPcr` (90 kHz) to the next planned splice point, or null. */
  secondsToNextSplice(nowPcr: number): number | null {
    return this.nextSplice(nowPcr)?.seconds ?? null;
  }

  /** Cues still to be sent (for status and the "seconds to next splice" metric). */
  get upcoming(): readonly PlannedCue[] {
    return this.cues;
  }

  private recomputeNextDue(nowPcr: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.cues) {
      const d = ptsDiff(c.nextSendPcr, nowPcr);
      if (d < next) next = d;
    }
    if (this.pending.length) next = Math.min(next, 0);
    // wake up at splice points too, so breaksDue counts them on time
    for (const b of this.planned) {
      if (this.dueCounted.has(b.spliceEventId)) continue;
      const d = ptsDiff(b.splicePts, nowPcr);
      if (d < next) next = d;
    }
    if (this.config.heartbeatTicks > 0) {
      next = Math.min(next, this.nextHeartbeat < 0 ? 0 : ptsDiff(this.nextHeartbeat, nowPcr));
    }
    // stored relative to the PCR it was computed at, as an absolute 33-bit value
    this.nextDue = next === Number.POSITIVE_INFINITY ? next : next <= 0 ? Number.NEGATIVE_INFINITY : ptsAdd(nowPcr, next);
  }

  private planPending(nowPcr: number): void {
    const reqs = this.pending.splice(0, this.pending.length);
    for (const req of reqs) {
      try {
        this.planBreak(req, nowPcr);
      } catch (err) {
        if (!this.events.onFailed) throw err;
        this.events.onFailed(req, err);
      }
    }
  }

  /**
   * Gives up the requests still waiting for the key-frame grid `NO_GRID_GRACE_TICKS` past
   * their due point (an immediate one is due a preroll after it was asked for, or first seen).
   */
  private dropUnreachable(nowPcr: number): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const req = this.pending[i];
      if (req.immediate && req.requestedPts === undefined) req.requestedPts = nowPcr;
      const due = req.immediate ? ptsAdd(req.requestedPts ?? nowPcr, this.config.prerollTicks) : req.duePts;
      if (ptsDiff(nowPcr, due) <= NO_GRID_GRACE_TICKS) continue;
      this.pending.splice(i, 1);
      this.events.onDropped?.(
        { spliceEventId: req.spliceEventId, breakId: req.breakId },
        `no IDR in reach: the key-frame grid was still unknown ${NO_GRID_GRACE_TICKS / TICKS} s after the break was due`,
      );
    }
  }

  /** When a request is due and which instant it asked for (see BreakRequest.immediate). */
  private dueOf(req: BreakRequest, nowPcr: number): { due: number; requested: number } {
    if (!req.immediate) return { due: req.duePts, requested: req.requestedPts ?? req.duePts };
    const requested = req.requestedPts ?? nowPcr;
    const asked = ptsAdd(requested, this.config.prerollTicks);
    const earliest = ptsAdd(nowPcr, MIN_LEAD_TICKS + MOVE_MARGIN_TICKS);
    return { due: ptsDiff(asked, earliest) > 0 ? asked : earliest, requested };
  }

  private planBreak(req: BreakRequest, nowPcr: number): void {
    const cfg = this.config;
    const { due, requested } = this.dueOf(req, nowPcr);
    let splicePts = this.grid.predictAtOrAfter(due);
    let moved = false;
    if (ptsDiff(splicePts, nowPcr) < MIN_LEAD_TICKS + MOVE_MARGIN_TICKS) {
      splicePts = this.grid.predictAtOrAfter(ptsAdd(nowPcr, MIN_LEAD_TICKS + MOVE_MARGIN_TICKS));
      moved = true;
    }
    const returnPts = this.grid.predictAtOrAfter(ptsAdd(splicePts, req.durationTicks));
    const breakDurationTicks = ptsDiff(returnPts, splicePts);
    const spliceEventId = req.spliceEventId ?? this.allocateEventId();
    if (req.spliceEventId !== undefined) {
      const i = this.planned.findIndex((b) => b.spliceEventId === req.spliceEventId);
      if (i >= 0) this.planned.splice(i, 1);
    }
    const plan: PlannedBreak = {
      spliceEventId,
      requestedPts: requested,
      splicePts,
      returnPts,
      breakDurationTicks,
      moved,
      breakId: req.breakId,
      ...(req.immediate || req.asap ? { asap: true } : {}),
    };
    this.planned.push(plan);
    this.counters.breaksPlanned++;
    if (moved) {
      this.counters.breaksMoved++;
      this.events.onMoved?.(plan, "less than 4 s of lead left for the requested splice point");
      const lateTicks = ptsDiff(splicePts, requested);
      if (!plan.asap && lateTicks > this.grid.period) this.events.onLate?.(plan, lateTicks);
    }
    this.events.onPlanned?.(plan);

    if (cfg.mode === "splice_insert") {
      this.addCue("out", nowPcr, {
        command: "splice_insert",
        spliceEventId,
        outOfNetwork: true,
        splicePts,
        breakDurationTicks: cfg.autoReturn ? breakDurationTicks : undefined,
      });
      if (!cfg.autoReturn) {
        this.addCue("in", nowPcr, { command: "splice_insert", spliceEventId, outOfNetwork: false, splicePts: returnPts });
      }
    } else {
      this.addCue("out", nowPcr, {
        command: "time_signal",
        spliceEventId,
        splicePts,
        segmentationTypeId: cfg.segmentationTypeStart,
        segmentationDurationTicks: breakDurationTicks,
        breakId: req.breakId,
      });
      this.addCue("in", nowPcr, {
        command: "time_signal",
        spliceEventId,
        splicePts: returnPts,
        segmentationTypeId: cfg.segmentationTypeEnd,
        breakId: req.breakId,
      });
    }
  }

  private addCue(kind: CueKind, nowPcr: number, spec: CueSpec & { splicePts: number }): void {
    const first = ptsAdd(spec.splicePts, -this.config.prerollTicks);
    this.cues.push({
      kind,
      spliceEventId: "spliceEventId" in spec ? spec.spliceEventId : 0,
      splicePts: spec.splicePts,
      section: this.encode(spec),
      spec,
      nextSendPcr: ptsDiff(first, nowPcr) < 0 ? nowPcr : first,
      sendsLeft: this.config.repeat,
      sendsDone: 0,
    });
  }
}
