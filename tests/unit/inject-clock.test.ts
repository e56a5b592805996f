import { describe, expect, it } from "vitest";
import { StreamClock } from "../../src/inject/clock.js";
import { PTS_MODULUS } from "../../src/ts/timestamps.js";

describe("stream clock", () => {
  it("interpolates the PCR between PCR packets from the packet rate", () => {
    const c = new StreamClock(0);
    c.onPcr(63000 * 300, 0);
    c.onPcr((63000 + 1800) * 300, 10); // 20 ms over 10 packets
    expect(c.now(15)).toBe(63000 + 1800 + 900);
    expect(c.packetRate).toBe(500);
  });

  it("maps wall time and stream time both ways from the start time", () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    const c = new StreamClock(start);
    c.onPcr(90000 * 300, 0);
    expect(c.wallAt(90000 + 90000 * 60)).toBe(start + 60_000);
    expect(c.ptsForWall(start + 2_500)).toBe(90000 + 225000);
  });

  it("keeps time across the 33-bit wrap without reporting a jump", () => {
    const c = new StreamClock(1000);
    const near = PTS_MODULUS - 900;
    c.onPcr(near * 300, 0);
    c.onPcr(((near + 1800) % PTS_MODULUS) * 300, 10);
    expect(c.jumps).toBe(0);
    expect(c.now(10)).toBe(900);
    expect(c.wallAt(900)).toBe(1000 + 20);
  });

  it("re-anchors on a PCR jump, reports it and lets wall time continue", () => {
    const seen: number[] = [];
    const c = new StreamClock(0, { onJump: (j) => seen.push(j.toPcr) });
    c.onPcr(0, 0);
    c.onPcr(1800 * 300, 10);
    c.onPcr(5_000_000 * 300, 20); // FFmpeg restarted with another time base
    expect(c.jumps).toBe(1);
    expect(seen).toEqual([5_000_000]);
    expect(c.wallAt(5_000_000)).toBeCloseTo(40, 5);
  });
});
