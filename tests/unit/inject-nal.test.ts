import { describe, expect, it } from "vitest";
import { AU_IDR, AU_NON_IDR, AU_UNKNOWN, IdrScanner, videoCodecOf } from "../../src/inject/nal.js";

const h264Idr = Buffer.from("00000001091000000001674d401e00000001 68ee3c80 0000000106 0500 00000165888400".replace(/ /g, ""), "hex");
const h264P = Buffer.from("00000001093000000001419a0000".replace(/ /g, ""), "hex");
// HEVC: AUD (35<<1=0x46), VPS (32<<1=0x40), IDR_W_RADL (19<<1=0x26), TRAIL_R (1<<1=0x02)
const hevcIdr = Buffer.from("00000001460150000000014001 0c01 0000000126 01af".replace(/ /g, ""), "hex");
const hevcTrail = Buffer.from("0000000146015000000001 0201 d0".replace(/ /g, ""), "hex");

function scanSplit(codec: "h264" | "hevc", bytes: Uint8Array, cut: number): number {
  const s = new IdrScanner(codec);
  s.startAccessUnit();
  s.feed(bytes, 0, cut);
  return s.feed(bytes, cut, bytes.length);
}

describe("IDR detection", () => {
  it("finds an H.264 IDR slice behind AUD, SPS, PPS and SEI", () => {
    expect(scanSplit("h264", h264Idr, h264Idr.length)).toBe(AU_IDR);
  });

  it("says non-IDR for an H.264 P slice", () => {
    expect(scanSplit("h264", h264P, h264P.length)).toBe(AU_NON_IDR);
  });

  it("finds HEVC IDR_W_RADL and rejects TRAIL_R", () => {
    expect(scanSplit("hevc", hevcIdr, hevcIdr.length)).toBe(AU_IDR);
    expect(scanSplit("hevc", hevcTrail, hevcTrail.length)).toBe(AU_NON_IDR);
  });

  it("gives the same verdict wherever the bytes are split across packets", () => {
    for (let cut = 0; cut <= h264Idr.length; cut++) expect(scanSplit("h264", h264Idr, cut)).toBe(AU_IDR);
    for (let cut = 0; cut <= hevcIdr.length; cut++) expect(scanSplit("hevc", hevcIdr, cut)).toBe(AU_IDR);
    for (let cut = 0; cut <= h264P.length; cut++) expect(scanSplit("h264", h264P, cut)).toBe(AU_NON_IDR);
  });

  it("stays undecided until a slice arrives and resets per access unit", () => {
    const s = new IdrScanner("h264");
    s.startAccessUnit();
    expect(s.feed(h264Idr, 0, 10)).toBe(AU_UNKNOWN);
    expect(s.done).toBe(false);
    s.feed(h264Idr, 10, h264Idr.length);
    expect(s.verdict).toBe(AU_IDR);
    s.startAccessUnit();
    expect(s.feed(h264P, 0, h264P.length)).toBe(AU_NON_IDR);
  });

  it("maps stream types to codecs", () => {
    expect(videoCodecOf(0x1b)).toBe("h264");
    expect(videoCodecOf(0x24)).toBe("hevc");
    expect(videoCodecOf(0x02)).toBeUndefined();
  });
});
