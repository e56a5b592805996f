/**
 * The HLS segmenter over synthetic CBR streams (tests/helpers/synth-ts.ts: MPEG-2 video whose
 * key frames carry random_access_indicator, PAT and PMT at the start of every second), with
 * cues put in by the real Injector.
 */
import { describe, expect, it } from "vitest";
import { Injector } from "../../src/inject/injector.js";
import { TICKS, defaultCuePlanConfig, type CueMode } from "../../src/inject/planner.js";
import { Segmenter, type SegmentRecord } from "../../src/hls/segmenter.js";
import { randomAccessIndicator, readPacketPts } from "../../src/ts/index.js";
import { SYNTH_PMT_PID, SYNTH_VIDEO_PID, synthStream, type SynthOptions } from "../helpers/synth-ts.js";
import { scanTs } from "../helpers/tsscan.js";

const START_PCR = 63_000;
/** synth-ts puts the PTS 0.7 s ahead of the PCR */
const FIRST_PTS = START_PCR + 63_000;

function synth(seconds: number, opts: SynthOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const gen = synthStream({ startPcr: START_PCR, ...opts });
  for (let i = 0; i < seconds; i++) parts.push(gen.next().value as Buffer);
  return Buffer.concat(parts);
}

interface Break {
  start: number;
  duration: number;
}

/** Runs the Injector (with `breaks`) over `ts` and returns its output. */
function inject(ts: Buffer, breaks: Break[], mode: CueMode = "splice_insert"): Buffer {
  let id = 0;
  const inj = new Injector({ cue: defaultCuePlanConfig({ mode }), allocateEventId: () => ++id, startWall: 0 });
  for (const b of breaks) inj.addBreakFromStart(b.start * TICKS, b.duration * TICKS);
  const out: Buffer[] = [];
  for (let off = 0; off < ts.length; off += 188 * 250) {
    const chunk = Buffer.from(ts.subarray(off, off + 188 * 250));
    inj.process(chunk, 0, chunk.length / 188, (b) => out.push(Buffer.from(b)), true);
  }
  inj.end();
  return Buffer.concat(out);
}

function segment(ts: Buffer, segmentSeconds: number, chunk = ts.length): SegmentRecord[] {
  const recs: SegmentRecord[] = [];
  const s = new Segmenter({ segmentSeconds, onSegment: (r) => recs.push({ ...r, bytes: Buffer.from(r.bytes) }) });
  for (let off = 0; off < ts.length; off += chunk) s.push(ts.subarray(off, off + chunk));
  s.end();
  return recs;
}

/** synth-ts writes every PAT and PMT with CC 0: count them up as a muxer does. */
function stampTableCcs(ts: Buffer): Buffer {
  const cc = new Map<number, number>();
  for (let off = 0; off < ts.length; off += 188) {
    const pid = ((ts[off + 1] & 0x1f) << 8) | ts[off + 2];
    if (pid !== 0 && pid !== SYNTH_PMT_PID) continue;
    const next = ((cc.get(pid) ?? -1) + 1) & 15;
    cc.set(pid, next);
    ts[off + 3] = (ts[off + 3] & 0xf0) | next;
  }
  return ts;
}

function withoutNulls(ts: Buffer): Buffer {
  const keep: Buffer[] = [];
  for (let off = 0; off < ts.length; off += 188)
    if ((((ts[off + 1] & 0x1f) << 8) | ts[off + 2]) !== 0x1fff) keep.push(ts.subarray(off, off + 188));
  return Buffer.concat(keep);
}

const secondsOf = (recs: SegmentRecord[]): number[] => recs.map((r) => r.durationTicks / TICKS);
const startsOf = (recs: SegmentRecord[]): number[] => recs.map((r) => (r.firstPts - FIRST_PTS) / TICKS);

/** PIDs of the first packets, and whether the first video packet is a key frame with the segment's PTS. */
function head(r: SegmentRecord): { pids: number[]; videoKey: boolean } {
  const pids: number[] = [];
  for (let off = 0; off < 3 * 188; off += 188) pids.push(((r.bytes[off + 1] & 0x1f) << 8) | r.bytes[off + 2]);
  for (let off = 0; off < r.bytes.length; off += 188) {
    if ((((r.bytes[off + 1] & 0x1f) << 8) | r.bytes[off + 2]) !== SYNTH_VIDEO_PID) continue;
    return { pids, videoKey: randomAccessIndicator(r.bytes, off) && readPacketPts(r.bytes, off) === r.firstPts };
  }
  return { pids, videoKey: false };
}

