/**
 * Issue acceptance for the injector, on TS files made by real FFmpeg with an IDR every
 * second (-force_key_frames expr:gte(t,n_forced), -muxrate 3M), checked with our own scan,
 * ffprobe, FFmpeg's debug continuity check and mux.js.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSpliceInfoSection, type ClearSpliceInfoSection, type SpliceInsert, type TimeSignal } from "../../src/scte35/index.js";
import { PTS_MODULUS, ptsAdd, ptsDiff } from "../../src/ts/timestamps.js";
import { PmtSection } from "../../src/ts/pmt.js";
import { onairBin, runCli } from "../helpers/cli.js";
import { cleanupTestTs, haveFfmpeg, makeTestTs, runFfprobeJson, runTool } from "../helpers/ffmpeg.js";
import { readMuxjs } from "../helpers/muxjs-read.js";
import { pcrAtPacket, scanTs, type TsScan } from "../helpers/tsscan.js";

const SCTE35_PID = 500;
const PMT_PID = 0x1000;

interface Cue {
  packet: number;
  section: ClearSpliceInfoSection;
  bytes: string;
}

function cuesOf(scan: TsScan): Cue[] {
  return scan.sections
    .filter((s) => s.pid === SCTE35_PID)
    .map((s) => {
      const section = decodeSpliceInfoSection(s.bytes);
      if (section.encryptedPacket) throw new Error("encrypted cue");
      return { packet: s.packet, section, bytes: Buffer.from(s.bytes).toString("hex") };
    });
}

/** Video packets from ffprobe: PTS (mod 2^33) in file order and whether each is a key frame. */
async function videoPackets(file: string): Promise<Array<{ pts: number; key: boolean }>> {
  const j = await runFfprobeJson<{ packets: Array<{ pts: number; flags: string }> }>([
    "-select_streams",
    "v",
    "-show_entries",
    "packet=pts,flags",
    file,
  ]);
  return j.packets.map((p) => ({ pts: ((p.pts % PTS_MODULUS) + PTS_MODULUS) % PTS_MODULUS, key: p.flags.startsWith("K") }));
}

function firstIdrAtOrAfter(idrs: number[], pts: number): number {
  let best = -1;
  for (const p of idrs) if (ptsDiff(p, pts) >= 0 && (best < 0 || ptsDiff(p, best) < 0)) best = p;
  return best;
}

interface Summary {
  reader: { resyncs: number; bytesSkipped: number; truncatedBytes: number };
  injector: {
    inputPmtChanges: number;
    pmtRewrites: number;
    ptsJumps: number;
    inserted: number;
    breaksPlanned: number;
    cuesSent: Record<string, number>;
  };
}

