/**
 * Early return and cancel of a break in the real Injector (issue #21), over a synthetic
 * stream (tests/helpers/synth-ts.ts, an IDR every 2 s), the output scanned from the packets
 * (tests/helpers/tsscan.ts) and its SCTE-35 sections decoded with our codec.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_SCTE35_PID, Injector } from "../../src/inject/injector.js";
import { TICKS, defaultCuePlanConfig } from "../../src/inject/planner.js";
import { decodeSpliceInfoSection } from "../../src/scte35/section.js";
import type { SpliceInsert } from "../../src/scte35/types.js";
import { ptsAdd, ptsDiff } from "../../src/ts/timestamps.js";
import { synthStream } from "../helpers/synth-ts.js";
import { scanTs } from "../helpers/tsscan.js";

const START = Date.UTC(2026, 11, 7, 7, 0, 0);
/** The synthetic stream's video PTS of its first frame (PCR 63 000 + 0.7 s mux delay) and its IDR period. */
const FIRST_PTS = 63_000 + 63_000;
const IDR_TICKS = 2 * TICKS;

interface Cue {
  /** packet index in the output */
  packet: number;
  insert: SpliceInsert;
  /** splice PTS with pts_adjustment applied, or undefined */
  pts?: number;
}

function harness(cue = defaultCuePlanConfig()) {
  let id = 100;
  const inj = new Injector({ cue, allocateEventId: () => ++id, startWall: START });
  const stream = synthStream();
  const out: Buffer[] = [];
  return {
    inj,
    feed(seconds: number): void {
      for (let s = 0; s < seconds; s++) {
        const chunk = stream.next().value as Buffer;
        inj.process(chunk, 0, chunk.length / 188, (b) => out.push(Buffer.from(b)), false);
      }
    },
    /** the splice_insert sections in the output so far */
    cues(): Cue[] {
      const scan = scanTs(Buffer.concat(out), [DEFAULT_SCTE35_PID]);
      const res: Cue[] = [];
      for (const s of scan.sections) {
        const sec = decodeSpliceInfoSection(s.bytes);
        if (sec.encryptedPacket || sec.spliceCommandType !== 0x05) continue;
        const t = sec.spliceCommand.spliceTime?.ptsTime;
        res.push({ packet: s.packet, insert: sec.spliceCommand, ...(t !== undefined ? { pts: ptsAdd(t, sec.ptsAdjustment) } : {}) });
      }
      return res;
    },
  };
}

const isIdr = (pts: number): boolean => ptsDiff(pts, FIRST_PTS) % IDR_TICKS === 0;

describe("injector: early return", () => {
  it("returns a break on air on the first IDR a preroll ahead, with out_of_network_indicator 0 and the same id", () => {
    const h = harness();
    h.feed(2);
    h.inj.addImmediateBreak(60 * TICKS, undefined, 7);
    h.feed(12);
    const plan = h.inj.planner.planned.find((b) => b.spliceEventId === 7)!;
    const now = h.inj.clock.now(h.inj.counters.packetsIn - 1);
    expect(ptsDiff(now, plan.splicePts)).toBeGreaterThan(0); // on air
    const back = h.inj.returnBreak(7);
    expect(back).toBeGreaterThan(0);
    // the first IDR at or after now + the 6 s preroll
    expect(isIdr(back)).toBe(true);
    expect(ptsDiff(back, now)).toBeGreaterThanOrEqual(6 * TICKS);
    expect(ptsDiff(back, now)).toBeLessThan(6 * TICKS + IDR_TICKS);
    h.feed(10);
    const ins = h.cues().filter((c) => c.insert.outOfNetworkIndicator === false);
    expect(ins).toHaveLength(3);
    for (const c of ins) {
      expect(c.insert.spliceEventId).toBe(7);
      expect(c.insert.spliceEventCancelIndicator).toBe(false);
      expect(c.insert.durationFlag).toBe(false);
      expect(c.pts).toBe(back);
    }
    expect(h.inj.planner.planned.find((b) => b.spliceEventId === 7)).toMatchObject({ returnPts: back, returnedEarly: true });
    // a second return, once back, is refused
    expect(h.inj.returnBreak(7)).toBe(-1);
  });

  it("refuses a return for a break not on air yet, or unknown", () => {
    const h = harness();
    h.feed(2);
    h.inj.addImmediateBreak(30 * TICKS, undefined, 7);
    h.feed(2);
    expect(h.inj.returnBreak(7)).toBe(-1);
    expect(h.inj.returnBreak(99)).toBe(-1);
    h.feed(10);
    expect(h.cues().filter((c) => c.insert.outOfNetworkIndicator === false)).toEqual([]);
  });
});

describe("injector: cancel", () => {
  it("cancels a pending break after its first out cue: cancel sections, no out cue afterwards", () => {
    const h = harness();
    h.feed(2);
    h.inj.addImmediateBreak(30 * TICKS, undefined, 7);
    h.feed(2); // the first out cue goes out at once (6 s preroll), the next two 1 s apart
    const before = h.cues();
    expect(before.filter((c) => c.insert.outOfNetworkIndicator === true).length).toBeGreaterThanOrEqual(1);
    expect(h.inj.cancelBreak(7)).toBe(true);
    h.feed(12);
    const after = h.cues().slice(before.length);
    expect(after.length).toBe(3);
    for (const c of after) {
      expect(c.insert).toMatchObject({ spliceEventId: 7, spliceEventCancelIndicator: true });
      expect(c.insert.outOfNetworkIndicator).toBeUndefined();
    }
    expect(h.inj.planner.planned.find((b) => b.spliceEventId === 7)).toBeUndefined();
    // once cancelled, or once aired, it is no longer pending
    expect(h.inj.cancelBreak(7)).toBe(false);
  });

  it("cancels a break asked for later before any cue: only the cancel goes out", () => {
    const h = harness();
    h.feed(2);
    h.inj.addBreakAtWall(START + 30_000, 10 * TICKS, undefined, 8);
    h.feed(2);
    expect(h.inj.cancelBreak(8)).toBe(true);
    h.feed(40);
    const cues = h.cues();
    expect(cues.map((c) => c.insert.spliceEventCancelIndicator)).toEqual([true, true, true]);
  });

  it("refuses to cancel a break past its splice point", () => {
    const h = harness();
    h.feed(2);
    h.inj.addImmediateBreak(30 * TICKS, undefined, 7);
    h.feed(12);
    expect(h.inj.cancelBreak(7)).toBe(false);
    expect(h.cues().some((c) => c.insert.spliceEventCancelIndicator)).toBe(false);
  });
});
