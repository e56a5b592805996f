/** The planner's types: the breaks it is given, the cues it plans and the events it reports. */

export interface BreakRequest {
  /** PTS (stream domain) at which the break is due; the splice lands on the first IDR at or after it */
  duePts: number;
  /** requested duration in 90 kHz ticks */
  durationTicks: number;
  /** the break's id from the schedule, used as UPID in time_signal mode */
  breakId?: string;
  /** an event id allocated (and stored) by the caller, e.g. to return it from the API */
  spliceEventId?: number;
  /**
   * "As soon as possible" (`duePts` is then ignored): the splice is the first IDR after
   * `requestedPts` + preroll, and never earlier than the 4 s minimum lead from the moment it
   * is planned; that floor is not a move (no `break_moved`).
   */
  immediate?: boolean;
  /** the instant the break was asked for, when it is not `duePts` (immediate breaks); default `duePts` */
  requestedPts?: number;
  /** first asked for "now" (an immediate break planned again after a time-base change): never reported late */
  asap?: boolean;
}

/** What one cue section says; the encoder turns it into splice_info_section bytes. */
export type CueSpec =
  | {
      command: "splice_insert";
      spliceEventId: number;
      outOfNetwork: boolean;
      splicePts: number;
      /** break_duration (auto_return) when set */
      breakDurationTicks?: number;
    }
  | { command: "splice_insert_cancel"; spliceEventId: number }
  | {
      command: "time_signal";
      spliceEventId: number;
      splicePts: number;
      segmentationTypeId: number;
      segmentationDurationTicks?: number;
      breakId?: string;
    }
  | { command: "splice_null" };

export type CueEncoder = (spec: CueSpec) => Uint8Array;

export type CueKind = "out" | "in" | "cancel" | "heartbeat";

/** One planned cue: the same section sent `repeat` times. */
export interface PlannedCue {
  kind: CueKind;
  spliceEventId: number;
  /** splice point PTS, or -1 for heartbeats */
  splicePts: number;
  section: Uint8Array;
  spec: CueSpec;
  /** PCR (90 kHz) at or after which the next send is due */
  nextSendPcr: number;
  sendsLeft: number;
  sendsDone: number;
}

/** A break that became cues. */
export interface PlannedBreak {
  spliceEventId: number;
  requestedPts: number;
  splicePts: number;
  returnPts: number;
  breakDurationTicks: number;
  /** the splice point moved later because 4 s of lead were no longer possible */
  moved: boolean;
  breakId?: string;
  /** asked for "now" (see BreakRequest.asap) */
  asap?: boolean;
  /** ended early by `returnNow`: `returnPts` is then the early return */
  returnedEarly?: boolean;
}

export interface PlannerCounters {
  breaksPlanned: number;
  breaksMoved: number;
  /** breaks planned again after a time-base jump (same event id) */
  breaksReplanned: number;
  /** planned breaks whose splice point has been reached */
  breaksDue: number;
  cuesSent: Record<string, number>;
  cuesRepeated: number;
  /** sends dropped because their splice point was too close */
  cuesDropped: number;
  heartbeats: number;
}

/** A break taken back by `rebase`, its instant in the old time base (meaningless when `immediate`). */
export interface RebasedBreak {
  pts: number;
  durationTicks: number;
  breakId?: string;
  spliceEventId?: number;
  /** an immediate request not planned yet: plan it again from the new present */
  immediate?: boolean;
  /** a planned break first asked for "now": pass it on as BreakRequest.asap */
  asap?: boolean;
}

export interface PlannerEvents {
  onPlanned?(b: PlannedBreak): void;
  onMoved?(b: PlannedBreak, reason: string): void;
  /**
   * A break that could not be planned (its splice_event_id could not be stored, its cue not
   * encoded): it is dropped and the other breaks go on. Without this handler it is thrown.
   */
  onFailed?(req: BreakRequest, err: unknown): void;
  /**
   * A break with a set time that had to move more than one GOP past it (`lateTicks` from the
   * requested instant to the splice point). Never for immediate breaks: "the first IDR after
   * the preroll" is their design, not a delay.
   */
  onLate?(b: PlannedBreak, lateTicks: number): void;
  /**
   * A break that will not air: its out cue could not go out once before the splice point, or
   * no key-frame grid (no IDR in reach) was known `NO_GRID_GRACE_TICKS` past its due point.
   */
  onDropped?(b: { spliceEventId?: number | undefined; breakId?: string | undefined }, reason: string): void;
}
