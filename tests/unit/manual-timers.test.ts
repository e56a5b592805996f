import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { ManualTimers } from "../helpers/manual-timers.js";

describe("ManualTimers", () => {
  it("fires timeouts in due order and moves the clock to each", () => {
    const clock = new ManualClock(1000, 0);
    const t = new ManualTimers(clock);
    const seen: [string, number][] = [];
    t.setTimeout(() => seen.push(["b", clock.monotonic()]), 20);
    t.setTimeout(() => seen.push(["a", clock.monotonic()]), 10);
    const gone = t.setTimeout(() => seen.push(["x", clock.monotonic()]), 15);
    t.clearTimeout(gone);
    t.advance(25);
    expect(seen).toEqual([
      ["a", 10],
      ["b", 20],
    ]);
    expect(clock.monotonic()).toBe(25);
    expect(clock.now()).toBe(1025);
    expect(t.size).toBe(0);
  });
  it("repeats intervals until cleared", () => {
    const t = new ManualTimers();
    let n = 0;
    const h = t.setInterval(() => n++, 100);
    t.advance(350);
    expect(n).toBe(3);
    t.clearInterval(h);
    t.advance(1000);
    expect(n).toBe(3);
  });
  it("fireNext reports the delay and whenPending waits for a timer", async () => {
    const t = new ManualTimers();
    expect(t.fireNext()).toBeUndefined();
    const waiting = t.whenPending();
    t.setTimeout(() => undefined, 42);
    await waiting;
    expect(t.delays()).toEqual([42]);
    expect(t.fireNext()).toBe(42);
  });
});
