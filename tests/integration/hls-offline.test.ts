/**
 * Issue #21 acceptance, offline: `onair inject --hls` over a 40 s CBR FFmpeg TS with an IDR
 * every second, two breaks, `--hls-markers both`, 6 s segments. The playlists are read with
 * videojs m3u8-parser; each segment is checked with our scan (PAT, PMT, IDR first; 0 CC
 * errors; PTS) and with ffprobe (no errors, first video packet a key frame).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectBytes } from "../../src/inject/inspect.js";
import { AU_IDR, IdrScanner } from "../../src/inject/nal.js";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { PatSection, createPesHeader, payloadOffset, readPesHeaderFromPacket } from "../../src/ts/index.js";
import { ptsDiff } from "../../src/ts/timestamps.js";
import { runCli } from "../helpers/cli.js";
import { cleanupTestTs, haveFfmpeg, makeTestTs, runTool } from "../helpers/ffmpeg.js";
import { parseM3u8 } from "../helpers/m3u8.js";
import { scanTs } from "../helpers/tsscan.js";
import type { M3u8Manifest } from "m3u8-parser";

const SCTE35_PID = 500;
const VIDEO_PID = 0x100;
const START = "2026-12-07T01:30:00.000Z";

interface SegmentFacts {
  uri: string;
  firstPts: number;
  lastPts: number;
  firstPids: number[];
  firstEsIsIdr: boolean;
  ccErrors: number;
  cues: Uint8Array[];
}

/** Our own reading of one segment file. */
function readSegment(dir: string, uri: string): SegmentFacts {
  const data = readFileSync(join(dir, uri));
  const scan = scanTs(data, [0, SCTE35_PID]);
  const pat = PatSection.decode(scan.sections.find((s) => s.pid === 0)!.bytes);
  const pmtPid = pat.programs.find((p) => p.programNumber !== 0)!.pid;
  const pes = createPesHeader();
  const pts: number[] = [];
  let firstEsIsIdr = false;
  let firstEs = true;
  for (let off = 0; off < data.length; off += 188) {
    const pid = ((data[off + 1] & 0x1f) << 8) | data[off + 2];
    if (pid !== VIDEO_PID && pid !== VIDEO_PID + 1) continue;
    if (pid === VIDEO_PID && readPesHeaderFromPacket(data, off, pes) && pes.pts >= 0) {
      pts.push(pes.pts);
      if (firstEs) {
        const scanner = new IdrScanner("h264");
        scanner.startAccessUnit();
        let verdict = scanner.feed(data, pes.payloadStart, off + 188);
        for (let o = off + 188; o < data.length && verdict < 0; o += 188) {
          if ((((data[o + 1] & 0x1f) << 8) | data[o + 2]) === VIDEO_PID) verdict = scanner.feed(data, payloadOffset(data, o), o + 188);
        }
        firstEsIsIdr = verdict === AU_IDR;
      }
    }
    firstEs = false;
  }
  return {
    uri,
    firstPts: pts[0],
    lastPts: Math.max(...pts),
    firstPids: [scan.pidAt[0], scan.pidAt[1]].map((p) => (p === pmtPid ? -2 : p)),
    firstEsIsIdr,
    ccErrors: [...scan.ccErrors.values()].reduce((a, b) => a + b, 0),
    cues: scan.sections.filter((s) => s.pid === SCTE35_PID).map((s) => s.bytes),
  };
}

