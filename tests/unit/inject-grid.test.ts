import { describe, expect, it } from "vitest";
import { KeyframeGrid } from "../../src/inject/grid.js";
import { PTS_MODULUS, ptsAdd } from "../../src/ts/timestamps.js";

function feed(grid: KeyframeGrid, start: number, frames: number, frameTicks: number, isIdr: (i: number) => boolean): number[] {
  const idrs: number[] = [];
  for (let i = 0; i < frames; i++) {
    const pts = ptsAdd(start, i * frameTicks);
    grid.observeFrame(pts);
    if (isIdr(i)) {
      grid.observeIdr(pts);
      idrs.push(pts);
    }
  }
  return idrs;
}

describe("key-frame grid", () => {
  it("is not ready before two IDRs", () => {
    const g = new KeyframeGrid();
    expect(g.ready).toBe(false);
    expect(g.predictAtOrAfter(1000)).toBe(-1);
    g.observeIdr(133200);
    expect(g.ready).toBe(false);
  });

  it("learns a 1 s grid at 25 fps and predicts the first IDR at or after a time", () => {
    const g = new KeyframeGrid();
    feed(g, 133200, 100, 3600, (i) => i % 25 === 0);
    expect(g.period).toBe(90000);
    expect(g.frameDuration).toBe(3600);
    expect(g.exact).toBe(true);
    // last IDR at 133200 + 75*3600 = 403200; a time inside the next second → the IDR after
    expect(g.predictAtOrAfter(403201)).toBe(493200);
    expect(g.predictAtOrAfter(493200)).toBe(493200);
    expect(g.predictAtOrAfter(133200 + 10 * 90000 + 5)).toBe(133200 + 11 * 90000);
  });

  it("predicts across the 33-bit wrap", () => {
    const g = new KeyframeGrid();
    const start = PTS_MODULUS - 5 * 90000;
    feed(g, start, 100, 3600, (i) => i % 25 === 0);
    // the 4 IDRs are at start + k s; the next ones lie past the wrap
    const p = g.predictAtOrAfter(ptsAdd(start, 7 * 90000 + 1));
    expect(p).toBe(ptsAdd(start, 8 * 90000));
    expect(p).toBeLessThan(start);
  });

  it("snaps predictions to the frame lattice for a grid that is not a whole number of frames", () => {
    // 29.97 fps (3003 ticks) with key frames forced at t >= 2n s: frame k is key when k = ceil(59.94 n),
    // so spacings are 60 frames with an occasional 59
    const g = new KeyframeGrid();
    const keyFrames: number[] = [];
    for (let n = 0; n < 30; n++) keyFrames.push(Math.ceil((180000 * n) / 3003));
    const keySet = new Set(keyFrames);
    feed(g, 0, 21 * 60, 3003, (i) => keySet.has(i));
    expect(g.exact).toBe(false);
    const t = 45 * 90000 + 1;
    const actual = keyFrames.map((k) => k * 3003).find((pts) => pts >= t);
    expect(g.predictAtOrAfter(t)).toBe(actual);
  });

  it("relearns after the encoder restarts with another phase", () => {
    const g = new KeyframeGrid();
    feed(g, 133200, 100, 3600, (i) => i % 25 === 0);
    g.observeIdr(10_000_000); // far from the grid: a restart
    expect(g.relearns).toBe(1);
    expect(g.lastIdr).toBe(10_000_000);
    // the period is kept as a hint, so it can predict from one IDR
    expect(g.predictAtOrAfter(10_000_001)).toBe(10_090_000);
  });

  it("counts an IDR that lands off its predicted place", () => {
    const g = new KeyframeGrid();
    feed(g, 0, 100, 3600, (i) => i % 25 === 0);
    g.observeIdr(4 * 90000 + 3600); // one frame late
    expect(g.mispredictions).toBe(1);
  });
});
