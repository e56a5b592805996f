/**
 * The HLS media playlist renderer: exact tag text for each marker style, the live window,
 * and the multivariant playlist; every playlist also read back with m3u8-parser.
 */
import { describe, expect, it } from "vitest";
import type { BreakInfo } from "../../src/hls/cut-planner.js";
import { MediaPlaylist, PtsWallClock, renderMaster, type MarkerStyle, type PlaylistEntry } from "../../src/hls/playlist.js";
import { avc1Codec, findSps, parseSps } from "../../src/hls/sps.js";
import { encodeSpliceInfoSection, spliceInsert, toBase64 } from "../../src/scte35/index.js";
import { parseM3u8 } from "../helpers/m3u8.js";

/** SPS NAL payloads as x264 writes them (emulation prevention bytes included) */
const HIGH_720P = "64001facd9405005bb011000000300100000030320f183196000";
const HIGH422_576 = "7a001ebcd940b4126c0440000003004000000c83c58b658000";
const T0 = Date.parse("2026-12-07T01:30:00.000Z");
const section = encodeSpliceInfoSection(
  spliceInsert({ spliceEventId: 7, outOfNetworkIndicator: true, ptsTime: 900_000, breakDuration: 8 * 90_000, autoReturn: true }),
);
const HEX = Buffer.from(section).toString("hex").toUpperCase();
const B64 = toBase64(section);
const brk: BreakInfo = {
  id: "insert-7-900000",
  eventId: 7,
  command: "splice_insert",
  section,
  splicePts: 900_000,
  plannedDurationSeconds: 8,
};

/** 6 s, 2 s (the break), 6 s, 2 s inside it, then the return. */
function entries(): Array<Omit<PlaylistEntry, "sequence">> {
  return [
    { uri: "seg0.ts", durationSeconds: 6, pdtMs: T0, discontinuity: false },
    { uri: "seg1.ts", durationSeconds: 6, pdtMs: T0 + 6000, discontinuity: false, cue: { out: brk } },
    { uri: "seg2.ts", durationSeconds: 2, pdtMs: T0 + 12000, discontinuity: false, cue: { cont: { break: brk, elapsedSeconds: 6 } } },
    { uri: "seg3.ts", durationSeconds: 5.96, pdtMs: T0 + 14000, discontinuity: false, cue: { in: { break: brk, durationSeconds: 8 } } },
  ];
}

function vod(markers: MarkerStyle): string {
  const p = new MediaPlaylist({ segmentSeconds: 6, markers });
  for (const e of entries()) p.add(e);
  return p.render(true);
}

const HEADER = [
  "#EXTM3U",
  "#EXT-X-VERSION:3",
  "#EXT-X-TARGETDURATION:6",
  "#EXT-X-MEDIA-SEQUENCE:0",
  "#EXT-X-DISCONTINUITY-SEQUENCE:0",
  "#EXT-X-INDEPENDENT-SEGMENTS",
  "#EXT-X-PLAYLIST-TYPE:VOD",
];

