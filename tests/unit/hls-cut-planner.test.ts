/**
 * Cue sections → cut decisions (src/hls/cues.ts + cut-planner.ts), with sections made by
 * our SCTE-35 builders: splice_insert out/in/cancel, time_signal start/end, repeats.
 */
import { describe, expect, it } from "vitest";
import { cueAction } from "../../src/hls/cues.js";
import { CutPlanner } from "../../src/hls/cut-planner.js";
import { encodeSpliceInfoSection, segmentationDescriptor, spliceInsert, spliceNull, timeSignal } from "../../src/scte35/index.js";

const S = 90_000;
const out = (id: number, pts: number, dur?: number): Uint8Array =>
  encodeSpliceInfoSection(
    spliceInsert({ spliceEventId: id, outOfNetworkIndicator: true, ptsTime: pts, breakDuration: dur, autoReturn: dur !== undefined }),
  );
const back = (id: number, pts: number): Uint8Array =>
  encodeSpliceInfoSection(spliceInsert({ spliceEventId: id, outOfNetworkIndicator: false, ptsTime: pts }));

/** Feeds IDRs every second from 0 to `seconds`; returns "t:out|in|cont|-" for each cut. */
function run(p: CutPlanner, seconds: number, cues: Array<[number, Uint8Array]> = []): string[] {
  const cuts: string[] = [];
  for (let t = 0; t <= seconds; t++) {
    for (const [at, c] of cues) if (at === t) p.addCue(cueAction(c)!, t * S);
    for (const c of p.onIdr(t * S, t === 0)) {
      if (c.previous) throw new Error("no look-back expected on a 1 s grid");
      const cue = c.cue;
      cuts.push(`${t}:${cue?.in ? "in" : ""}${cue?.out ? "out" : ""}${cue?.cont ? "cont" : ""}` || `${t}`);
    }
  }
  return cuts.map((c) => (c.endsWith(":") ? c.slice(0, -1) : c));
}

describe("HLS cut planner", () => {
  it("cuts at the splice and at splice + break_duration with auto_return, once for repeated cues", () => {
    const c = out(1, 5 * S, 4 * S);
    expect(
      run(new CutPlanner(6), 15, [
        [0, c],
        [1, c],
        [2, c],
      ]),
    ).toEqual(["0", "5:out", "9:in", "15"]);
  });

  it("returns at the in-cue when there is no auto_return, and an early in-cue moves the return", () => {
    expect(
      run(new CutPlanner(6), 14, [
        [0, out(2, 3 * S)],
        [4, back(2, 7 * S)],
      ]),
    ).toEqual(["0", "3:out", "7:in", "13"]);
    expect(
      run(new CutPlanner(3), 12, [
        [0, out(3, 2 * S, 8 * S)],
        [3, back(3, 4 * S)],
      ]),
    ).toEqual(["0", "2:out", "4:in", "7", "10"]);
  });

  it("marks the segments inside a long break as cont", () => {
    expect(run(new CutPlanner(2), 9, [[0, out(4, 1 * S, 7 * S)]])).toEqual(["0", "1:out", "3:cont", "5:cont", "7:cont", "8:in"]);
  });

  it("drops a break cancelled before its splice point", () => {
    const cancel = encodeSpliceInfoSection(spliceInsert({ spliceEventId: 5, cancel: true }));
    expect(
      run(new CutPlanner(6), 12, [
        [0, out(5, 5 * S, 3 * S)],
        [2, cancel],
      ]),
    ).toEqual(["0", "6", "12"]);
  });

  it("reads a time_signal placement opportunity start/end pair as a break, and ignores other commands", () => {
    const seg = (type: number, duration?: number): Uint8Array =>
      encodeSpliceInfoSection(
        timeSignal({
          ptsTime: type === 0x34 ? 2 * S : 5 * S,
          descriptors: [segmentationDescriptor({ segmentationEventId: 9, segmentationTypeId: type, segmentationDuration: duration })],
        }),
      );
    expect(cueAction(seg(0x34, 3 * S))).toMatchObject({
      kind: "out",
      eventKey: "segment:9",
      pts: 2 * S,
      durationTicks: 3 * S,
      autoReturn: true,
    });
    expect(cueAction(seg(0x35))).toMatchObject({ kind: "in", eventKey: "segment:9", pts: 5 * S });
    expect(
      run(new CutPlanner(6), 8, [
        [0, seg(0x34)],
        [1, seg(0x35)],
      ]),
    ).toEqual(["0", "2:out", "5:in"]);
    expect(cueAction(encodeSpliceInfoSection(spliceNull()))).toBeUndefined();
    expect(cueAction(Uint8Array.of(0xfc, 0x30, 0x00))).toBeUndefined();
  });

  it("ignores a cue whose splice time is already more than a second behind the video", () => {
    const p = new CutPlanner(6);
    p.onIdr(0, true);
    p.addCue(cueAction(out(6, 1 * S, 2 * S))!, 5 * S);
    expect(p.onIdr(6 * S, false).map((c) => c.cue)).toEqual([undefined]);
  });
});
