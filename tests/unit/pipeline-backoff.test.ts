import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/core/backoff.js";
import { ManualClock } from "../../src/core/clock.js";

/** A deterministic uniform source (LCG) so property-style loops are reproducible. */
function lcg(seed = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("Backoff", () => {
  it("keeps every decorrelated delay within [min, max]", () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, random: lcg(7), clock: new ManualClock() });
    let prev = 500;
    for (let i = 0; i < 2000; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(30_000);
      expect(d).toBeLessThanOrEqual(Math.max(500, prev * 3));
      prev = d;
    }
  });

  it("grows from min toward the cap with decorrelated jitter", () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 0.999999 });
    const seq = Array.from({ length: 8 }, () => b.next());
    expect(seq[0]).toBeCloseTo(750, 0); // the first retry stays near min: [min, 1.5 min]
    expect(seq[1]).toBeCloseTo(2250, 0);
    expect(seq[2]).toBeCloseTo(6750, 0);
    expect(seq[3]).toBeCloseTo(20_250, 0);
    expect(seq.slice(4)).toEqual([30_000, 30_000, 30_000, 30_000]);
  });

  it("never goes below min, even with random() = 0", () => {
    for (const jitter of ["decorrelated", "full"] as const) {
      const b = new Backoff({ minMs: 100, maxMs: 1000, jitter, random: () => 0 });
      for (let i = 0; i < 50; i++) expect(b.next()).toBe(100);
    }
  });

  it("caps full jitter at min·2^n and at max", () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, jitter: "full", random: lcg(3) });
    for (let n = 0; n < 200; n++) {
      const bound = Math.min(30_000, 500 * 2 ** n);
      expect(b.upperBound()).toBe(bound);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(bound);
    }
  });

  it("doubles without jitter and stops at the cap", () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, jitter: "none" });
    expect(Array.from({ length: 9 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.attempt).toBe(9);
  });

  it("resets after a run that lasted the stable period", () => {
    const clock = new ManualClock();
    const b = new Backoff({ minMs: 500, maxMs: 30_000, jitter: "none", stableAfterMs: 60_000, clock });
    for (let i = 0; i < 5; i++) {
      b.started();
      clock.advance(1000);
      b.next();
    }
    expect(b.attempt).toBe(5);
    b.started();
    clock.advance(59_999);
    expect(b.isStable()).toBe(false);
    expect(b.next()).toBe(16_000); // not yet stable: keeps growing
    b.started();
    clock.advance(60_000);
    expect(b.isStable()).toBe(true);
    expect(b.next()).toBe(500); // stable run: back to the first delay
    expect(b.attempt).toBe(1);
    expect(b.resets).toBe(1);
  });

  it("does not reset when no run was started (a spawn that never ran)", () => {
    const clock = new ManualClock();
    const b = new Backoff({ minMs: 100, maxMs: 10_000, jitter: "none", stableAfterMs: 1000, clock });
    b.next();
    clock.advance(5000);
    expect(b.next()).toBe(200);
  });

  it("rejects min > max", () => {
    expect(() => new Backoff({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});