describe("HLS media playlist", () => {
  it("renders the cue (SCTE-35 enhanced) tags exactly", () => {
    expect(vod("cue").split("\n")).toEqual([
      ...HEADER,
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T01:30:00.000Z",
      "#EXTINF:6.000,",
      "seg0.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T01:30:06.000Z",
      `#EXT-OATCLS-SCTE35:${B64}`,
      "#EXT-X-CUE-OUT:8.000",
      "#EXTINF:6.000,",
      "seg1.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T01:30:12.000Z",
      `#EXT-X-CUE-OUT-CONT:ElapsedTime=6.000,Duration=8.000,SCTE35=${B64}`,
      "#EXTINF:2.000,",
      "seg2.ts",
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T01:30:14.000Z",
      "#EXT-X-CUE-IN",
      "#EXTINF:5.960,",
      "seg3.ts",
      "#EXT-X-ENDLIST",
      "",
    ]);
  });

  it("renders the DATERANGE tags exactly, the closing one with the same ID and START-DATE", () => {
    const text = vod("daterange");
    const tags = text.split("\n").filter((l) => l.startsWith("#EXT-X-DATERANGE") || l.includes("CUE") || l.includes("OATCLS"));
    expect(tags).toEqual([
      `#EXT-X-DATERANGE:ID="insert-7-900000",START-DATE="2026-12-07T01:30:06.000Z",PLANNED-DURATION=8.000,SCTE35-OUT=0x${HEX}`,
      `#EXT-X-DATERANGE:ID="insert-7-900000",START-DATE="2026-12-07T01:30:06.000Z",DURATION=8.000`,
    ]);
    const { manifest, warnings } = parseM3u8(text);
    expect(warnings).toEqual([]);
    expect(manifest.dateRanges).toHaveLength(1);
    expect(manifest.dateRanges[0]).toMatchObject({ id: "insert-7-900000", plannedDuration: 8, duration: 8, scte35Out: `0x${HEX}` });
  });

  it("with both, puts the cue tags and the DATERANGE right before the splice segment; with none, no marker", () => {
    const lines = vod("both").split("\n");
    const i = lines.indexOf("seg1.ts");
    expect(lines.slice(i - 5, i + 1)).toEqual([
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T01:30:06.000Z",
      `#EXT-OATCLS-SCTE35:${B64}`,
      "#EXT-X-CUE-OUT:8.000",
      `#EXT-X-DATERANGE:ID="insert-7-900000",START-DATE="2026-12-07T01:30:06.000Z",PLANNED-DURATION=8.000,SCTE35-OUT=0x${HEX}`,
      "#EXTINF:6.000,",
      "seg1.ts",
    ]);
    const { manifest } = parseM3u8(vod("both"));
    expect(manifest.segments.map((s) => [s.cueOut, s.cueOutCont !== undefined, s.cueIn])).toEqual([
      [undefined, false, undefined],
      ["8.000", false, undefined],
      [undefined, true, undefined],
      [undefined, false, ""],
    ]);
    expect(manifest.segments[1].custom).toEqual({ oatcls: B64 });
    expect(vod("none")).not.toMatch(/CUE|DATERANGE|OATCLS/);
  });

  it("slides a live window: media and discontinuity sequences advance and the open DATERANGE stays listed", () => {
    const p = new MediaPlaylist({ segmentSeconds: 6, markers: "daterange", window: 3 });
    const es = entries();
    es[0].discontinuity = true;
    const removed = es.map((e) => p.add(e));
    expect(removed.map((r) => r.map((x) => x.uri))).toEqual([[], [], [], ["seg0.ts"]]);
    expect(p.add({ uri: "seg4.ts", durationSeconds: 6, pdtMs: T0 + 19960, discontinuity: false })[0].uri).toBe("seg1.ts");
    const text = p.render();
    expect(text).not.toMatch(/ENDLIST|PLAYLIST-TYPE/);
    const { manifest, warnings } = parseM3u8(text);
    expect(warnings).toEqual([]);
    expect(manifest.mediaSequence).toBe(2);
    expect(manifest.discontinuitySequence).toBe(1);
    expect(manifest.segments.map((s) => s.uri)).toEqual(["seg2.ts", "seg3.ts", "seg4.ts"]);
    // the splice segment has left, the break is still listed: its opening tag comes first
    const lines = text.split("\n");
    expect(lines[6]).toBe(
      `#EXT-X-DATERANGE:ID="insert-7-900000",START-DATE="2026-12-07T01:30:06.000Z",PLANNED-DURATION=8.000,SCTE35-OUT=0x${HEX}`,
    );
    expect(manifest.dateRanges[0]).toMatchObject({ plannedDuration: 8, duration: 8 });
  });

  it("maps PTS to wall time across the 33-bit wrap and from a new base after a discontinuity", () => {
    const c = new PtsWallClock(T0);
    const near = 2 ** 33 - 90_000;
    expect(c.wallMs(near)).toBe(T0);
    expect(c.wallMs(90_000)).toBe(T0 + 2000);
    expect(c.wallMs(2 ** 33 - 45_000)).toBe(T0 + 500); // a splice PTS just behind the latest
    c.rebase(1_000, T0 + 10_000);
    expect(c.wallMs(91_000)).toBe(T0 + 11_000);
  });

  it("writes the multivariant playlist with BANDWIDTH, CODECS and RESOLUTION", () => {
    // x264 baseline SPS for 320x180 (crop from 320x192), level 1.2
    const sps = parseSps(Buffer.from("42c00cda05067e7c0440000003004000000c83c50aa8", "hex"));
    expect(sps).toMatchObject({ profileIdc: 0x42, constraintFlags: 0xc0, levelIdc: 0x0c, width: 320, height: 180 });
    // x264 High 1280x720 (crop from 1280x736), and High 4:2:2 720x576 (chroma_format_idc in the SPS)
    expect(findSps(Buffer.from("0000000167" + HIGH_720P, "hex"))).toMatchObject({
      width: 1280,
      height: 720,
    });
    expect(avc1Codec(findSps(Buffer.from("0000000167" + HIGH_720P, "hex"))!)).toBe("avc1.64001f");
    expect(findSps(Buffer.from("0000000167" + HIGH422_576, "hex"))).toMatchObject({
      profileIdc: 122,
      width: 720,
      height: 576,
    });
    const text = renderMaster({
      bandwidth: 1_003_167.5,
      codecs: `${avc1Codec(sps!)},mp4a.40.2`,
      width: 320,
      height: 180,
      uri: "index.m3u8",
    });
    expect(text).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=1003168,CODECS="avc1.42c00c,mp4a.40.2",RESOLUTION=320x180\nindex.m3u8\n',
    );
  });
});
