/**
 * A channel's cues from the control API, between the store and the injector.
 *
 * - `add` checks the request (duration, not in the past, at most 7 days ahead), stores it
 *   with its splice_event_id (store/cue-requests.ts) and only then answers: an accepted cue
 *   survives any restart.
 * - `refresh` (at start and on the channel's break timer) hands every pending cue within
 *   `reachMs` (1 h) of now to the injector, once per channel run, under its stored
 *   splice_event_id; a cue further ahead stays in the store until then, so no wall time is
 *   ever folded into a 33-bit PTS more than an hour ahead. A pending cue whose time has
 *   passed without it being handed over (the daemon was down) is closed as `missed`: a
 *   `cue_missed` warning, an as-run row with `aired: false`, and `onMissed` (the daemon's
 *   `cue_failed` alert).
 * - `returnEarly` and `cancel` end an API cue on air early or call off a pending one: the
 *   injector sends the in cue or the cancels, and the request is closed as `returned` or
 *   `cancelled` (stored, so a restart does not arm it again).
 * - The channel closes a cue as `aired` in the transaction of its first out cue's as-run row
 *   (`markAired`), so a restart never sends it twice.
 */
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { TICKS } from "../inject/planner.js";
import { checkCueDuration, checkCueTime } from "../schedule/cue-limits.js";
import { OnairError } from "../core/errors.js";
import {
  acceptCueRequest,
  closeCueRequest,
  endCueRequest,
  getCueRequest,
  pendingCueRequests,
  type CueRequest,
} from "../store/cue-requests.js";
import type { Store } from "../store/db.js";

/** How far ahead a stored cue is handed to the injector (also the injector's own reach). */
export const CUE_ARM_REACH_MS = 3_600_000;

/** The injector's side of it. */
export interface CueTarget {
  addBreakAtWall(wallMs: number, durationTicks: number, breakId?: string, spliceEventId?: number): void;
  addImmediateBreak(durationTicks: number, breakId?: string, spliceEventId?: number): void;
  /** false when the break is not pending (see Injector.cancelBreak) */
  cancelBreak(spliceEventId: number): boolean;
  /** the return's splice PTS, or -1 when the break is not on air (see Injector.returnBreak) */
  returnBreak(spliceEventId: number): number;
}

export interface ChannelCuesOptions {
  channel: string;
  store: Store;
  clock: Clock;
  target: CueTarget;
  log: Logger;
  /** the profile's preroll: an immediate cue is due this long after its request */
  prerollMs: number;
  reachMs?: number;
  /** a store write that must not stop playout (the channel's retry queue) */
  write: (what: string, run: (st: Store) => void) => void;
  /** a cue that can no longer air (after its log line and as-run row) */
  onMissed: (cue: CueRequest, reason: string) => void;
}

export class ChannelCues {
  /** splice_event_id → the time asked for (wall ms), for cues handed over or closed in this run */
  private readonly handled = new Map<number, number>();

  constructor(private readonly opts: ChannelCuesOptions) {}

  /**
   * Accepts a cue now (`atMs` undefined: the first IDR after the preroll) or at a wall time:
   * checked, stored, then armed when within reach. Returns its splice_event_id. Throws
   * ONAIR_CUE_BAD_DURATION, ONAIR_CUE_IN_PAST, ONAIR_CUE_BEYOND_HORIZON or a store error.
   */
  add(durationSeconds: number, atMs?: number): number {
    checkCueDuration(durationSeconds);
    const now = this.opts.clock.now();
    if (atMs !== undefined) checkCueTime(atMs, now);
    const request = { channel: this.opts.channel, atMs: atMs ?? now, immediate: atMs === undefined, durationMs: durationSeconds * 1000 };
    const cue = acceptCueRequest(this.opts.store, request);
    this.opts.log.info({ event: "cue_accepted", ...cueFields(cue) });
    if (cue.immediate || cue.atMs <= now + this.reach) this.arm(cue, false);
    return cue.spliceEventId;
  }

  /**
   * Ends a break on air early: the injector's in cue on the first IDR a preroll ahead, the
   * request closed as `returned`. Returns the return's splice PTS. Throws ONAIR_CUE_UNKNOWN,
   * ONAIR_CUE_NOT_ON_AIR or a store error.
   */
  returnEarly(spliceEventId: number): number {
    const cue = this.find(spliceEventId);
    const back = cue.state === "aired" && this.handled.has(spliceEventId) ? this.opts.target.returnBreak(spliceEventId) : -1;
    if (back < 0) {
      throw new OnairError("ONAIR_CUE_NOT_ON_AIR", `cue ${spliceEventId} is not on air (${cue.state}): nothing to return from`, {
        spliceEventId,
        state: cue.state,
      });
    }
    endCueRequest(this.opts.store, this.opts.channel, spliceEventId, "returned", this.opts.clock.now());
    this.opts.log.info({ event: "cue_return", ...cueFields(cue), returnPts: back });
    return back;
  }

