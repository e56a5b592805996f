/**
 * A channel's outage rules (src/pipeline/channel-outage.ts), driven by hand: switches of the
 * switcher, FFmpeg exits and replacements, with a manual clock and the helpers' ManualTimers.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { OutageTracker, QUIET_REPLACE_MS, QuietSlate } from "../../src/pipeline/channel-outage.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
const STABLE_MS = 5000;

function tracker(o: { networkInput?: boolean } = {}) {
  const clock = new ManualClock(T0, 0);
  const timers = new ManualTimers(clock);
  const events: Array<[string, unknown]> = [];
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: "info" }, { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
  let restarts = 0;
  const t = new OutageTracker({
    clock,
    timers,
    log,
    stableAfterMs: STABLE_MS,
    networkInput: o.networkInput ?? false,
    restarts: () => restarts,
    on: {
      slate: (e) => events.push(["slate", e]),
      inputLost: (e) => events.push(["input_lost", e]),
      inputRestored: (e) => events.push(["input_restored", e]),
      recovered: (e) => events.push(["recovered", e]),
      state: (s) => events.push(["state", s]),
    },
  });
  const names = (): string[] => events.map(([n, e]) => (n === "state" ? `state:${String(e)}` : n));
  return { t, clock, timers, events, logs, names, crash: () => restarts++ };
}

describe("QuietSlate", () => {
  it("expects the slate only within its window after a replacement, and ends with live back", () => {
    const q = new QuietSlate(1000);
    expect(q.switched("slate", 0)).toBe(false); // no replacement: an outage
    q.replaced(100);
    expect(q.switched("slate", 600)).toBe(true);
    expect(q.overdue(1099)).toBe(false);
    expect(q.overdue(1100)).toBe(true);
    expect(q.switched("live", 1050)).toBe(true); // the end of the planned gap
    expect(q.overdue(5000)).toBe(false);
    expect(q.switched("slate", 1060)).toBe(false); // the window closed with live back
  });

  it("says at its end whether a quiet slate was on air", () => {
    const q = new QuietSlate();
    q.replaced(0);
    expect(q.end()).toBe(false); // replaced, but the slate never came
    q.replaced(0);
    q.switched("slate", 10);
    expect(q.end()).toBe(true);
    expect(q.end()).toBe(false);
  });
});

describe("OutageTracker", () => {
  it("starts an outage at the switch to the slate and ends it once live has stayed on air for stableAfterMs", () => {
    const { t, clock, timers, events, names, crash } = tracker();
    t.switched("live", { gapMs: 0, reason: "live" });
    expect(timers.size).toBe(0); // no outage: nothing to recover from
    t.switched("slate", { gapMs: 300, reason: "live silent" });
    crash();
    clock.advance(2000);
    t.switched("live", { gapMs: 0, reason: "live back" });
    timers.advance(STABLE_MS - 1);
    expect(names()).toEqual(["slate", "state:on_air", "slate", "state:off_air", "slate", "state:on_air"]);
    timers.advance(1);
    expect(events.at(-1)).toEqual(["recovered", { outageMs: 2000, restarts: 1 }]);
  });

  it("does not recover a channel that fails again before it was stable; the outage runs from its first start", () => {
    const { t, clock, timers, events } = tracker();
    t.liveExited(); // the outage starts at the exit
    clock.advance(1000);
    t.switched("slate", { gapMs: 300, reason: "live exited" });
    clock.advance(1000);
    t.switched("live", { gapMs: 0, reason: "live back" });
    timers.advance(STABLE_MS - 1000);
    t.liveExited(); // flapping: the stable-run wait is cancelled
    expect(timers.size).toBe(0);
    t.switched("slate", { gapMs: 300, reason: "live exited" });
    clock.advance(3000);
    t.switched("live", { gapMs: 0, reason: "live back" });
    timers.advance(STABLE_MS);
    const recovered = events.filter(([n]) => n === "recovered");
    expect(recovered).toEqual([["recovered", { outageMs: 2000 + (STABLE_MS - 1000) + 3000, restarts: 0 }]]);
  });

  it("reports a network input that went silent once per outage, and restored with the time it was down", () => {
    const { t, clock, events } = tracker({ networkInput: true });
    t.switched("slate", { gapMs: 300, reason: "live silent" });
    t.inputLost("silent"); // the stall watchdog as well: still one
    clock.advance(4000);
    t.switched("live", { gapMs: 0, reason: "live back" });
    expect(events.filter(([n]) => n.startsWith("input"))).toEqual([
      ["input_lost", { reason: "silent", detail: undefined }],
      ["input_restored", { downMs: 4000 }],
    ]);
  });

  it("does not call a file input's quiet FFmpeg a lost input", () => {
    const { t, names } = tracker({ networkInput: false });
    t.switched("slate", { gapMs: 300, reason: "live silent" });
    expect(names()).toEqual(["slate", "state:off_air"]);
  });

  it("keeps the planned gap of a replaced run quiet: no slate event, no outage, a planned log line", () => {
    const { t, clock, timers, logs, names } = tracker();
    t.liveReplaced();
    clock.advance(500);
    t.switched("slate", { gapMs: 300, reason: "live replaced" });
    clock.advance(1500);
    t.tick();
    t.switched("live", { gapMs: 0, reason: "live back" });
    expect(names()).toEqual([]);
    expect(timers.size).toBe(0);
    expect(logs.filter((l) => l.event === "slate_on" || l.event === "slate_off").map((l) => l.planned)).toEqual([true, true]);
  });

  it("reports a quiet slate still on air after its window as an outage", () => {
    const { t, clock, timers, events, logs } = tracker();
    t.liveReplaced();
    t.switched("slate", { gapMs: 300, reason: "live replaced" });
    clock.advance(QUIET_REPLACE_MS - 1);
    t.tick();
    expect(events).toEqual([]);
    clock.advance(1);
    t.tick();
    expect(events).toEqual([
      ["slate", { on: true, gapMs: 0, reason: "replaced_run_not_back" }],
      ["state", "slate"],
    ]);
    expect(logs.at(-1)).toMatchObject({ event: "slate_on", reason: "replaced_run_not_back", level: 40 });
    clock.advance(1000);
    t.switched("live", { gapMs: 0, reason: "live back" });
    timers.advance(STABLE_MS);
    expect(events.at(-1)).toEqual(["recovered", { outageMs: 1000, restarts: 0 }]);
  });

  it("reports a quiet slate at once when the replacement crashes", () => {
    const { t, events } = tracker();
    t.liveReplaced();
    t.switched("slate", { gapMs: 300, reason: "live replaced" });
    t.liveExited();
    expect(events).toEqual([
      ["slate", { on: true, gapMs: 0, reason: "live_exited" }],
      ["state", "slate"],
    ]);
  });

  it("treats a slate after the quiet window as any outage", () => {
    const { t, clock, names } = tracker();
    t.liveReplaced();
    clock.advance(QUIET_REPLACE_MS);
    t.switched("slate", { gapMs: 300, reason: "live silent" });
    expect(names()).toEqual(["slate", "state:off_air"]);
  });

  it("stop() cancels a pending recovery", () => {
    const { t, timers, events } = tracker();
    t.switched("slate", { gapMs: 300, reason: "live silent" });
    t.switched("live", { gapMs: 0, reason: "live back" });
    expect(timers.size).toBe(1);
    t.stop();
    timers.advance(STABLE_MS * 2);
    expect(events.some(([n]) => n === "recovered")).toBe(false);
  });
});
