/**
 * `onair inspect` on a real FFmpeg TS with SCTE-35 cues spliced in: the PMT packets are
 * rewritten to list an SCTE-35 PID, and some null packets are replaced by cue packets.
 * Expected values (packet counts, cue positions, CBR timing) are computed here from the
 * bytes, independently of the inspector.
 */
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCue } from "../../src/inject/encode.js";
import { hasPcr, NULL_PID, pid as packetPid, pusi, TS_PACKET_SIZE } from "../../src/ts/packet.js";
import { ContinuityCounter, packetize } from "../../src/ts/packetizer.js";
import { PmtSection, STREAM_TYPE_SCTE35 } from "../../src/ts/pmt.js";
import { sectionSize } from "../../src/ts/section.js";
import { runCli } from "../helpers/cli.js";
import { cleanupTestTs, haveFfmpeg, makeTestTs } from "../helpers/ffmpeg.js";
import { freeUdpPort } from "../helpers/pipeline.js";

const PMT_PID = 0x1000;
const CUE_PID = 0x1f4;
const SECONDS_PER_PACKET = (TS_PACKET_SIZE * 8) / 3_000_000; // -muxrate 3M

interface Spliced {
  ts: Uint8Array;
  /** Packet index of each cue, in order. */
  cueAt: number[];
}

/**
 * Adds an SCTE-35 stream (PID 0x1F4, registration descriptor 'CUEI') to every PMT packet,
 * keeping each packet's CC, and writes each cue over the first null packet at or after
 * the matching position.
 */
function spliceCues(src: Uint8Array, cues: Uint8Array[], positions: number[]): Spliced {
  const ts = src.slice();
  const n = ts.length / TS_PACKET_SIZE;
  const pmtAt = [...Array(n).keys()].filter((i) => packetPid(ts, i * TS_PACKET_SIZE) === PMT_PID);
  const first = pmtAt[0] * TS_PACKET_SIZE;
  expect(pusi(ts, first) && ts[first + 3] >> 4 === 0x1 && ts[first + 4] === 0).toBe(true);
  const pmt = PmtSection.decode(ts.subarray(first + 5, first + 5 + sectionSize(ts, first + 5)));
  pmt.programInfo.push({ tag: 0x05, data: new Uint8Array([0x43, 0x55, 0x45, 0x49]) });
  pmt.streams.push({ streamType: STREAM_TYPE_SCTE35, elementaryPid: CUE_PID, descriptors: [] });
  const [newPmt] = packetize(pmt.encode(), PMT_PID);
  for (const i of pmtAt) {
    const o = i * TS_PACKET_SIZE;
    const ccByte = ts[o + 3];
    ts.set(newPmt, o);
    ts[o + 3] = ccByte;
  }
  const cc = new ContinuityCounter();
  const cueAt = cues.map((cue, k) => {
    let i = positions[k];
    while (packetPid(ts, i * TS_PACKET_SIZE) !== NULL_PID) i++;
    const [pkt] = packetize(cue, CUE_PID, { newPacketPerSection: true, counter: cc });
    ts.set(pkt, i * TS_PACKET_SIZE);
    return i;
  });
  return { ts, cueAt };
}

/** Packets per PID and the index of the first PCR, counted straight from the bytes. */
function countPackets(ts: Uint8Array): { perPid: Map<number, number>; firstPcr: number } {
  const perPid = new Map<number, number>();
  let firstPcr = -1;
  for (let o = 0; o < ts.length; o += TS_PACKET_SIZE) {
    const p = packetPid(ts, o);
    perPid.set(p, (perPid.get(p) ?? 0) + 1);
    if (firstPcr < 0 && hasPcr(ts, o)) firstPcr = o / TS_PACKET_SIZE;
  }
  return { perPid, firstPcr };
}

const parseLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.runIf(haveFfmpeg())("onair inspect on an FFmpeg-made TS with cues", () => {
  let dir: string;
  let file: string;
  let spliced: Spliced;

  beforeAll(async () => {
    const src = new Uint8Array(readFileSync(await makeTestTs({ seconds: 2 })));
    const badCrc = encodeCue({ command: "splice_insert", spliceEventId: 7002, outOfNetwork: false, splicePts: 200_000 });
    badCrc[badCrc.length - 1] ^= 0xff;
    spliced = spliceCues(
      src,
      [
        encodeCue({ command: "splice_insert", spliceEventId: 7001, outOfNetwork: true, splicePts: 180_000, breakDurationTicks: 90_000 }),
        badCrc,
        encodeCue({ command: "time_signal", spliceEventId: 7003, splicePts: 270_000, segmentationTypeId: 0x34, breakId: "ad-1" }),
      ],
      [500, 1500, 3000],
    );
    dir = mkdtempSync(join(tmpdir(), "onair-inspect-"));
    file = join(dir, "cues.ts");
    writeFileSync(file, spliced.ts);
  }, 120_000);

  afterAll(() => {
    cleanupTestTs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints the program, one line per PID with independent packet counts, the cues and a summary", async () => {
    const r = await runCli(["inspect", file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = parseLines(r.stdout);
    const { perPid, firstPcr } = countPackets(spliced.ts);

    expect(lines.filter((l) => l.type === "program")).toEqual([
      {
        type: "program",
        programNumber: 1,
        pmtPid: PMT_PID,
        pcrPid: 0x100,
        streams: [
          { pid: 0x100, streamType: 0x1b, streamTypeName: "H.264" },
          { pid: 0x101, streamType: 0x0f, streamTypeName: "AAC (ADTS)" },
          { pid: CUE_PID, streamType: 0x86, streamTypeName: "SCTE-35" },
        ],
      },
    ]);

    const pids = lines.filter((l) => l.type === "pid");
    expect(new Map(pids.map((l) => [l.pid, l.packets]))).toEqual(perPid);
    expect(pids.map((l) => l.pid)).toEqual([...perPid.keys()].sort((a, b) => a - b));
    expect(Object.fromEntries(pids.map((l) => [l.pid as number, l.streamTypeName]))).toMatchObject({
      0: "PAT",
      0x11: "SDT/BAT",
      0x100: "H.264",
      0x101: "AAC (ADTS)",
      [CUE_PID]: "SCTE-35",
      [PMT_PID]: "PMT",
      [NULL_PID]: "null",
    });
    expect(pids.every((l) => l.ccErrors === 0)).toBe(true);

    const cues = lines.filter((l) => l.type === "scte35") as {
      packet: number;
      pid: number;
      arrivalSeconds: number;
      section: { spliceCommandType: number; spliceCommand: { spliceEventId?: number }; descriptors: { segmentationEventId?: number }[] };
    }[];
    const [first, , third] = spliced.cueAt;
    expect(cues.map((c) => [c.packet, c.pid])).toEqual([
      [first, CUE_PID],
      [third, CUE_PID],
    ]);
    expect(cues[0].section).toMatchObject({ spliceCommandType: 5, spliceCommand: { spliceEventId: 7001, outOfNetworkIndicator: true } });
    expect(cues[1].section).toMatchObject({ spliceCommandType: 6, descriptors: [{ segmentationEventId: 7003 }] });
    for (const c of cues) {
      // CBR: PCR time advances by one packet's duration per packet
      expect(Math.abs(c.arrivalSeconds - (c.packet - firstPcr) * SECONDS_PER_PACKET)).toBeLessThan(0.002);
    }

    expect(lines.filter((l) => l.type === "error")).toEqual([
      expect.objectContaining({ code: "ONAIR_SCTE35_CRC", packet: spliced.cueAt[1], pid: CUE_PID }),
    ]);

    const summary = lines[lines.length - 1];
    const packets = spliced.ts.length / TS_PACKET_SIZE;
    expect(summary).toMatchObject({
      type: "summary",
      packets,
      resyncs: 0,
      bytesSkipped: 0,
      truncatedBytes: 0,
      transportErrors: 0,
      ccErrors: 0,
      crcErrors: 1,
      scte35Sections: 2,
    });
    expect(Math.abs((summary.durationSeconds as number) - packets * SECONDS_PER_PACKET)).toBeLessThan(0.01);
  });

  it("prints a readable report with one heading line per cue", async () => {
    const r = await runCli(["inspect", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("SCTE-35 sections (2)");
    expect(r.stdout).toMatch(
      new RegExp(`packet ${spliced.cueAt[0]}  PID 0x01F4  arrival \\d+\\.\\d{6} s  splice_insert  out  event 7001  pts_time 2\\.000000 s`),
    );
    expect(r.stdout).toMatch(/time_signal {2}event 7003 {2}pts_time 3\.000000 s/);
    expect(r.stdout).toContain('"spliceEventId": 7001');
    expect(r.stdout).toContain("ONAIR_SCTE35_CRC");
  });
});

describe("onair inspect on unreadable or damaged input", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-inspect-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports a file of zeros and exits 0", async () => {
    const zeros = join(dir, "zeros.ts");
    writeFileSync(zeros, new Uint8Array(188 * 50));
    const r = await runCli(["inspect", zeros, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines[lines.length - 1]).toMatchObject({ type: "summary", packets: 0, resyncs: 1, bytesSkipped: 188 * 50 });
    expect(lines.map((l) => l.code).filter(Boolean)).toEqual(["ONAIR_INSPECT_SYNC_LOSS", "ONAIR_INSPECT_NO_PACKETS"]);
    const human = await runCli(["inspect", zeros]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("ONAIR_INSPECT_NO_PACKETS");
  });

  it("exits non-zero with ONAIR_INSPECT_OPEN and the path for a missing file", async () => {
    const missing = join(dir, "missing.ts");
    const r = await runCli(["inspect", missing, "--json"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`onair: ONAIR_INSPECT_OPEN: cannot open ${missing}`);
  });

  it("refuses live input other than udp:// with ONAIR_INSPECT_UNSUPPORTED", async () => {
    const r = await runCli(["inspect", "srt://127.0.0.1:9000"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("onair: ONAIR_INSPECT_UNSUPPORTED: live input other than udp://");
  });
});

describe.runIf(haveFfmpeg())("onair inspect udp://", () => {
  afterAll(() => cleanupTestTs());

  it("reads a live UDP source for --duration and reports what arrived", async () => {
    const ts = readFileSync(await makeTestTs({ seconds: 2 }));
    const port = await freeUdpPort();
    // the CLI says on stderr once its socket is bound: then send the file as 1316-byte datagrams
    let bound: () => void = () => undefined;
    const listening = new Promise<void>((r) => (bound = r));
    const run = runCli(["inspect", `udp://127.0.0.1:${port}`, "--duration", "3", "--json"], {
      onStderr: (soFar) => {
        if (soFar.includes(`onair inspect: listening on udp://127.0.0.1:${port} for 3 s\n`)) bound();
      },
    });
    const sock = createSocket("udp4");
    await Promise.race([listening, run.then((r) => Promise.reject(new Error(`inspect ended before listening: ${r.stderr}`)))]);
    const datagrams = Math.floor(ts.length / 1316);
    for (let i = 0; i < datagrams; i++) {
      sock.send(ts.subarray(i * 1316, (i + 1) * 1316), port, "127.0.0.1");
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 25));
    }
    const r = await run;
    sock.close();
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; packets?: number; pid?: number });
    const summary = lines.find((l) => l.type === "summary")!;
    expect(summary.packets).toBe(datagrams * 7);
    expect(lines.some((l) => l.type === "program")).toBe(true);
    expect(lines.filter((l) => l.type === "pid").map((l) => l.pid)).toEqual(expect.arrayContaining([0, 0x100, 0x101, 0x1000]));
  });
});
