/**
 * Cross-checks our PAT/PMT/PES parsing against mux.js and ffprobe on a TS made by real FFmpeg
 * (H.264 + AAC, CBR with -muxrate), read through TsReader in odd-sized chunks.
 */
import { readFileSync } from "node:fs";
import muxjs from "mux.js";
import { readMuxjs, type MuxResult } from "../helpers/muxjs-read.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTestTs, haveFfmpeg, makeTestTs, runFfprobeJson } from "../helpers/ffmpeg.js";
import { continuityCounter, hasPayload, isNullPacket, pid, pusi, TS_PACKET_SIZE } from "../../src/ts/packet.js";
import { createPesHeader, readPesHeaderFromPacket } from "../../src/ts/pes.js";
import { PID_ROLE_ES, PsiTracker } from "../../src/ts/psi-tracker.js";
import { TsReader } from "../../src/ts/reader.js";
import { PatSection } from "../../src/ts/pat.js";
import { PmtSection } from "../../src/ts/pmt.js";
import { SectionDemux } from "../../src/ts/section-assembler.js";

interface Ours {
  tracker: PsiTracker;
  pts: Map<number, number[]>;
  dts: Map<number, number[]>;
  nulls: number;
  ccErrors: number;
  reader: TsReader;
  rawSections: Map<number, Uint8Array>;
}

function readOurs(ts: Uint8Array): Ours {
  const tracker = new PsiTracker();
  const pts = new Map<number, number[]>();
  const dts = new Map<number, number[]>();
  const lastCc = new Map<number, number>();
  const rawSections = new Map<number, Uint8Array>();
  const raw = new SectionDemux({ onSection: (s, p) => rawSections.set(p, s) });
  raw.addPid(0);
  raw.addPid(0x1000);
  const h = createPesHeader();
  let nulls = 0;
  let ccErrors = 0;
  const reader = new TsReader({
    onPacket: (buf, off) => {
      tracker.push(buf, off);
      raw.push(buf, off);
      const p = pid(buf, off);
      if (isNullPacket(buf, off)) {
        nulls++;
        return;
      }
      if (hasPayload(buf, off)) {
        const cc = continuityCounter(buf, off);
        const last = lastCc.get(p);
        if (last !== undefined && cc !== ((last + 1) & 15)) ccErrors++;
        lastCc.set(p, cc);
      }
      if (tracker.pidRole[p] === PID_ROLE_ES && pusi(buf, off) && readPesHeaderFromPacket(buf, off, h)) {
        if (!pts.has(p)) {
          pts.set(p, []);
          dts.set(p, []);
        }
        pts.get(p)!.push(h.pts);
        dts.get(p)!.push(h.dts >= 0 ? h.dts : h.pts);
      }
    },
  });
  // odd chunk sizes, so packets straddle chunks
  const sizes = [1, 7, 1000, 4096, 333, 65536, 189];
  let pos = 0;
  for (let k = 0; pos < ts.length; k++) {
    const n = sizes[k % sizes.length];
    reader.push(ts.subarray(pos, pos + n));
    pos += n;
  }
  reader.end();
  return { tracker, pts, dts, nulls, ccErrors, reader, rawSections };
}

const enabled = haveFfmpeg();

describe.runIf(enabled)("TS parsing against mux.js and ffprobe (real FFmpeg output)", () => {
  let path = "";
  let ts: Uint8Array;
  let ours: Ours;
  let mux: MuxResult;

  beforeAll(async () => {
    path = await makeTestTs({ seconds: 3, muxrate: "3M" });
    ts = new Uint8Array(readFileSync(path));
    ours = readOurs(ts);
    mux = readMuxjs(ts);
  });

  afterAll(() => cleanupTestTs());

  it("reads the whole file as clean packets", () => {
    expect(ts.length % TS_PACKET_SIZE).toBe(0);
    expect(ours.reader.stats.packets).toBe(ts.length / TS_PACKET_SIZE);
    expect(ours.reader.stats.bytesSkipped).toBe(0);
    expect(ours.reader.stats.resyncs).toBe(0);
    expect(ours.reader.stats.truncatedPackets).toBe(0);
    expect(ours.ccErrors).toBe(0);
    expect(ours.nulls).toBeGreaterThan(0);
  });

  it("finds the same PMT PID, video and audio PIDs and stream types as mux.js", () => {
    const t = ours.tracker;
    expect(t.pat?.programs.filter((p) => p.programNumber !== 0).map((p) => p.pid)).toEqual([mux.pmtPid]);
    const pmt = t.pmts.get(1)!;
    expect(pmt.streams.find((s) => s.streamType === muxjs.mp2t.H264_STREAM_TYPE)?.elementaryPid).toBe(mux.videoPid);
    expect(pmt.streams.find((s) => s.streamType === muxjs.mp2t.ADTS_STREAM_TYPE)?.elementaryPid).toBe(mux.audioPid);
    expect(t.streamType[mux.videoPid!]).toBe(0x1b);
    expect(t.streamType[mux.audioPid!]).toBe(0x0f);
    expect(t.decodeErrors).toBe(0);
  });

  it("reads the same PTS and DTS lists per PID as mux.js", () => {
    for (const trackPid of [mux.videoPid!, mux.audioPid!]) {
      const theirs = mux.pes.filter((e) => e.trackId === trackPid);
      expect(theirs.length).toBeGreaterThanOrEqual(5);
      expect(ours.pts.get(trackPid)).toEqual(theirs.map((e) => e.pts));
      expect(ours.dts.get(trackPid)).toEqual(theirs.map((e) => e.dts));
    }
  });

  it("reads the same video PTS as ffprobe", async () => {
    const probe = await runFfprobeJson<{ packets: { pts: number }[] }>([
      "-select_streams",
      "v:0",
      "-show_entries",
      "packet=pts",
      "-show_packets",
      path,
    ]);
    const theirs = probe.packets.map((p) => p.pts);
    expect(theirs.length).toBe(75);
    expect(ours.pts.get(mux.videoPid!)).toEqual(theirs);
  });

  it("decodes and re-encodes ffmpeg's real PAT and PMT byte for byte", () => {
    const patBytes = ours.rawSections.get(0)!;
    const pmtBytes = ours.rawSections.get(0x1000)!;
    expect(Buffer.from(patBytes).toString("hex").toUpperCase()).toBe("00B00D0001C100000001F0002AB104B2");
    expect(PatSection.decode(patBytes).encode()).toEqual(patBytes);
    expect(PmtSection.decode(pmtBytes).encode()).toEqual(pmtBytes);
  });
});
