import { describe, expect, it } from "vitest";
import { KeyframeGrid } from "../../src/inject/grid.js";
import { CuePlanner, defaultCuePlanConfig, TICKS, type CueSpec, type PlannedCue } from "../../src/inject/planner.js";

function gridAt25fps(startPts = 0, seconds = 4): KeyframeGrid {
  const g = new KeyframeGrid();
  for (let i = 0; i < seconds * 25; i++) {
    const pts = startPts + i * 3600;
    g.observeFrame(pts);
    if (i % 25 === 0) g.observeIdr(pts);
  }
  return g;
}

/** Polls the way the injector does: only once nextDuePcr says something may be due. */
function run(planner: CuePlanner, fromPcr: number, toPcr: number, stepTicks = 900): Array<{ pcr: number; cue: PlannedCue }> {
  const sent: Array<{ pcr: number; cue: PlannedCue }> = [];
  for (let pcr = fromPcr; pcr <= toPcr; pcr += stepTicks) {
    const due = planner.nextDuePcr;
    if (due === Number.POSITIVE_INFINITY || (due !== Number.NEGATIVE_INFINITY && pcr < due)) continue;
    for (;;) {
      const cue = planner.poll(pcr);
      if (!cue) break;
      planner.sent(cue, pcr);
      sent.push({ pcr, cue });
    }
  }
  return sent;
}

const specs: CueSpec[] = [];
const encode = (s: CueSpec): Uint8Array => {
  specs.push(s);
  return Buffer.from(JSON.stringify(s));
};

