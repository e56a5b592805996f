/**
 * The HLS writer on a real temp directory: playlists replaced by rename (never written in
 * place), segments deleted only after leaving the window and the grace period (ManualTimers),
 * and a file where the directory should be reported as a typed error, not thrown.
 */
import { existsSync, linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OnairError } from "../../src/core/errors.js";
import { PtsWallClock } from "../../src/hls/playlist.js";
import type { SegmentRecord } from "../../src/hls/segmenter.js";
import { HlsWriter, type HlsWriterOptions } from "../../src/hls/writer.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { parseM3u8 } from "../helpers/m3u8.js";

const T0 = Date.parse("2026-12-07T01:30:00.000Z");

function rec(n: number): SegmentRecord {
  return { bytes: Buffer.from(`segment ${n}`), firstPts: 90_000 + n * 180_000, durationTicks: 180_000, discontinuity: false, long: false };
}

describe("HLS writer", () => {
  let tmp: string;
  let timers: ManualTimers;
  let errors: OnairError[];

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), "onair-hlsw-"));
    timers = new ManualTimers();
    errors = [];
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  function writer(over: Partial<HlsWriterOptions> = {}): HlsWriter {
    return new HlsWriter({
      dir: join(tmp, "hls"),
      segmentSeconds: 2,
      markers: "cue",
      clock: new PtsWallClock(T0),
      window: 3,
      deleteAfterSeconds: 5,
      timers,
      onError: (e) => errors.push(e),
      ...over,
    });
  }

  it("replaces the playlist by rename, never writing the file a reader holds", async () => {
    const w = writer();
    w.add(rec(0), undefined);
    await w.idle();
    const dir = join(tmp, "hls");
    const before = readFileSync(join(dir, "index.m3u8"), "utf8");
    linkSync(join(dir, "index.m3u8"), join(tmp, "held.m3u8")); // a reader's open copy of the old inode
    w.add(rec(1), undefined);
    await w.idle();
    expect(readFileSync(join(tmp, "held.m3u8"), "utf8")).toBe(before);
    const { manifest } = parseM3u8(readFileSync(join(dir, "index.m3u8"), "utf8"));
    expect(manifest.segments.map((s) => [s.uri, s.duration, s.dateTimeString])).toEqual([
      ["seg0.ts", 2, "2026-12-07T01:30:00.000Z"],
      ["seg1.ts", 2, "2026-12-07T01:30:02.000Z"],
    ]);
    expect(readFileSync(join(dir, "seg1.ts"), "utf8")).toBe("segment 1");
    expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("deletes a segment only after it left the window and the grace period passed", async () => {
    const w = writer();
    for (let n = 0; n < 5; n++) w.add(rec(n), undefined);
    await w.idle();
    const dir = join(tmp, "hls");
    expect(parseM3u8(readFileSync(join(dir, "index.m3u8"), "utf8")).manifest.mediaSequence).toBe(2);
    expect(existsSync(join(dir, "seg0.ts")) && existsSync(join(dir, "seg1.ts"))).toBe(true);
    expect(timers.delays()).toEqual([5000, 5000]);
    timers.advance(4999);
    expect(existsSync(join(dir, "seg0.ts"))).toBe(true);
    timers.advance(1);
    await vi.waitFor(() => expect(w.stats.deleted).toBe(2));
    expect(readdirSync(dir).sort()).toEqual(["index.m3u8", "master.m3u8", "seg2.ts", "seg3.ts", "seg4.ts"]);
  });

  it("keeps every segment in VOD and writes the playlist once, with ENDLIST, at the end", async () => {
    const w = writer({ vod: true });
    for (let n = 0; n < 5; n++) w.add(rec(n), undefined);
    await w.idle();
    expect(existsSync(join(tmp, "hls", "index.m3u8"))).toBe(false);
    await w.end();
    const { manifest } = parseM3u8(readFileSync(join(tmp, "hls", "index.m3u8"), "utf8"));
    expect(manifest.segments).toHaveLength(5);
    expect(manifest.endList).toBe(true);
    expect(timers.size).toBe(0);
  });

  it("reports a file where the directory should be as ONAIR_HLS_WRITE_FAILED, goes on, and marks the hole", async () => {
    const dir = join(tmp, "hls");
    writeFileSync(dir, "a file, not a directory");
    const w = writer();
    expect(() => w.add(rec(0), undefined)).not.toThrow();
    await w.idle();
    expect(errors.map((e) => [e.code, e.fields.errno])).toEqual([["ONAIR_HLS_WRITE_FAILED", "EEXIST"]]);
    expect(errors[0].message).toBe(`cannot write ${join(dir, "seg0.ts")}: EEXIST`);
    expect(w.stats.writeErrors).toBe(1);
    rmSync(dir);
    w.add(rec(1), undefined);
    await w.idle();
    const { manifest } = parseM3u8(readFileSync(join(dir, "index.m3u8"), "utf8"));
    expect(manifest.segments.map((s) => [s.uri, s.discontinuity === true])).toEqual([["seg0.ts", true]]);
    expect(readFileSync(join(dir, "seg0.ts"), "utf8")).toBe("segment 1");
  });

  it("refuses a window under 3 segments", () => {
    expect(() => writer({ window: 2 })).toThrow(expect.objectContaining({ code: "ONAIR_HLS_BAD_OPTION" }));
  });
});