describe("HLS segmenter", () => {
  it("cuts at the last IDR that keeps a segment within the target, the grid restarting at each cut", () => {
    // IDR every second, 6 s target: 6 s segments; 2.5 s target: 2 s segments (the 3 s IDR is too late)
    expect(secondsOf(segment(synth(20, { gop: 25 }), 6))).toEqual([6, 6, 6, 2]);
    const recs = segment(synth(9, { gop: 25 }), 2.5);
    expect(secondsOf(recs)).toEqual([2, 2, 2, 2, 1]);
    expect(startsOf(recs)).toEqual([0, 2, 4, 6, 8]);
    expect(recs.every((r) => !r.long && !r.discontinuity && r.cue === undefined)).toBe(true);
  });

  it("starts a segment at the PAT before the IDR, keeping the stream's own PAT and PMT packets", () => {
    const ts = synth(8, { gop: 25 });
    const recs = segment(ts, 2);
    for (const r of recs) {
      expect(head(r)).toEqual({ pids: [0, SYNTH_PMT_PID, SYNTH_VIDEO_PID], videoKey: true });
    }
    // the segments laid end to end are the stream (which starts with a PAT) without its null packets
    expect(Buffer.concat(recs.map((r) => r.bytes)).equals(withoutNulls(ts))).toBe(true);
  });

  it("prepends PAT and PMT copies whose continuity counters leave no CC error when no PAT precedes the IDR", () => {
    // IDR every 1.2 s: only the first one follows a PAT
    const recs = segment(synth(12, { gop: 30, nullsPerFrame: 2 }), 3);
    expect(startsOf(recs)).toEqual([0, 2.4, 4.8, 7.2, 9.6]);
    for (const r of recs) {
      expect(head(r).pids.slice(0, 2)).toEqual([0, SYNTH_PMT_PID]);
      expect(head(r).videoKey).toBe(true);
      expect([...scanTs(r.bytes).ccErrors.values()]).toEqual([]);
    }
    // IDR every 2.2 s, 4 s target: the cut looks back to an IDR with two PATs after it
    const back = segment(stampTableCcs(synth(12, { gop: 55, nullsPerFrame: 2 })), 4);
    expect(startsOf(back)).toEqual([0, 2.2, 4.4, 6.6, 8.8]);
    for (const r of back) expect([...scanTs(r.bytes).ccErrors.values()]).toEqual([]);
  });

  it("gives the same segments for any chunking of the input", () => {
    const ts = synth(7, { gop: 25 });
    const whole = segment(ts, 2);
    for (const chunk of [187, 1000, 188 * 7 + 5]) {
      const split = segment(ts, 2, chunk);
      expect(split.map((r, i) => r.bytes.equals(whole[i].bytes))).toEqual(whole.map(() => true));
      expect(split.map((r) => r.durationTicks)).toEqual(whole.map((r) => r.durationTicks));
    }
  });

  it("ends the last segment at its last frame plus one frame", () => {
    const recs = segment(synth(5, { gop: 25 }), 3);
    expect(recs.at(-1)!.durationTicks).toBe(2 * TICKS); // IDR at 3 s, frames up to 4.96 s, + 40 ms
  });

  it("always cuts at a splice IDR and at its return IDR, tagging out, inside and in", () => {
    const recs = segment(inject(synth(30, { gop: 25 }), [{ start: 10.3, duration: 8 }]), 6);
    expect(startsOf(recs)).toEqual([0, 6, 11, 17, 19, 25]);
    const [, , out, inside, back] = recs;
    expect(out.cue?.out).toMatchObject({ command: "splice_insert", splicePts: FIRST_PTS + 11 * TICKS, plannedDurationSeconds: 8 });
    expect(inside.cue).toEqual({ cont: { break: out.cue!.out, elapsedSeconds: 6 } });
    expect(back.cue).toEqual({ in: { break: out.cue!.out, durationSeconds: 8, section: undefined } });
    expect(recs[0].cue).toBeUndefined();
    expect(recs[5].cue).toBeUndefined();
    expect(out.bytes.includes(Buffer.from(out.cue!.out!.section))).toBe(false); // sent ahead, in an earlier segment
  });

  it("maps a time_signal break (placement opportunity start/end) to the same cuts and tags", () => {
    const recs = segment(inject(synth(30, { gop: 25 }), [{ start: 10.3, duration: 8 }], "time_signal"), 6);
    expect(startsOf(recs)).toEqual([0, 6, 11, 17, 19, 25]);
    expect(recs[2].cue?.out).toMatchObject({ command: "time_signal", plannedDurationSeconds: 8 });
    expect(recs[4].cue?.in?.durationSeconds).toBe(8);
  });

  it("after discontinuity() drops packets until the next IDR and marks that segment", () => {
    const recs: SegmentRecord[] = [];
    const s = new Segmenter({ segmentSeconds: 4, onSegment: (r) => recs.push(r) });
    s.push(synth(6, { gop: 25 }));
    s.discontinuity();
    const other = synth(4, { gop: 25, startPcr: 5_000_000 });
    s.push(other.subarray(188 * 20)); // starts inside a GOP: dropped until the next IDR
    s.end();
    expect(recs.map((r) => r.discontinuity)).toEqual([false, false, true]);
    expect(secondsOf(recs)).toEqual([4, 2, 3]);
    expect(recs[2].firstPts).toBe(5_000_000 + 63_000 + TICKS);
  });

  it("treats a PTS jump in the stream as a discontinuity", () => {
    const recs = segment(Buffer.concat([synth(4, { gop: 25 }), synth(4, { gop: 25, startPcr: 9_000_000 })]), 2);
    expect(recs.map((r) => r.discontinuity)).toEqual([false, false, true, false]);
    expect(secondsOf(recs)).toEqual([2, 2, 2, 2]);
  });
});
