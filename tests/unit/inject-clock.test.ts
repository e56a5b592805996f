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

  it("keeps wall time right after running longer than half a PTS wrap (13 h 15 min) on one time base", () => {
    const start = Date.UTC(2026, 11, 7, 0, 0, 0);
    const c = new StreamClock(start);
    // a PCR every 100 ms (9000 ticks) for 30 h, across the 33-bit wrap at 26 h 30 min
    const step = 9000;
    let pcr = 63_000;
    for (let i = 0; i <= 30 * 36_000; i++, pcr = (pcr + step) % PTS_MODULUS) {
      c.onPcr(pcr * 300, i * 10);
      if (i % 36_000 === 0) expect(c.wallAt(c.now(i * 10)), `after ${i / 36_000} h`).toBeCloseTo(start + i * 100, 0);
    }
    expect(c.jumps).toBe(0);
    // and the PTS of a wall time one minute ahead is one minute ahead of the present
    const now = c.now(30 * 36_000 * 10);
    expect(c.ptsForWall(start + 30 * 3_600_000 + 60_000)).toBe((now + 60 * 90_000) % PTS_MODULUS);
  });
});
