/**
 * HLS benchmark: the injector plus the HLS segmenter and writer (`onair inject --hls`: a break
 * every minute, 6 s segments, cue + DATERANGE markers, VOD playlist) over the ≥ 1 GB CBR TS
 * into a temporary directory, against `ffmpeg -i same.ts -c copy -f hls -hls_time 6
 * -hls_list_size 0` into another, in the same run. Best of two each; prints both MB/s and the
 * ratio (target ≥ 1.0).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { injectToHls } from "../src/hls/offline.js";
import { defaultCuePlanConfig } from "../src/inject/planner.js";
import { benchFileMb, ensureBenchFile, run1 } from "./_common.js";

const line = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function fresh(root: string, name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

export async function run(): Promise<void> {
  const path = await ensureBenchFile(benchFileMb());
  const mb = statSync(path).size / (1024 * 1024);
  const seconds = (statSync(path).size * 8) / 20e6;
  const breaks: Array<{ startSeconds: number; durationSeconds: number }> = [];
  for (let t = 30; t < seconds - 30; t += 60) breaks.push({ startSeconds: t, durationSeconds: 30 });
  const root = mkdtempSync(join(tmpdir(), "onair-bench-hls-"));
  let id = 0;
  let segments = 0;
  const ours = async (): Promise<void> => {
    id = 0;
    const opts = { input: path, breaks, cue: defaultCuePlanConfig(), allocateEventId: () => ++id, startWallMs: 0 };
    const r = await injectToHls(opts, { dir: fresh(root, "onair"), segmentSeconds: 6, markers: "both" });
    segments = r.hls.segments;
  };
  const ffmpeg = (): Promise<void> => {
    const dir = fresh(root, "ffmpeg");
    mkdirSync(dir, { recursive: true });
    const out = [
      "-f",
      "hls",
      "-hls_time",
      "6",
      "-hls_list_size",
      "0",
      "-hls_segment_filename",
      join(dir, "s%d.ts"),
      join(dir, "index.m3u8"),
    ];
    return run1("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", "0", "-c", "copy", ...out]);
  };
  try {
    await ours(); // warm the page cache and the JIT
    const oursSeconds = Math.min(await timed(ours), await timed(ours));
    const ffSeconds = Math.min(await timed(ffmpeg), await timed(ffmpeg));
    const ffSegments = readdirSync(join(root, "ffmpeg")).filter((f) => f.endsWith(".ts")).length;
    const oursRate = mb / oursSeconds;
    const ffRate = mb / ffSeconds;
    line(`file             ${path} (${mb.toFixed(0)} MB, ${seconds.toFixed(0)} s of 20 Mb/s, ${breaks.length} breaks)`);
    line(
      `onair inject --hls ${oursRate.toFixed(0)} MB/s  (${oursSeconds.toFixed(2)} s, ${segments} segments; injector + segmenter + writer)`,
    );
    line(`ffmpeg -f hls    ${ffRate.toFixed(0)} MB/s  (${ffSeconds.toFixed(2)} s, ${ffSegments} segments; -c copy, no markers)`);
    line(`ratio            ${(oursRate / ffRate).toFixed(2)}x  (target ≥ 1.0x)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
