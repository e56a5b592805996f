import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTr101290Counters, TsMonitor } from "../../src/monitor/index.js";
import {
  TS_PACKET_SIZE,
  adaptationFieldControl,
  hasPcr,
  pid as pidOf,
  pusi,
  readPcr,
  writeNullPacket,
  writePcr,
} from "../../src/ts/index.js";
import { cleanupTestTs, makeTestTs } from "../helpers/ffmpeg.js";

const VIDEO = 0x100;
const CHUNK = 65536;

function monitorFile(data: Uint8Array): TsMonitor {
  const m = new TsMonitor();
  for (let i = 0; i < data.length; i += CHUNK) m.push(data.subarray(i, i + CHUNK));
  m.end();
  return m;
}

function packetsOf(data: Uint8Array, pred: (off: number) => boolean): number[] {
  const out: number[] = [];
  for (let off = 0; off + TS_PACKET_SIZE <= data.length; off += TS_PACKET_SIZE) if (pred(off)) out.push(off);
  return out;
}

let clean: Uint8Array;

beforeAll(async () => {
  clean = new Uint8Array(readFileSync(await makeTestTs({ seconds: 4, muxrate: "3M", name: "monitor-4s.ts" })));
});

afterAll(() => cleanupTestTs());

describe("TsMonitor on FFmpeg output", () => {
  it("gives all-zero counters on a clean FFmpeg TS", () => {
    const m = monitorFile(clean);
    expect(m.packets).toBe(clean.length / TS_PACKET_SIZE);
    expect(m.snapshot()).toEqual(createTr101290Counters());
    expect(m.psi.pmts.get(1)?.streams.map((s) => s.elementaryPid)).toEqual([0x100, 0x101]);
    // 3 Mbit/s CBR: 188 × 8 / 3e6 s per packet
    expect(m.packetDurationMs).toBeCloseTo((188 * 8) / 3000, 6);
    expect(m.perPid().map((r) => r.pid)).toEqual([0x1000, 0x100, 0x101, "other"]);
  });

  it("counts exactly the CRC errors, CC errors, PCR gaps and PCR jumps put into it", () => {
    const data = clean.slice();
    const n = data.length / TS_PACKET_SIZE;

    // 5 PAT sections with a corrupted CRC: every third PAT, so no PAT gap reaches 0.5 s
    const pats = packetsOf(data, (o) => pidOf(data, o) === 0 && pusi(data, o));
    expect(pats.length).toBeGreaterThan(20);
    for (const k of [2, 5, 8, 11, 14]) {
      const o = pats[k];
      const sec = o + 5 + data[o + 4];
      const len = ((data[sec + 1] & 0x0f) << 8) | data[sec + 2];
      data[sec + 3 + len - 1] ^= 0x5a;
    }

    // 3 lost video packets: payload-only, not a PES start, followed on the PID by a packet
    // with payload (so each loss is exactly one CC jump); replaced by null packets so the
    // timing stays the same
    const video = packetsOf(data, (o) => pidOf(data, o) === VIDEO);
    const losable = (i: number): boolean =>
      adaptationFieldControl(data, video[i]) === 0b01 && !pusi(data, video[i]) && (data[video[i + 1] + 3] & 0x10) !== 0;
    for (const frac of [0.2, 0.45, 0.7]) {
      let i = Math.floor(video.length * frac);
      while (!losable(i)) i++;
      writeNullPacket(data, video[i]);
    }

    // PCRs of the video PID (FFmpeg: every 20 ms at CBR)
    const pcrs = packetsOf(data, (o) => pidOf(data, o) === VIDEO && hasPcr(data, o));
    const ms = (a: number, b: number): number => (readPcr(data, pcrs[b]) - readPcr(data, pcrs[a])) / 27000;
    for (let i = 1; i < pcrs.length; i++) expect(ms(i - 1, i)).toBeLessThanOrEqual(40);

    // 2 PCR gaps: the PCRs of two consecutive PCR packets removed (flag cleared, bytes
    // become adaptation field stuffing)
    for (const i of [Math.floor(pcrs.length * 0.3), Math.floor(pcrs.length * 0.6)]) {
      expect(ms(i - 1, i + 2)).toBeGreaterThan(40);
      expect(ms(i - 1, i + 2)).toBeLessThanOrEqual(100);
      for (const o of [pcrs[i], pcrs[i + 1]]) {
        data[o + 5] &= ~0x10;
        data.fill(0xff, o + 6, o + 12);
      }
    }

    // 2 PCR values replaced with one 200 ms ahead: each makes two bad steps (there and back)
    for (const i of [Math.floor(pcrs.length * 0.45), Math.floor(pcrs.length * 0.8)]) {
      writePcr(data, pcrs[i], readPcr(data, pcrs[i]) + 200 * 27000);
    }

    const m = monitorFile(data);
    expect(m.packets).toBe(n);
    expect(m.snapshot()).toEqual({
      ...createTr101290Counters(),
      crcError: 5,
      continuityCountError: 3,
      pcrRepetitionError: 2,
      pcrDiscontinuityIndicatorError: 4,
    });
    expect(m.perPid().find((r) => r.pid === VIDEO)).toMatchObject({
      continuityCountError: 3,
      pcrRepetitionError: 2,
      pcrDiscontinuityIndicatorError: 4,
    });
  });
});