describe.skipIf(!haveFfmpeg())("onair inject --hls (issue #21 offline acceptance)", () => {
  let tmp: string;
  let dir: string;
  let media: M3u8Manifest;
  let master: M3u8Manifest;
  let warnings: string[];
  let segs: SegmentFacts[];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "onair-hls-"));
    dir = join(tmp, "hls");
    const input = await makeTestTs({ seconds: 40, muxrate: "1M", name: "hls-40s.ts" });
    const args = ["inject", "--input", input, "--hls", dir, "--break", "12.3,8", "--break", "27,6"];
    args.push("--hls-markers", "both", "--hls-segment-seconds", "6", "--store", join(tmp, "onair.db"), "--start-time", START);
    const r = await runCli(args, { timeoutMs: 60_000 });
    expect(r.stderr.split("\n").filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hls: \d+ segments/m);
    const parsed = parseM3u8(readFileSync(join(dir, "index.m3u8"), "utf8"));
    media = parsed.manifest;
    warnings = parsed.warnings;
    master = parseM3u8(readFileSync(join(dir, "master.m3u8"), "utf8")).manifest;
    segs = media.segments.map((s) => readSegment(dir, s.uri));
  }, 120_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    cleanupTestTs();
  });

  it("writes a VOD playlist the independent parser reads without warnings", () => {
    expect(warnings).toEqual([]);
    expect(media.playlistType).toBe("VOD");
    expect(media.endList).toBe(true);
    expect(media.targetDuration).toBe(6);
    expect(media.mediaSequence).toBe(0);
    expect(media.discontinuitySequence).toBe(0);
    expect(media.segments.every((s) => !s.discontinuity)).toBe(true);
    expect(media.segments.map((s) => Math.round(s.duration)).every((d) => d <= 6)).toBe(true);
    expect(existsSync(join(dir, ".index.m3u8.tmp"))).toBe(false);
  });

  it("names the media playlist in master.m3u8 with BANDWIDTH, CODECS from the SPS and RESOLUTION", () => {
    const v = master.playlists![0];
    expect(v.uri).toBe("index.m3u8");
    expect(v.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(v.attributes.RESOLUTION).toEqual({ width: 320, height: 240 });
    expect(v.attributes.BANDWIDTH).toBeGreaterThan(900_000);
  });

  it("opens every segment with PAT, PMT and an IDR, with no CC error inside", async () => {
    for (const s of segs) {
      expect(s.firstPids, s.uri).toEqual([0, -2]);
      expect(s.firstEsIsIdr, s.uri).toBe(true);
      expect(s.ccErrors, s.uri).toBe(0);
      const findings = inspectBytes(readFileSync(join(dir, s.uri))).filter((r) => r.type === "error");
      expect(findings, s.uri).toEqual([]);
      const probe = await runTool("ffprobe", [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=flags",
        "-read_intervals",
        "%+#1",
        "-of",
        "csv=p=0",
        join(dir, s.uri),
      ]);
      expect(probe.stderr, s.uri).toBe("");
      expect(probe.stdout.toString().trim().startsWith("K"), s.uri).toBe(true);
    }
  }, 60_000);

  it("gives EXTINF and PROGRAM-DATE-TIME from the segments' PTS", () => {
    const first = segs[0].firstPts;
    for (let i = 0; i < segs.length; i++) {
      const next = i + 1 < segs.length ? segs[i + 1].firstPts : segs[i].lastPts + 3600;
      expect(media.segments[i].duration, segs[i].uri).toBeCloseTo(ptsDiff(next, segs[i].firstPts) / 90_000, 3);
      const pdt = Date.parse(START) + ptsDiff(segs[i].firstPts, first) / 90;
      expect(media.segments[i].programDateTime, segs[i].uri).toBe(Math.round(pdt));
    }
  });

  it("starts each break's CUE-OUT segment on its splice IDR and its CUE-IN segment on the return IDR", () => {
    const first = segs[0].firstPts;
    const at = (s: number): number => segs.findIndex((x) => x.firstPts === first + s * 90_000);
    // IDRs every second from the first frame: 12.3 s → 13 s (+8 → 21 s), 27 s (+6 → 33 s)
    const plan = [
      { out: at(13), back: at(21), duration: "8.000" },
      { out: at(27), back: at(33), duration: "6.000" },
    ];
    for (const p of plan) {
      expect(p.out).toBeGreaterThan(0);
      expect(p.back).toBeGreaterThan(p.out);
      expect(media.segments[p.out].cueOut).toBe(p.duration);
      expect(media.segments[p.back].cueIn).toBe("");
      for (let i = p.out + 1; i < p.back; i++) {
        const elapsed = ptsDiff(segs[i].firstPts, segs[p.out].firstPts) / 90_000;
        expect(media.segments[i].cueOutCont).toMatch(new RegExp(`^ElapsedTime=${elapsed.toFixed(3)},Duration=${p.duration},SCTE35=`));
      }
    }
    const tagged = media.segments.map((s, i) => (s.cueOut ? `out${i}` : s.cueIn !== undefined ? `in${i}` : "")).filter(Boolean);
    expect(tagged).toEqual(plan.flatMap((p) => [`out${p.out}`, `in${p.back}`]));
  });

  it("carries in the tags the same splice_info_section as the TS, for the same splice", () => {
    const tsCues = segs.flatMap((s) => s.cues.map((c) => Buffer.from(c).toString("hex")));
    const outs = media.segments.map((s, i) => ({ s, i })).filter(({ s }) => s.cueOut);
    expect(outs).toHaveLength(2);
    expect(media.dateRanges).toHaveLength(2);
    for (const [k, { s, i }] of outs.entries()) {
      const b64 = s.custom!.oatcls as string;
      const bytes = Buffer.from(b64, "base64");
      expect(tsCues).toContain(bytes.toString("hex"));
      const section = decodeSpliceInfoSection(bytes);
      if (section.encryptedPacket || section.spliceCommandType !== 0x05) throw new Error("not a splice_insert");
      const cmd: SpliceInsert = section.spliceCommand;
      expect(cmd.outOfNetworkIndicator).toBe(true);
      expect(cmd.spliceTime?.ptsTime).toBe(segs[i].firstPts);
      expect(cmd.breakDuration?.duration).toBe(Number(s.cueOut) * 90_000);
      const dr = media.dateRanges[k];
      expect(dr.scte35Out).toBe(`0x${bytes.toString("hex").toUpperCase()}`);
      expect(dr.startDate.getTime()).toBe(s.programDateTime);
      expect(dr.plannedDuration).toBe(Number(s.cueOut));
      expect(dr.duration).toBe(Number(s.cueOut));
      expect(s.cueOutCont === undefined).toBe(true);
    }
  });

  it("keeps the same cut whatever the marker style, and writes no marker with none", async () => {
    const none = join(tmp, "none");
    const input = await makeTestTs({ seconds: 40, muxrate: "1M", name: "hls-40s.ts" });
    const r = await runCli([
      "inject",
      "--input",
      input,
      "--hls",
      none,
      "--break",
      "12.3,8",
      "--break",
      "27,6",
      "--hls-markers",
      "none",
      "--store",
      join(tmp, "n.db"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(none, "index.m3u8"), "utf8");
    expect(text).not.toMatch(/CUE|DATERANGE|OATCLS/);
    expect(parseM3u8(text).manifest.segments.map((s) => s.duration)).toEqual(media.segments.map((s) => s.duration));
  }, 60_000);

  it("takes --output or --hls, exactly one", async () => {
    const input = await makeTestTs({ seconds: 40, muxrate: "1M", name: "hls-40s.ts" });
    const both = await runCli([
      "inject",
      "--input",
      input,
      "--output",
      join(tmp, "o.ts"),
      "--hls",
      join(tmp, "x"),
      "--store",
      join(tmp, "c.db"),
    ]);
    expect(both.stderr).toMatch(/ONAIR_CLI_BAD_OPTION: inject takes --output FILE or --hls DIR, not both/);
    const neither = await runCli(["inject", "--input", input, "--store", join(tmp, "c.db")]);
    expect(neither.stderr).toMatch(/ONAIR_CLI_BAD_OPTION: inject needs --output FILE or --hls DIR/);
    expect([both.code, neither.code]).toEqual([1, 1]);
    expect(existsSync(join(tmp, "x")) || existsSync(join(tmp, "o.ts"))).toBe(false);
  }, 60_000);

  it("fails with ONAIR_HLS_WRITE_FAILED when a file stands where the directory should be", async () => {
    const blocked = join(tmp, "blocked");
    writeFileSync(blocked, "not a directory");
    const input = await makeTestTs({ seconds: 40, muxrate: "1M", name: "hls-40s.ts" });
    const r = await runCli(["inject", "--input", input, "--hls", join(blocked, "hls"), "--store", join(tmp, "b.db")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ONAIR_HLS_WRITE_FAILED: cannot write .*blocked\/hls\/seg0\.ts: ENOTDIR/);
  }, 60_000);
});