  /**
   * Calls off a break not at its splice time yet: the injector's cancel cues (when it was
   * handed over), the request closed as `cancelled`. Throws ONAIR_CUE_UNKNOWN,
   * ONAIR_CUE_NOT_PENDING or a store error.
   */
  cancel(spliceEventId: number): void {
    const cue = this.find(spliceEventId);
    const open = cue.state === "pending" || cue.state === "aired";
    const armed = this.handled.has(spliceEventId);
    // not handed over yet (more than the reach ahead): nothing was sent, the store is all
    if (!open || (armed && !this.opts.target.cancelBreak(spliceEventId)) || (!armed && cue.state !== "pending")) {
      const why = cue.state === "pending" ? "at its splice time" : cue.state;
      throw new OnairError("ONAIR_CUE_NOT_PENDING", `cue ${spliceEventId} is not pending (${why}): it cannot be cancelled`, {
        spliceEventId,
        state: cue.state,
      });
    }
    this.handled.set(spliceEventId, cue.atMs);
    endCueRequest(this.opts.store, this.opts.channel, spliceEventId, "cancelled", this.opts.clock.now());
    this.opts.log.info({ event: "cue_cancel", ...cueFields(cue) });
  }

  private find(spliceEventId: number): CueRequest {
    const cue = getCueRequest(this.opts.store, this.opts.channel, spliceEventId);
    if (!cue) throw new OnairError("ONAIR_CUE_UNKNOWN", `no cue ${spliceEventId} on channel ${this.opts.channel}`, { spliceEventId });
    return cue;
  }

  /** Arms the stored cues that came within reach, and closes those that can no longer air. */
  refresh(): void {
    const now = this.opts.clock.now();
    for (const cue of pendingCueRequests(this.opts.store, this.opts.channel, now + this.reach)) {
      if (this.handled.has(cue.spliceEventId)) continue;
      const dueMs = cue.immediate ? cue.atMs + this.opts.prerollMs : cue.atMs;
      if (dueMs <= now) this.miss(cue, now);
      else this.arm(cue, true);
    }
  }

  /** The earliest stored cue not handed to the injector yet (one more than an hour ahead), if any. */
  nextWaiting(): CueRequest | undefined {
    return pendingCueRequests(this.opts.store, this.opts.channel).find((c) => !this.handled.has(c.spliceEventId));
  }

  /** The time a cue of this run was asked for (wall ms): the as-run's scheduled time. */
  requestedMs(spliceEventId: number): number | undefined {
    return this.handled.get(spliceEventId);
  }

  /** Closes the cue as aired; call inside the transaction that writes its as-run row. */
  markAired(st: Store, spliceEventId: number, actualMs: number): void {
    if (this.handled.has(spliceEventId)) closeCueRequest(st, this.opts.channel, spliceEventId, "aired", actualMs);
  }

  private get reach(): number {
    return this.opts.reachMs ?? CUE_ARM_REACH_MS;
  }

  private arm(cue: CueRequest, stored: boolean): void {
    this.handled.set(cue.spliceEventId, cue.atMs);
    const ticks = Math.round((cue.durationMs / 1000) * TICKS);
    if (cue.immediate) this.opts.target.addImmediateBreak(ticks, undefined, cue.spliceEventId);
    else this.opts.target.addBreakAtWall(cue.atMs, ticks, undefined, cue.spliceEventId);
    if (stored) this.opts.log.info({ event: "cue_armed", ...cueFields(cue) });
  }

  private miss(cue: CueRequest, now: number): void {
    this.handled.set(cue.spliceEventId, cue.atMs);
    const at = new Date(cue.atMs).toISOString();
    const reason = `the break asked for ${cue.immediate ? "at" : "for"} ${at} could not air: its time passed while the channel was not running`;
    this.opts.log.warn({ event: "cue_missed", ...cueFields(cue), reason });
    const channel = this.opts.channel;
    const details = { kind: "out", aired: false, reason, durationSeconds: cue.durationMs / 1000 };
    this.opts.write("cue missed", (st) =>
      st.transaction("cue missed", () => {
        closeCueRequest(st, channel, cue.spliceEventId, "missed", now);
        st.insertAsRun({ channel, kind: "cue", scheduledMs: cue.atMs, actualMs: now, eventId: cue.spliceEventId, details });
      }),
    );
    this.opts.onMissed(cue, reason);
  }
}

/** A cue's log fields. */
function cueFields(cue: CueRequest): Record<string, unknown> {
  return { spliceEventId: cue.spliceEventId, at: new Date(cue.atMs).toISOString(), immediate: cue.immediate, durationMs: cue.durationMs };
}
