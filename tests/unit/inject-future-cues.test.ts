/**
 * Cues in the injector far from "now": a wall-clock break beyond the 33-bit PTS range is
 * kept in wall time (never folded into a PTS one wrap early), and an immediate break is
 * timed from the stream's present, not from the planner's last look at it. Driven over a
 * synthetic stream (tests/helpers/synth-ts.ts) whose start wall is injected.
 */
import { describe, expect, it } from "vitest";
import { Injector, type InjectorEvent } from "../../src/inject/injector.js";
import { TICKS, defaultCuePlanConfig } from "../../src/inject/planner.js";
import { PTS_MODULUS } from "../../src/ts/timestamps.js";
import { synthStream } from "../helpers/synth-ts.js";

const START = Date.UTC(2026, 11, 7, 1, 52, 49);
/** One PTS wrap in seconds: 2^33 / 90 kHz = 95 443.7 s. */
const WRAP_SECONDS = PTS_MODULUS / TICKS;

interface Run {
  inj: Injector;
  events: InjectorEvent[];
  /** feeds `seconds` more of the stream */
  feed(seconds: number): void;
}

function run(over: Partial<ConstructorParameters<typeof Injector>[0]> = {}, cue = defaultCuePlanConfig()): Run {
  let id = 100;
  const events: InjectorEvent[] = [];
  const inj = new Injector({ cue, allocateEventId: () => ++id, startWall: START, onEvent: (e) => events.push(e), ...over });
  const stream = synthStream();
  return {
    inj,
    events,
    feed(seconds) {
      for (let s = 0; s < seconds; s++) {
        const chunk = stream.next().value as Buffer;
        inj.process(chunk, 0, chunk.length / 188, () => undefined, true);
      }
    },
  };
}

const sent = (r: Run): InjectorEvent[] => r.events.filter((e) => e.event === "cue_sent");

describe("injector: breaks far ahead", () => {
  it("does not air a break one PTS wrap + 50 s ahead within the next 90 s", () => {
    const r = run();
    r.feed(1);
    r.inj.addBreakAtWall(START + (WRAP_SECONDS + 50) * 1000, 30 * TICKS, undefined, 7);
    r.feed(90);
    expect(sent(r)).toEqual([]);
    expect(r.inj.planner.planned).toEqual([]);
    // a break 50 s ahead in the same stream does air, at its time (the control)
    r.inj.addBreakAtWall(START + 141_000, 30 * TICKS, undefined, 8);
    r.feed(60);
    const out = sent(r).filter((e) => e.kind === "out");
    expect(out.map((e) => e.spliceEventId)).toEqual([8, 8, 8]);
    const plan = r.inj.planner.planned.find((b) => b.spliceEventId === 8)!;
    expect(r.inj.clock.wallAt(plan.splicePts)).toBeGreaterThanOrEqual(START + 141_000);
    expect(r.inj.clock.wallAt(plan.splicePts)).toBeLessThan(START + 143_000);
  });

  it("plans a break beyond its reach once it comes within reach, at its wall time", () => {
    const r = run({ wallReachMs: 30_000 });
    r.feed(1);
    r.inj.addBreakAtWall(START + 61_000, 10 * TICKS, undefined, 9);
    r.feed(20);
    expect(r.inj.planner.planned).toEqual([]);
    r.feed(45);
    const plan = r.inj.planner.planned.find((b) => b.spliceEventId === 9)!;
    expect(r.inj.clock.wallAt(plan.requestedPts)).toBe(START + 61_000);
    expect(
      sent(r)
        .filter((e) => e.kind === "out")
        .map((e) => e.spliceEventId),
    ).toEqual([9, 9, 9]);
  });
});

describe("injector: immediate breaks", () => {
  it("takes an immediate break's requested time from the stream's present, without a break_moved warning", () => {
    // a heartbeat every 120 s: the planner looks at the stream only that often
    const r = run({}, defaultCuePlanConfig({ heartbeatTicks: 120 * TICKS }));
    r.feed(70);
    const asked = r.inj.clock.wallAt(r.inj.clock.now(r.inj.counters.packetsIn - 1));
    r.inj.addImmediateBreak(30 * TICKS, undefined, 11);
    r.feed(15);
    const plan = r.inj.planner.planned.find((b) => b.spliceEventId === 11)!;
    expect(Math.abs(r.inj.clock.wallAt(plan.requestedPts) - asked)).toBeLessThanOrEqual(100);
    expect(r.events.filter((e) => e.event === "break_moved")).toEqual([]);
    // the splice is the first IDR after the 6 s preroll
    const lead = (r.inj.clock.wallAt(plan.splicePts) - asked) / 1000;
    expect(lead).toBeGreaterThanOrEqual(6);
    expect(lead).toBeLessThan(8.1);
  });
});