describe("cue planning", () => {
  it("refuses a preroll under 4 s with ONAIR_CUE_PREROLL", () => {
    expect(() => defaultCuePlanConfig({ prerollTicks: 3 * TICKS })).toThrow(expect.objectContaining({ code: "ONAIR_CUE_PREROLL" }));
  });

  it("splices on the first IDR at or after the due time and sends 3 times, 1 s apart, from 6 s ahead", () => {
    let id = 100;
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => ++id);
    p.addBreak({ duePts: 20 * TICKS + 1234, durationTicks: 30 * TICKS });
    const sent = run(p, 4 * TICKS, 60 * TICKS);
    expect(p.planned).toHaveLength(1);
    const b = p.planned[0];
    expect(b.splicePts).toBe(21 * TICKS);
    expect(b.breakDurationTicks).toBe(30 * TICKS);
    expect(b.spliceEventId).toBe(101);
    const outs = sent.filter((s) => s.cue.kind === "out");
    expect(outs.map((s) => s.pcr)).toEqual([15 * TICKS, 16 * TICKS, 17 * TICKS]);
    for (const s of outs) expect(b.splicePts - s.pcr).toBeGreaterThanOrEqual(4 * TICKS);
    expect(new Set(outs.map((s) => s.cue.section))).toHaveLength(1);
    expect(p.counters.cuesSent.splice_insert).toBe(3);
    expect(p.counters.cuesRepeated).toBe(2);
  });

  it("drops a break whose splice_event_id cannot be stored, reports it, and plans the others", () => {
    let id = 100;
    let storeFails = true;
    const failed: Array<{ breakId?: string; code: unknown }> = [];
    const allocate = (): number => {
      if (storeFails) throw Object.assign(new Error("disk I/O error"), { code: "ONAIR_STORE_FAILED" });
      return ++id;
    };
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, allocate, {
      onFailed: (req, err) => failed.push({ breakId: req.breakId, code: (err as { code: unknown }).code }),
    });
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 10 * TICKS, breakId: "a" });
    p.addBreak({ duePts: 40 * TICKS, durationTicks: 10 * TICKS, breakId: "b", spliceEventId: 7 });
    expect(() => run(p, 4 * TICKS, 6 * TICKS)).not.toThrow();
    expect(failed).toEqual([{ breakId: "a", code: "ONAIR_STORE_FAILED" }]);
    expect(p.planned.map((b) => b.spliceEventId)).toEqual([7]);
    storeFails = false;
    p.addBreak({ duePts: 60 * TICKS, durationTicks: 10 * TICKS, breakId: "c" });
    run(p, 6 * TICKS, 8 * TICKS);
    expect(p.planned.map((b) => b.spliceEventId)).toEqual([7, 101]);
  });

  it("moves the return to the next IDR when the duration is not a whole number of periods", () => {
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 1);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30.5 * TICKS });
    run(p, 4 * TICKS, 10 * TICKS);
    expect(p.planned[0].breakDurationTicks).toBe(31 * TICKS);
  });

  it("moves a break that comes too soon for 4 s of lead to the first IDR that allows it", () => {
    const moved: number[] = [];
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 7, { onMoved: (b) => moved.push(b.splicePts) });
    p.addBreak({ duePts: 12 * TICKS, durationTicks: 30 * TICKS });
    const sent = run(p, 10 * TICKS, 30 * TICKS);
    expect(p.counters.breaksMoved).toBe(1);
    expect(moved).toEqual([15 * TICKS]);
    const outs = sent.filter((s) => s.cue.kind === "out");
    expect(outs).toHaveLength(3);
    expect(p.planned[0].splicePts - outs[0].pcr).toBeGreaterThanOrEqual(4 * TICKS);
    for (const s of outs) expect(p.planned[0].splicePts - s.pcr).toBeGreaterThan(0);
  });

  it("never sends a cue after its splice point, even with many repeats", () => {
    const p = new CuePlanner(defaultCuePlanConfig({ repeat: 20 }), gridAt25fps(), encode, () => 9);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 10 * TICKS });
    const sent = run(p, 4 * TICKS, 40 * TICKS, 450);
    expect(sent.length).toBeGreaterThan(3);
    for (const s of sent) expect(20 * TICKS - s.pcr).toBeGreaterThan(0);
    expect(p.counters.cuesDropped).toBeGreaterThan(0);
  });

  it("sends a return splice_insert with the same event id when auto_return is off", () => {
    specs.length = 0;
    const p = new CuePlanner(defaultCuePlanConfig({ autoReturn: false }), gridAt25fps(), encode, () => 55);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30 * TICKS });
    const sent = run(p, 4 * TICKS, 60 * TICKS);
    const ins = sent.filter((s) => s.cue.kind === "in");
    expect(ins).toHaveLength(3);
    expect(ins[0].cue.spec).toMatchObject({ command: "splice_insert", outOfNetwork: false, splicePts: 50 * TICKS, spliceEventId: 55 });
    expect(specs.find((s) => s.command === "splice_insert" && s.outOfNetwork)).not.toHaveProperty("breakDurationTicks", expect.any(Number));
  });

  it("plans time_signal start and end pairs with segmentation types", () => {
    const p = new CuePlanner(defaultCuePlanConfig({ mode: "time_signal" }), gridAt25fps(), encode, () => 3);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30 * TICKS, breakId: "ad-1" });
    const sent = run(p, 4 * TICKS, 60 * TICKS);
    const types = sent.map((s) => (s.cue.spec.command === "time_signal" ? s.cue.spec.segmentationTypeId : -1));
    expect(types.filter((t) => t === 0x34)).toHaveLength(3);
    expect(types.filter((t) => t === 0x35)).toHaveLength(3);
  });

  it("waits for the grid before planning", () => {
    const g = new KeyframeGrid();
    const p = new CuePlanner(defaultCuePlanConfig(), g, encode, () => 1);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30 * TICKS });
    expect(p.poll(TICKS)).toBeUndefined();
    expect(p.planned).toHaveLength(0);
    g.observeIdr(0);
    g.observeIdr(TICKS);
    p.poll(2 * TICKS);
    expect(p.planned).toHaveLength(1);
  });

  it("emits splice_null heartbeats at the configured interval", () => {
    const p = new CuePlanner(defaultCuePlanConfig({ heartbeatTicks: 5 * TICKS }), gridAt25fps(), encode, () => 1);
    const sent = run(p, 0, 31 * TICKS);
    const hb = sent.filter((s) => s.cue.kind === "heartbeat").map((s) => s.pcr);
    expect(hb).toEqual([5, 10, 15, 20, 25, 30].map((s) => s * TICKS));
  });

  it("cancels a planned break with the same event id, the cancel sent 3 times like other cues", () => {
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 42);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30 * TICKS });
    run(p, 4 * TICKS, 15 * TICKS);
    expect(p.cancel(42)).toBe(true);
    const sent = run(p, 15 * TICKS + 900, 30 * TICKS);
    expect(sent.map((s) => s.cue.kind)).toEqual(["cancel", "cancel", "cancel"]);
    expect(sent.map((s) => s.pcr)).toEqual([15 * TICKS + 900, 16 * TICKS, 17 * TICKS]);
    expect(sent[0].cue.spec).toEqual({ command: "splice_insert_cancel", spliceEventId: 42 });
  });

  for (const mode of ["splice_insert", "time_signal"] as const) {
    it(`returns early in ${mode} mode without auto_return: the planned in cue is replaced by one on the first IDR a preroll ahead`, () => {
      const p = new CuePlanner(defaultCuePlanConfig({ mode, autoReturn: false }), gridAt25fps(), encode, () => 42);
      p.addBreak({ duePts: 20 * TICKS, durationTicks: 60 * TICKS });
      run(p, 4 * TICKS, 25 * TICKS);
      expect(p.returnNow(42, 25 * TICKS + 100)).toBe(32 * TICKS); // 25 s + 6 s preroll → the IDR at 32 s
      const ins = run(p, 25 * TICKS + 900, 90 * TICKS).filter((s) => s.cue.kind === "in");
      expect(ins.map((s) => s.cue.splicePts)).toEqual([32 * TICKS, 32 * TICKS, 32 * TICKS]);
      expect(ins[0].cue.spec).toMatchObject(
        mode === "splice_insert" ? { outOfNetwork: false, spliceEventId: 42 } : { segmentationTypeId: 0x35, spliceEventId: 42 },
      );
      expect(p.planned[0]).toMatchObject({ returnPts: 32 * TICKS, breakDurationTicks: 12 * TICKS, returnedEarly: true });
      // too near the planned end (80 s): refused
      const q = new CuePlanner(defaultCuePlanConfig({ mode, autoReturn: false }), gridAt25fps(), encode, () => 43);
      q.addBreak({ duePts: 20 * TICKS, durationTicks: 60 * TICKS });
      run(q, 4 * TICKS, 75 * TICKS);
      expect(q.returnNow(43, 75 * TICKS)).toBe(-1);
    });
  }

  it("gives back breaks still ahead on a time-base change and plans them again under the same id", () => {
    let ids = 0;
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => ++ids);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 30 * TICKS });
    p.addBreak({ duePts: 9 * TICKS, durationTicks: 5 * TICKS });
    const sent = run(p, 2 * TICKS, 17.5 * TICKS);
    // both breaks went out completely; the 9 s one is past its splice point, the 20 s one is not
    expect(sent.filter((s) => s.cue.spliceEventId === 2)).toHaveLength(3);
    expect(sent.filter((s) => s.cue.spliceEventId === 1).map((s) => s.pcr)).toEqual([14 * TICKS, 15 * TICKS, 16 * TICKS]);
    const back = p.rebase(17.5 * TICKS);
    expect(back).toEqual([{ pts: 20 * TICKS, durationTicks: 30 * TICKS, breakId: undefined, spliceEventId: 1 }]);
    expect(p.upcoming).toHaveLength(0);
    // the new time base is 1000 s ahead
    expect(p.planned).toHaveLength(0);
    p.addBreak({ duePts: 1000 * TICKS + back[0].pts, durationTicks: back[0].durationTicks, spliceEventId: back[0].spliceEventId });
    const g2 = gridAt25fps(1000 * TICKS, 4);
    const p2 = p as unknown as { grid: KeyframeGrid };
    p2.grid = g2;
    const again = run(p, 1004 * TICKS, 1030 * TICKS);
    expect(again.map((s) => s.cue.spliceEventId)).toEqual([1, 1, 1]);
    expect(ids).toBe(2);
    expect(p.planned.filter((b) => b.spliceEventId === 1)).toHaveLength(1);
    expect(p.planned.find((b) => b.spliceEventId === 1)?.splicePts).toBe(1020 * TICKS);
    expect(p.counters.breaksReplanned).toBe(1);
  });

  it("counts a break as due at its splice point and reports the seconds to the next one", () => {
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 5);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 10 * TICKS });
    run(p, 4 * TICKS, 10 * TICKS);
    expect(p.secondsToNextSplice(10 * TICKS)).toBe(10);
    expect(p.counters.breaksDue).toBe(0);
    run(p, 10 * TICKS + 900, 20 * TICKS);
    expect(p.counters.breaksDue).toBe(1);
    expect(p.secondsToNextSplice(20 * TICKS)).toBeNull();
  });
});

