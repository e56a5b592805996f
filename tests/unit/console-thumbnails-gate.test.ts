/**
 * KeyframeGate: which parts of the output TS the thumbnail FFmpeg gets. The first window is
 * open at once; a picture closes a window at the next video PES start; the next window opens
 * on a key-frame-flagged video PES once the period has passed, on any video PES when the
 * stream flags none; a window without a picture is closed after its limit; extra pictures are
 * not thumbnails.
 */
import { describe, expect, it } from "vitest";
import { findVideoPesStart, KeyframeGate, videoPesStart } from "../../src/console/thumbnail-gate.js";

const VIDEO = 0x100;
const AUDIO = 0x101;

/** One TS packet: a video or audio PES start (random access flagged or not), or a continuation. */
function packet(pid: number, kind: "key" | "start" | "more" | "audio-start"): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p[0] = 0x47;
  const pusi = kind !== "more";
  p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xff;
  let at = 4;
  if (kind === "key") {
    p[3] = 0x30; // adaptation field and payload
    p[4] = 1;
    p[5] = 0x40; // random_access_indicator
    at = 6;
  } else p[3] = 0x10;
  if (pusi) Buffer.from([0, 0, 1, kind === "audio-start" ? 0xc0 : 0xe0, 0, 0]).copy(p, at);
  else p.fill(0x11, at);
  return p;
}

const key = (): Buffer => packet(VIDEO, "key");
const start = (): Buffer => packet(VIDEO, "start");
const more = (): Buffer => packet(VIDEO, "more");
const audio = (): Buffer => packet(AUDIO, "audio-start");
const chunk = (...ps: Buffer[]): Buffer => Buffer.concat(ps);

/** What the gate forwards of `c` at `now`, as packet indexes [from, to), or null. */
function admit(g: KeyframeGate, c: Buffer, now: number): [number, number] | null {
  return g.admit(c, now) ? [g.from / 188, g.to / 188] : null;
}

describe("video PES starts", () => {
  it("are told from audio and continuation packets, with their key-frame flag", () => {
    expect(videoPesStart(key(), 0, true)).toBe(true);
    expect(videoPesStart(start(), 0, false)).toBe(true);
    expect(videoPesStart(start(), 0, true)).toBe(false);
    expect(videoPesStart(more(), 0, false)).toBe(false);
    expect(videoPesStart(audio(), 0, false)).toBe(false);
    expect(findVideoPesStart(chunk(audio(), more(), start(), key()), true)).toBe(3 * 188);
    expect(findVideoPesStart(chunk(audio(), more()), false)).toBe(-1);
  });
});

describe("KeyframeGate", () => {
  it("feeds the first window at once, whatever the chunk, until the first picture", () => {
    const g = new KeyframeGate(5000);
    expect(admit(g, chunk(more(), audio()), 0)).toEqual([0, 2]);
    expect(admit(g, chunk(start(), more()), 100)).toEqual([0, 2]);
    expect(g.feeding).toBe(true);
    expect(g.picture()).toBe(true);
    // closing: up to (not with) the next video PES start
    expect(admit(g, chunk(more(), audio(), start(), more()), 200)).toEqual([0, 2]);
    expect(g.feeding).toBe(false);
    expect(admit(g, chunk(key(), more()), 300)).toBeNull();
    expect(g.stats).toMatchObject({ windows: 1, pictures: 1, empty: 0 });
  });

  it("keeps feeding while closing until a video PES starts", () => {
    const g = new KeyframeGate(5000);
    admit(g, chunk(key()), 0);
    g.picture();
    expect(admit(g, chunk(more(), audio()), 10)).toEqual([0, 2]);
    // a chunk that starts with the next video PES: nothing of it
    expect(admit(g, chunk(start(), more()), 20)).toBeNull();
    expect(g.feeding).toBe(false);
  });

  it("opens the next window on the first key frame once the period has passed", () => {
    const g = new KeyframeGate(5000);
    admit(g, chunk(key()), 0);
    g.picture();
    admit(g, chunk(start()), 40);
    expect(admit(g, chunk(key(), more()), 4999)).toBeNull(); // not due yet
    expect(admit(g, chunk(more(), start(), more()), 5000)).toBeNull(); // due, no key frame
    expect(admit(g, chunk(more(), audio(), key(), more()), 5100)).toEqual([2, 4]);
    expect(g.stats.windows).toBe(2);
    expect(admit(g, chunk(more(), start()), 5140)).toEqual([0, 2]); // open: everything
    expect(g.picture()).toBe(true);
    expect(admit(g, chunk(start()), 5300)).toBeNull();
    // the next one is due on the 5 s grid (10 000), not 5 s after this one opened
    expect(admit(g, chunk(key()), 9999)).toBeNull();
    expect(admit(g, chunk(key()), 10_000)).toEqual([0, 1]);
  });

  it("never opens windows closer than half a period", () => {
    const g = new KeyframeGate(5000);
    admit(g, chunk(key()), 0); // due 5000
    g.picture();
    admit(g, chunk(start()), 10);
    expect(admit(g, chunk(key()), 9000)).toEqual([0, 1]); // late (a long GOP): due max(10 000, 11 500)
    g.picture();
    admit(g, chunk(start()), 9100);
    expect(admit(g, chunk(key()), 11_000)).toBeNull();
    expect(admit(g, chunk(key()), 11_500)).toEqual([0, 1]);
  });

  it("opens on any video PES start when the stream flags no key frame for a whole further period", () => {
    const g = new KeyframeGate(5000);
    admit(g, chunk(start()), 0);
    g.picture();
    admit(g, chunk(start()), 10);
    expect(admit(g, chunk(start()), 9999)).toBeNull();
    expect(admit(g, chunk(audio(), start()), 10_000)).toEqual([1, 2]);
    expect(g.stats.unflagged).toBe(1);
  });

  it("closes a window that gave no picture after its limit, counting empty windows in a row", () => {
    const g = new KeyframeGate(5000, 2000);
    expect(admit(g, chunk(key()), 0)).toEqual([0, 1]);
    expect(admit(g, chunk(more()), 2000)).toEqual([0, 1]);
    expect(admit(g, chunk(more()), 2001)).toBeNull();
    expect(g.stats).toMatchObject({ empty: 1, emptyStreak: 1 });
    expect(admit(g, chunk(key()), 5000)).toEqual([0, 1]);
    admit(g, chunk(more()), 7001);
    expect(g.stats.emptyStreak).toBe(2);
    admit(g, chunk(key()), 10_000);
    expect(g.picture()).toBe(true);
    expect(g.stats).toMatchObject({ empty: 2, emptyStreak: 0, pictures: 1 });
  });

  it("does not take a second picture of a window for a thumbnail", () => {
    const g = new KeyframeGate(5000);
    admit(g, chunk(key()), 0);
    expect(g.picture()).toBe(true);
    expect(g.picture()).toBe(false);
    admit(g, chunk(start()), 10);
    expect(g.picture()).toBe(false);
    expect(g.stats.extra).toBe(2);
  });
});
