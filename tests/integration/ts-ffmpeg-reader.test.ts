/**
 * TsReader and PES timestamps on live FFmpeg output: a TS read from ffmpeg's stdout pipe as
 * it arrives, and the PTS shift of -output_ts_offset seen through our PES reader.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTestTs, haveFfmpeg, makeTestTs, testTsArgs } from "../helpers/ffmpeg.js";
import { pid, pusi } from "../../src/ts/packet.js";
import { readPacketPts } from "../../src/ts/pes.js";
import { PsiTracker } from "../../src/ts/psi-tracker.js";
import { TsReader } from "../../src/ts/reader.js";
import { ptsDiff } from "../../src/ts/timestamps.js";

function videoPts(ts: Uint8Array): number[] {
  const out: number[] = [];
  const r = new TsReader({
    onPacket: (b, o) => {
      if (pid(b, o) === 0x100 && pusi(b, o)) out.push(readPacketPts(b, o));
    },
  });
  r.push(ts);
  r.end();
  return out;
}

describe.runIf(haveFfmpeg())("TsReader on real FFmpeg output", () => {
  afterAll(() => cleanupTestTs());

  it("reads ffmpeg's stdout pipe chunk by chunk with no damage", async () => {
    const tracker = new PsiTracker();
    let chunks = 0;
    const reader = new TsReader({ onPackets: (b, s, n) => tracker.pushRun(b, s, n) });
    const child = spawn("ffmpeg", testTsArgs("pipe:1", { seconds: 1 }), { stdio: ["ignore", "pipe", "ignore"] });
    try {
      child.stdout.on("data", (c: Buffer) => {
        chunks++;
        reader.push(c);
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", resolve);
      });
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    reader.end();
    expect(chunks).toBeGreaterThan(1);
    expect(reader.stats.packets * 188).toBe(reader.stats.bytesIn);
    expect(reader.stats.resyncs).toBe(0);
    expect(tracker.pmts.get(1)?.streams.map((s) => s.elementaryPid)).toEqual([0x100, 0x101]);
  });

  it("sees -output_ts_offset 10 as one constant shift of about +900000 ticks on every video PTS", async () => {
    const plain = videoPts(new Uint8Array(readFileSync(await makeTestTs({ seconds: 2 }))));
    const shifted = videoPts(new Uint8Array(readFileSync(await makeTestTs({ seconds: 2, outputTsOffset: 10 }))));
    expect(plain.length).toBe(50);
    expect(shifted.length).toBe(plain.length);
    const shifts = new Set(shifted.map((v, i) => ptsDiff(v, plain[i])));
    expect(shifts.size).toBe(1);
    // ffmpeg 5.1 measured: 900000 − 1920 (the AAC priming delay moves the start time).
    const [shift] = [...shifts];
    expect(Math.abs(shift - 900000)).toBeLessThanOrEqual(3600);
  });
});
