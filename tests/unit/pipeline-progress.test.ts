import { describe, expect, it } from "vitest";
import { parseBitrate, parseSpeed, ProgressParser } from "../../src/pipeline/progress.js";

// captured from FFmpeg 5.1 (`-progress pipe:3`, testsrc2 + sine → libx264/aac, mpegts)
const SAMPLE = [
  "frame=12",
  "fps=0.00",
  "stream_0_0_q=0.0",
  "bitrate=N/A",
  "total_size=22748",
  "out_time_us=-1400000",
  "out_time_ms=-1400000",
  "out_time=-00:00:01.400000",
  "dup_frames=0",
  "drop_frames=0",
  "speed=N/A",
  "progress=continue",
  "frame=150",
  "fps=29.87",
  "stream_0_0_q=-1.0",
  "bitrate= 603.9kbits/s",
  "total_size=378444",
  "out_time_us=5013333",
  "out_time_ms=5013333",
  "out_time=00:00:05.013333",
  "dup_frames=0",
  "drop_frames=1",
  "speed=0.998x",
  "progress=end",
  "",
].join("\n");

describe("ProgressParser", () => {
  it("parses key=value blocks into reports", () => {
    const p = new ProgressParser();
    const r = p.push(SAMPLE);
    expect(r).toHaveLength(2);
    expect(r[0]).toMatchObject({
      frame: 12,
      fps: 0,
      bitrate: null,
      totalSize: 22748,
      outTimeUs: -1_400_000,
      speed: null,
      progress: "continue",
    });
    expect(r[1]).toMatchObject({
      frame: 150,
      fps: 29.87,
      bitrate: 603_900,
      totalSize: 378_444,
      outTimeUs: 5_013_333,
      speed: 0.998,
      dupFrames: 0,
      dropFrames: 1,
      progress: "end",
    });
    expect(r[1].raw.stream_0_0_q).toBe("-1.0");
    expect(p.reports).toBe(2);
  });

  it("gives the same reports however the stream is split", () => {
    const whole = new ProgressParser().push(SAMPLE);
    const buf = Buffer.from(SAMPLE);
    for (let cut = 0; cut <= buf.length; cut++) {
      const p = new ProgressParser();
      expect([...p.push(buf.subarray(0, cut)), ...p.push(buf.subarray(cut))]).toEqual(whole);
    }
    const p = new ProgressParser();
    const bytes: ReturnType<ProgressParser["push"]> = [];
    for (const b of buf) bytes.push(...p.push(Buffer.from([b])));
    expect(bytes).toEqual(whole);
  });

  it("accepts CRLF and ignores junk lines", () => {
    const r = new ProgressParser().push("garbage\r\n=x\r\nframe=3\r\nspeed=1.5x\r\nprogress=continue\r\n");
    expect(r).toEqual([expect.objectContaining({ frame: 3, speed: 1.5, progress: "continue" })]);
  });

  it("uses out_time_ms when out_time_us is missing (both are µs)", () => {
    expect(new ProgressParser().push("out_time_ms=42\nprogress=continue\n")[0].outTimeUs).toBe(42);
  });

  it("bounds a block that never ends", () => {
    const p = new ProgressParser();
    for (let i = 0; i < 10_000; i++) p.push(`k${i}=v\n`);
    const r = p.push("progress=continue\n")[0];
    expect(Object.keys(r.raw)).toHaveLength(64);
  });
});

describe("value parsers", () => {
  it("parses bitrates and speeds", () => {
    expect(parseBitrate("3500.2kbits/s")).toBe(3_500_200);
    expect(parseBitrate("N/A")).toBeNull();
    expect(parseSpeed("1.01x")).toBe(1.01);
    expect(parseSpeed(" 12x")).toBe(12);
    expect(parseSpeed("N/A")).toBeNull();
  });
});