describe("cue planning: late and dropped breaks", () => {
  type Dropped = { spliceEventId?: number | undefined; breakId?: string | undefined; reason: string };
  const watch = (): {
    late: Array<{ id: number; lateTicks: number }>;
    dropped: Dropped[];
    events: ConstructorParameters<typeof CuePlanner>[4];
  } => {
    const late: Array<{ id: number; lateTicks: number }> = [];
    const dropped: Dropped[] = [];
    return {
      late,
      dropped,
      events: {
        onLate: (b, lateTicks) => late.push({ id: b.spliceEventId, lateTicks }),
        onDropped: (b, reason) => dropped.push({ ...b, reason }),
      },
    };
  };

  it("reports a set-time break moved more than one GOP late, with how late", () => {
    const w = watch();
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 7, w.events);
    p.addBreak({ duePts: 11 * TICKS, durationTicks: 30 * TICKS });
    run(p, 10 * TICKS, 12 * TICKS);
    expect(w.late).toEqual([{ id: 7, lateTicks: 4 * TICKS }]);
  });

  it("does not report a move of one GOP or less, nor an immediate break", () => {
    const w = watch();
    let id = 0;
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => ++id, w.events);
    p.addBreak({ duePts: 14 * TICKS, durationTicks: 30 * TICKS });
    p.addImmediateBreak(30 * TICKS, undefined, undefined, 10 * TICKS);
    run(p, 10 * TICKS, 12 * TICKS);
    expect(p.counters.breaksMoved).toBe(1);
    expect(p.planned).toHaveLength(2);
    expect(w.late).toEqual([]);
  });

  it("does not report an immediate break late when a time-base change plans it again with less lead", () => {
    const w = watch();
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 3, w.events);
    p.addImmediateBreak(30 * TICKS, undefined, undefined, 10 * TICKS);
    run(p, 10 * TICKS, 11 * TICKS);
    const [back] = p.rebase(11 * TICKS);
    expect(back).toMatchObject({ spliceEventId: 3, asap: true });
    // the new time base comes 8 s later: its old splice point now has under 4 s of lead
    p.addBreak({ duePts: back.pts, durationTicks: back.durationTicks, spliceEventId: back.spliceEventId, asap: back.asap });
    run(p, back.pts - 2 * TICKS, back.pts);
    expect(p.counters.breaksMoved).toBe(1);
    expect(w.late).toEqual([]);
  });

  it("reports a break whose out cue could not go out once before the splice point", () => {
    const w = watch();
    const p = new CuePlanner(defaultCuePlanConfig(), gridAt25fps(), encode, () => 9, w.events);
    p.addBreak({ duePts: 20 * TICKS, durationTicks: 10 * TICKS, breakId: "b1" });
    run(p, 4 * TICKS, 5 * TICKS);
    expect(p.planned).toHaveLength(1);
    // the stream stalls: no poll until the splice point is too close
    expect(p.poll(20 * TICKS - 100)).toBeUndefined();
    expect(w.dropped).toEqual([{ spliceEventId: 9, breakId: "b1", reason: "its cue could not be sent before the splice point" }]);
  });

  it("gives up a break with no IDR in reach 10 s after it was due, and an immediate one 10 s after its preroll", () => {
    const w = watch();
    const p = new CuePlanner(defaultCuePlanConfig(), new KeyframeGrid(), encode, () => 1, w.events);
    p.addBreak({ duePts: 5 * TICKS, durationTicks: 10 * TICKS, breakId: "b2", spliceEventId: 4 });
    p.addImmediateBreak(10 * TICKS, undefined, 5, 0);
    run(p, 0, 15 * TICKS);
    expect(w.dropped).toEqual([]);
    run(p, 15 * TICKS + 900, 16 * TICKS + 900);
    expect(w.dropped.map((d) => [d.spliceEventId, d.breakId])).toEqual([
      [4, "b2"],
      [5, undefined],
    ]);
    expect(w.dropped[0].reason).toMatch(/^no IDR in reach/);
    expect(p.planned).toEqual([]);
  });
});
