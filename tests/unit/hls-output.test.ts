/**
 * The live hls output over synthetic streams (tests/helpers/synth-ts.ts) in a temp folder:
 * the discontinuity hook, sequence numbers continued by a new output on the same folder, a
 * write failure as a failure episode that the next good segment ends, the grace delete, and
 * a previous run's segments deleted after the grace.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HlsOutput, leftoverSegments, OutputFanout, readHlsState } from "../../src/pipeline/outputs/index.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { until } from "../helpers/pipeline.js";
import { synthStream } from "../helpers/synth-ts.js";

const START_PCR = 63_000;

/** `seconds` of synthetic TS starting `fromSecond` seconds into one continuous timeline. */
function synth(fromSecond: number, seconds: number): Buffer {
  const gen = synthStream({ startPcr: START_PCR + fromSecond * 90_000, gop: 25 });
  const parts: Buffer[] = [];
  for (let i = 0; i < seconds; i++) parts.push(gen.next().value as Buffer);
  return Buffer.concat(parts);
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "onair-hls-out-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function output(dir: string, timers = new ManualTimers()): HlsOutput {
  return new HlsOutput({
    dir,
    segmentSeconds: 2,
    window: 3,
    deleteAfterSeconds: 3,
    markers: "both",
    clock: { wallMs: (pts) => 1_800_000_000_000 + pts / 90 },
    timers,
  });
}

describe("HlsOutput", () => {
  it("cuts at a discontinuity told through the fan-out even when the PTS runs on", async () => {
    const dir = join(tempDir(), "hls");
    const out = output(dir);
    const fan = new OutputFanout([out]);
    fan.write(synth(0, 5));
    fan.discontinuity();
    fan.write(synth(5, 5));
    await out.close();
    const playlist = readFileSync(join(dir, "index.m3u8"), "utf8");
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(out.snapshot().segments).toBeGreaterThanOrEqual(3);
  });

  it("continues the numbering in a new output on the same folder, with a discontinuity first", async () => {
    const dir = join(tempDir(), "hls");
    const first = output(dir);
    first.write(synth(0, 9));
    await first.close();
    const state = readHlsState(dir);
    expect(state.nextMediaSequence).toBe(4);
    const second = output(dir);
    second.write(synth(100, 5));
    await second.close();
    const playlist = readFileSync(join(dir, "index.m3u8"), "utf8");
    expect(playlist).toMatch(/#EXT-X-MEDIA-SEQUENCE:4\n/);
    expect(playlist).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:[^\n]+\nseg4\.ts\n/);
  });

  it("does not reuse a segment name on disk even when state.json was lost", async () => {
    const dir = join(tempDir(), "hls");
    const first = output(dir);
    first.write(synth(0, 9));
    await first.close();
    rmSync(join(dir, "state.json"));
    expect(readHlsState(dir).nextMediaSequence).toBe(4);
  });

  it("makes a write failure a failure episode, ended by the next good segment", async () => {
    const root = tempDir();
    const dir = join(root, "hls");
    writeFileSync(dir, "a file where the folder should be");
    const out = output(dir);
    const events: string[] = [];
    out.on("failed", ({ error }) => events.push(`failed ${(error as { code?: string }).code}`));
    out.on("recovered", () => events.push("recovered"));
    out.write(synth(0, 5));
    await out.idle();
    expect(events).toEqual(["failed ONAIR_HLS_WRITE_FAILED"]);
    expect(out.snapshot().writeErrors).toBeGreaterThan(0);
    rmSync(dir);
    out.write(synth(5, 4));
    await out.close();
    expect(events).toEqual(["failed ONAIR_HLS_WRITE_FAILED", "recovered"]);
    expect(existsSync(join(dir, "index.m3u8"))).toBe(true);
  });

  it("deletes a previous run's segments after the grace, so restarts do not pile them up", async () => {
    const dir = join(tempDir(), "hls");
    const first = output(dir);
    first.write(synth(0, 9));
    await first.close(); // its pending deletions are cancelled: seg0…seg3 stay, as after a crash
    const left = ["seg0.ts", "seg1.ts", "seg2.ts", "seg3.ts"];
    for (const f of left) expect(existsSync(join(dir, f))).toBe(true);
    const leftBytes = left.reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
    expect(leftoverSegments(dir).map((l) => l.uri)).toEqual(left);

    const timers = new ManualTimers();
    const second = output(dir, timers);
    expect(second.snapshot().bytesOnDisk).toBe(leftBytes); // waiting for the grace, still on disk
    timers.advance(2999);
    await new Promise((r) => setTimeout(r, 50));
    for (const f of left) expect(existsSync(join(dir, f))).toBe(true); // a player may still hold the old playlist
    timers.advance(1);
    await until(() => second.writer.stats.deleted === 4, 5000, "the previous run's segments deleted");
    for (const f of left) expect(existsSync(join(dir, f))).toBe(false);
    expect(second.snapshot().bytesOnDisk).toBe(0);
    // the numbering still continues after them
    second.write(synth(100, 5));
    await second.close();
    expect(readFileSync(join(dir, "index.m3u8"), "utf8")).toMatch(/#EXT-X-MEDIA-SEQUENCE:4\n/);
  });

  it("deletes a segment that left the window after the grace, and counts the bytes on disk", async () => {
    const dir = join(tempDir(), "hls");
    const timers = new ManualTimers();
    const out = output(dir, timers);
    out.write(synth(0, 11));
    await out.idle();
    expect(existsSync(join(dir, "seg0.ts"))).toBe(true);
    const before = out.snapshot().bytesOnDisk;
    timers.advance(3000);
    await until(() => out.writer.stats.deleted > 0, 5000, "the first deletion");
    expect(existsSync(join(dir, "seg0.ts"))).toBe(false);
    expect(out.snapshot().bytesOnDisk).toBeLessThan(before);
    await out.close();
  });
});
