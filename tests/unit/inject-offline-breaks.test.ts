/**
 * OfflineBreakTracker: which requested breaks are in the output (an "out" cue sent and an IDR
 * at or after the splice point), fed the injector's events in the order it emits them.
 */
import { describe, expect, it } from "vitest";
import { breaksNotPlacedError, OfflineBreakTracker } from "../../src/inject/offline-breaks.js";
import type { PlannedCue } from "../../src/inject/planner.js";

const S = 90_000;
const FIRST = 10 * S; // PTS of the first video frame

const cue = (kind: PlannedCue["kind"], spliceEventId: number): PlannedCue => ({
  kind,
  spliceEventId,
  splicePts: 0,
  section: new Uint8Array(0),
  spec: { command: "splice_null" },
  nextSendPcr: 0,
  sendsLeft: 0,
  sendsDone: 1,
});
const planned = (spliceEventId: number, splicePts: number) => ({ event: "break_planned", spliceEventId, splicePts });

describe("offline break outcomes", () => {
  it("maps plans to requests in order and needs both a sent out-cue and a splice frame", () => {
    const t = new OfflineBreakTracker([
      { startSeconds: 10, durationSeconds: 5 },
      { startSeconds: 20, durationSeconds: 5, breakId: "b" },
      { startSeconds: 30, durationSeconds: 5 },
      { startSeconds: 40, durationSeconds: 5 },
    ]);
    t.onEvent(planned(7, FIRST + 10 * S));
    t.onEvent(planned(8, FIRST + 20 * S));
    t.onEvent(planned(9, FIRST + 30 * S));
    t.onCueSent(cue("out", 7));
    t.onCueSent(cue("in", 8)); // only the out cue counts
    t.onCueSent(cue("out", 9));
    t.onIdr(FIRST + 25 * S);
    const o = t.outcomes(FIRST);
    expect(o.map((b) => [b.index, b.placed, b.reason, b.spliceEventId, b.spliceSeconds])).toEqual([
      [1, true, undefined, 7, 10],
      [2, false, "cue_not_sent", 8, 20],
      [3, false, "splice_after_end", 9, 30],
      [4, false, "not_planned", undefined, undefined],
    ]);
    expect(t.lastIdrSeconds(FIRST)).toBe(25);
    expect(breaksNotPlacedError(o, t.lastIdrSeconds(FIRST))?.message).toBe(
      '3 of 4 breaks not placed: break 2 "b" (--break 20,5): its cue could not be sent ahead of the splice point (splice point at 20.0 s); ' +
        "break 3 (--break 30,5): the input ends before its splice point (splice point at 30.0 s); " +
        "break 4 (--break 40,5): the input ended before it could be planned (no video key frames found); " +
        "the input's last key frame is at 25.0 s; the output was written without them",
    );
  });

  it("follows a break planned again under the same id after a PTS jump", () => {
    const t = new OfflineBreakTracker([
      { startSeconds: 10, durationSeconds: 5 },
      { startSeconds: 12, durationSeconds: 5 },
    ]);
    t.onEvent(planned(1, FIRST + 10 * S));
    t.onEvent(planned(2, FIRST + 12 * S));
    t.onEvent(planned(1, 3 * S)); // new time base: same id, earlier PTS
    t.onCueSent(cue("out", 1));
    t.onIdr(4 * S);
    const o = t.outcomes(FIRST);
    expect(o.map((b) => [b.placed, b.spliceEventId])).toEqual([
      [true, 1],
      [false, 2],
    ]);
    expect(breaksNotPlacedError(o)?.code).toBe("ONAIR_INJECT_BREAK_NOT_PLACED");
    expect(breaksNotPlacedError(o)?.message).toMatch(/^break 2 \(--break 12,5\): .*; the output was written without it$/);
  });

  it("is no error when every break is placed, or none was asked", () => {
    const t = new OfflineBreakTracker([{ startSeconds: 10, durationSeconds: 5 }]);
    t.onEvent(planned(1, 2 ** 33 - S)); // splice just before the PTS wrap, reached after it
    t.onCueSent(cue("out", 1));
    t.onIdr(S);
    expect(breaksNotPlacedError(t.outcomes(FIRST))).toBeUndefined();
    expect(breaksNotPlacedError(new OfflineBreakTracker([]).outcomes(-1))).toBeUndefined();
  });
});