async function inject(args: string[]): Promise<Summary> {
  const r = await runCli(["inject", ...args, "--json"]);
  if (r.code !== 0) throw new Error(`onair inject failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Summary;
}

/** Checks every break: 3 identical sends, distinct ids, splice on an IDR, ≥ 4 s lead, duration to the frame. */
function checkBreaks(out: TsScan, cues: Cue[], video: Array<{ pts: number; key: boolean }>, requested: Array<[number, number]>): void {
  const idrs = video.filter((v) => v.key).map((v) => v.pts);
  const firstVideoPts = video[0].pts;
  const byId = new Map<number, Cue[]>();
  for (const c of cues) {
    const id = (c.section.spliceCommand as SpliceInsert).spliceEventId;
    byId.set(id, [...(byId.get(id) ?? []), c]);
  }
  expect(byId.size).toBe(requested.length);
  const groups = [...byId.values()].sort((a, b) => a[0].packet - b[0].packet);
  groups.forEach((sends, i) => {
    expect(sends).toHaveLength(3);
    expect(new Set(sends.map((s) => s.bytes)).size).toBe(1);
    const cmd = sends[0].section.spliceCommand as SpliceInsert;
    const splice = cmd.spliceTime!.ptsTime!;
    const [start, dur] = requested[i];
    expect(splice).toBe(firstIdrAtOrAfter(idrs, ptsAdd(firstVideoPts, Math.round(start * 90000))));
    expect(idrs).toContain(splice);
    const lead = ptsDiff(splice, pcrAtPacket(out, sends[0].packet));
    expect(lead).toBeGreaterThanOrEqual(4 * 90000);
    for (const s of sends) expect(ptsDiff(splice, pcrAtPacket(out, s.packet))).toBeGreaterThan(0);
    const ret = firstIdrAtOrAfter(idrs, ptsAdd(splice, Math.round(dur * 90000)));
    expect(cmd.breakDuration).toEqual({ autoReturn: true, duration: ptsDiff(ret, splice) });
    if (Number.isInteger(dur)) expect(cmd.breakDuration!.duration).toBe(dur * 90000);
  });
}

const enabled = haveFfmpeg();

describe.runIf(enabled)("onair inject on a real FFmpeg TS", () => {
  let dir = "";
  let input = "";
  let output = "";
  let inScan: TsScan;
  let outScan: TsScan;
  let video: Array<{ pts: number; key: boolean }>;
  const breaks: Array<[number, number]> = [
    [10, 5],
    [20, 5.5],
    [30, 3],
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-inject-"));
    input = await makeTestTs({ seconds: 40, name: "inject-40s.ts" });
    output = join(dir, "out.ts");
    await inject([
      "--input",
      input,
      "--output",
      output,
      ...breaks.flatMap(([s, d]) => ["--break", `${s},${d}`]),
      "--store",
      join(dir, "s.db"),
    ]);
    inScan = scanTs(input);
    outScan = scanTs(output, [SCTE35_PID, PMT_PID]);
    video = await videoPackets(output);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    cleanupTestTs();
  });

  it("puts cue packets that ffprobe lists on the data stream", async () => {
    const j = await runFfprobeJson<{ packets: unknown[] }>(["-show_packets", "-select_streams", "d", output]);
    expect(j.packets).toHaveLength(9);
  });

  it("announces the SCTE-35 PID in a rewritten PMT with CUEI and a new version", () => {
    const pmts = outScan.sections.filter((s) => s.pid === PMT_PID).map((s) => PmtSection.decode(s.bytes));
    expect(pmts.length).toBeGreaterThan(10);
    const v = new Set(pmts.map((p) => p.versionNumber));
    expect([...v]).toEqual([1]);
    const p = pmts[0];
    expect(p.programInfo.some((d) => d.tag === 0x05 && Buffer.from(d.data).toString() === "CUEI")).toBe(true);
    const s = p.streams.find((x) => x.elementaryPid === SCTE35_PID);
    expect(s?.streamType).toBe(0x86);
    expect(s?.descriptors).toEqual([{ tag: 0x8a, data: Uint8Array.of(0x01) }]);
  });

  it("sends each break 3 times with one event id, on an IDR, at least 4 s ahead, with the duration to the frame", () => {
    checkBreaks(outScan, cuesOf(outScan), video, breaks);
  });

  it("keeps the size, every PCR and the continuity counters", async () => {
    expect(statSync(output).size).toBe(statSync(input).size);
    expect(outScan.pcrs).toEqual(inScan.pcrs);
    expect([...outScan.ccErrors.entries()]).toEqual([]);
    const { stderr } = await runTool("ffmpeg", ["-hide_banner", "-v", "debug", "-i", output, "-f", "null", "-"]);
    expect(stderr).toContain("mpegts");
    expect(stderr).not.toContain("Continuity check failed");
  });

  it("leaves video and audio as mux.js reads them", () => {
    const a = readMuxjs(new Uint8Array(readFileSync(input)));
    const b = readMuxjs(new Uint8Array(readFileSync(output)));
    expect(b.videoPid).toBe(a.videoPid);
    expect(b.audioPid).toBe(a.audioPid);
    const ts = (r: typeof a): string[] => r.pes.map((p) => `${p.type}:${p.pts}:${p.dts}`);
    expect(ts(b)).toEqual(ts(a));
    expect(b.pes.length).toBeGreaterThan(1000);
  });

  it("sends time_signal start/end pairs with segmentation descriptors in time_signal mode", async () => {
    const out2 = join(dir, "ts.ts");
    await inject(["--input", input, "--output", out2, "--break", "10,5,ad-7", "--mode", "time_signal", "--store", join(dir, "s.db")]);
    const cues = cuesOf(scanTs(out2, [SCTE35_PID]));
    expect(cues).toHaveLength(6);
    const types = cues.map((c) => (c.section.descriptors[0] as { segmentationTypeId: number }).segmentationTypeId);
    expect(types).toEqual([0x34, 0x34, 0x34, 0x35, 0x35, 0x35]);
    const t0 = (cues[0].section.spliceCommand as TimeSignal).spliceTime.ptsTime!;
    const t1 = (cues[3].section.spliceCommand as TimeSignal).spliceTime.ptsTime!;
    expect(ptsDiff(t1, t0)).toBe(5 * 90000);
    expect(cues[0].section.descriptors[0]).toMatchObject({ segmentationDuration: 5 * 90000, segmentationUpidText: "urn:onair:break:ad-7" });
  });

  it("sends a return splice_insert with the same id when auto-return is off", async () => {
    const out3 = join(dir, "noauto.ts");
    await inject(["--input", input, "--output", out3, "--break", "10,5", "--no-auto-return", "--store", join(dir, "s.db")]);
    const cues = cuesOf(scanTs(out3, [SCTE35_PID])).map((c) => c.section.spliceCommand as SpliceInsert);
    expect(cues).toHaveLength(6);
    expect(cues.map((c) => c.outOfNetworkIndicator)).toEqual([true, true, true, false, false, false]);
    expect(new Set(cues.map((c) => c.spliceEventId)).size).toBe(1);
    expect(ptsDiff(cues[3].spliceTime!.ptsTime!, cues[0].spliceTime!.ptsTime!)).toBe(5 * 90000);
    expect(cues[0].durationFlag).toBe(false);
  });

  it("finds MPEG-2 video key frames from random_access_indicator and splices on them", async () => {
    const m2 = await makeTestTs({ seconds: 20, extraArgs: ["-c:v", "mpeg2video"], muxrate: "6M", name: "inject-mpeg2.ts" });
    const out = join(dir, "m2-out.ts");
    const s = await inject(["--input", m2, "--output", out, "--break", "8,4", "--store", join(dir, "s.db")]);
    expect(s.injector.cuesSent.splice_insert).toBe(3);
    const scan = scanTs(out, [SCTE35_PID]);
    const v = await videoPackets(out);
    const cue = cuesOf(scan)[0].section.spliceCommand as SpliceInsert;
    expect(v.filter((p) => p.key).map((p) => p.pts)).toContain(cue.spliceTime!.ptsTime);
    expect(cue.breakDuration!.duration).toBe(4 * 90000);
  });

  it("sends a splice_null heartbeat at the requested interval", async () => {
    const out = join(dir, "hb.ts");
    await inject(["--input", input, "--output", out, "--heartbeat", "5", "--store", join(dir, "s.db")]);
    const scan = scanTs(out, [SCTE35_PID]);
    const nulls = cuesOf(scan).filter((c) => c.section.spliceCommandType === 0);
    // 40 s of stream: one every 5 s after the first PCR
    expect(nulls.length).toBe(7);
    const times = nulls.map((c) => pcrAtPacket(scan, c.packet));
    for (let i = 1; i < times.length; i++) expect(Math.abs(ptsDiff(times[i], times[i - 1]) - 5 * 90000)).toBeLessThan(9000);
  });

  it("writes the output but exits 1 with ONAIR_INJECT_BREAK_NOT_PLACED naming each break not placed", async () => {
    const out = join(dir, "partly.ts");
    // 40 s of stream, last IDR at 39 s: 39.5 s gets its cues but no splice frame; 60 s gets nothing
    const r = await runCli([
      "inject",
      "--input",
      input,
      "--output",
      out,
      "--break",
      "10,5",
      "--break",
      "39.5,5,late",
      "--break",
      "60,5",
      "--store",
      join(dir, "s.db"),
      "--json",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'onair: ONAIR_INJECT_BREAK_NOT_PLACED: 2 of 3 breaks not placed: break 2 "late" (--break 39.5,5): the input ends before its splice point (splice point at 40.0 s); break 3 (--break 60,5): the input ends before its splice point (splice point at 60.0 s); the input\'s last key frame is at 39.0 s; the output was written without them',
    );
    const summary = JSON.parse(r.stdout.trim()) as { breaks: Array<{ placed: boolean; reason?: string }> };
    expect(summary.breaks.map((b) => [b.placed, b.reason])).toEqual([
      [true, undefined],
      [false, "splice_after_end"],
      [false, "splice_after_end"],
    ]);
    // what could be placed is there: the whole stream, with the first break's three sends
    expect(statSync(out).size).toBe(statSync(input).size);
    const first = cuesOf(scanTs(out, [SCTE35_PID])).filter((c) => c.packet < outScan.packets / 2);
    expect(first).toHaveLength(3);
  });

  it("refuses a preroll under 4 s with ONAIR_CUE_PREROLL", async () => {
    const r = await runCli(["inject", "--input", input, "--output", join(dir, "x.ts"), "--preroll", "3", "--store", join(dir, "s.db")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("ONAIR_CUE_PREROLL");
  });

  it("gets exact cues on a stream whose PTS wraps past 2^33 during a break", async () => {
    // wrap about 14 s into the content: offset + 1.4 s mux delay + 14 s = 2^33 / 90000 s
    const wrapIn = await makeTestTs({ seconds: 30, outputTsOffset: 95443.7177 - 1.4 - 14, name: "inject-wrap.ts" });
    const wrapOut = join(dir, "wrap-out.ts");
    const wrapBreaks: Array<[number, number]> = [
      [10, 6],
      [16, 4],
      [20, 3],
    ];
    await inject([
      "--input",
      wrapIn,
      "--output",
      wrapOut,
      ...wrapBreaks.flatMap(([s, d]) => ["--break", `${s},${d}`]),
      "--store",
      join(dir, "s.db"),
    ]);
    const scan = scanTs(wrapOut, [SCTE35_PID]);
    const v = await videoPackets(wrapOut);
    // the stream does wrap inside the first break
    const first = v[0].pts;
    expect(first).toBeGreaterThan(PTS_MODULUS - 20 * 90000);
    expect(v.some((p) => p.pts < first)).toBe(true);
    checkBreaks(scan, cuesOf(scan), v, wrapBreaks);
    expect([...scan.ccErrors.entries()]).toEqual([]);
  });

  it("never repeats an event id after the process is killed between cues", async () => {
    const store = join(dir, "kill.db");
    const half = join(dir, "half.ts");
    // feed the file through a pipe so the process is still running when the first cue goes out
    const child = spawn(
      process.execPath,
      [
        onairBin,
        "inject",
        "--input",
        "-",
        "--output",
        half,
        "--break",
        "10,5",
        "--break",
        "20,5",
        "--break",
        "30,5",
        "--store",
        store,
        "--verbose",
      ],
      {
        stdio: ["pipe", "ignore", "pipe"],
      },
    );
    const data = readFileSync(input);
    let log = "";
    const firstCue = new Promise<void>((resolve) => {
      child.stderr.on("data", (c: Buffer) => {
        log += c.toString();
        if (log.includes('"event":"cue_sent"')) resolve();
      });
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    child.stdin.on("error", () => undefined);
    // up to 16 s of the 40 s file: past the first cue, before the second break's cues
    const chunk = 188 * 512;
    let sent = 0;
    const limit = Math.floor((data.length * 16) / 40);
    const pump = (): void => {
      while (sent < limit) {
        const ok = child.stdin.write(data.subarray(sent, sent + chunk));
        sent += chunk;
        if (!ok) {
          child.stdin.once("drain", pump);
          return;
        }
      }
    };
    pump();
    await Promise.race([firstCue, exited.then(() => Promise.reject(new Error(`inject exited early: ${log}`)))]);
    child.kill("SIGKILL");
    await exited;
    const idsBefore = [...log.matchAll(/"event":"cue_sent"[^\n]*"spliceEventId":(\d+)/g)].map((m) => Number(m[1]));
    expect(idsBefore.length).toBeGreaterThan(0);

    const again = join(dir, "again.ts");
    await inject(["--input", input, "--output", again, "--break", "10,5", "--break", "20,5", "--break", "30,5", "--store", store]);
    const idsAfter = cuesOf(scanTs(again, [SCTE35_PID])).map((c) => (c.section.spliceCommand as SpliceInsert).spliceEventId);
    expect(new Set(idsAfter).size).toBe(3);
    for (const id of idsAfter) expect(idsBefore).not.toContain(id);
    expect(Math.min(...idsAfter)).toBeGreaterThan(Math.max(...idsBefore));
  });

  it("keeps the output valid through garbage, a PMT change and a truncated last packet, and counts the damage", async () => {
    const other = await makeTestTs({ seconds: 12, extraArgs: ["-mpegts_start_pid", "0x200"], name: "inject-otherpids.ts" });
    const a = readFileSync(input).subarray(0, 188 * Math.floor((readFileSync(input).length * 12) / 40 / 188));
    const garbage = Buffer.alloc(1000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251 === 0x47 ? 0 : (i * 7919 + 13) % 251;
    const b = readFileSync(other);
    const damaged = join(dir, "damaged.ts");
    writeFileSync(damaged, Buffer.concat([a, garbage, b.subarray(0, b.length - 100)]));
    const out = join(dir, "damaged-out.ts");
    const s = await inject(["--input", damaged, "--output", out, "--break", "8,2", "--store", join(dir, "s.db")]);
    expect(s.reader.resyncs).toBeGreaterThanOrEqual(1);
    expect(s.reader.bytesSkipped).toBeGreaterThanOrEqual(1000);
    expect(s.reader.truncatedBytes).toBe(88);
    expect(s.injector.inputPmtChanges).toBe(2);
    expect(s.injector.pmtRewrites).toBe(2);
    expect(s.injector.ptsJumps).toBeGreaterThanOrEqual(1);
    expect(s.injector.cuesSent.splice_insert).toBe(3);

    const scan = scanTs(out, [SCTE35_PID, PMT_PID]);
    expect(scan.resyncs).toBe(0);
    expect(scan.bytesSkipped).toBe(0);
    expect(statSync(out).size % 188).toBe(0);
    // the PIDs the injector owns stay continuous across the splice of the two inputs
    expect(scan.ccErrors.get(SCTE35_PID)).toBeUndefined();
    expect(scan.ccErrors.get(PMT_PID)).toBeUndefined();
    const versions = scan.sections.filter((x) => x.pid === PMT_PID).map((x) => PmtSection.decode(x.bytes));
    const last = versions[versions.length - 1];
    expect(versions[0].versionNumber).not.toBe(last.versionNumber);
    expect(last.streams.map((x) => x.elementaryPid)).toEqual([0x200, 0x201, SCTE35_PID]);
  });
});
