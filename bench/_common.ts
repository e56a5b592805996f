/**
 * Shared by the benchmarks: the large CBR TS they all run over, and the FFmpeg reference
 * (`ffmpeg -i same.ts -c copy -f mpegts -y /dev/null`) timed in the same run.
 *
 * The file is generated once into bench-data/ (gitignored): a 10 s 640x360 H.264 (CBR 14 Mbit/s,
 * x264 nal-hrd=cbr) + AAC clip muxed CBR at 20 Mbit/s (about 28 % null packets, like a
 * playout channel with headroom), then looped with `-stream_loop N -c copy -muxrate 20M` into
 * one continuous CBR TS. Size: ONAIR_BENCH_MB (default 1024). A mostly-null file would flatter
 * FFmpeg, whose demuxer drops null packets at once.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MUXRATE = "20M";
const CLIP_SECONDS = 10;

export function repoRoot(): string {
  // bench/reader.ts → dist/bench/reader.js when built; both sit two levels below the root
  // only in dist, so walk up until package.json is found.
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = join(dir, "..");
  }
  return process.cwd();
}

export function run1(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err = (err + c.toString("utf8")).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

export async function ensureBenchFile(targetMb: number): Promise<string> {
  const dir = join(repoRoot(), "bench-data");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `reader-v14in20-${targetMb}MB.ts`);
  if (existsSync(out) && statSync(out).size >= targetMb * 1024 * 1024 * 0.95) return out;
  const clip = join(dir, "reader-clip.ts");
  process.stdout.write(`generating ${out} (${targetMb} MB, CBR ${MUXRATE})…\n`);
  await run1("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=640x360:rate=25",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=1000:sample_rate=48000",
    "-t",
    String(CLIP_SECONDS),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "25",
    "-sc_threshold",
    "0",
    "-b:v",
    "14M",
    "-minrate",
    "14M",
    "-maxrate",
    "14M",
    "-bufsize",
    "7M",
    "-x264-params",
    "nal-hrd=cbr",
    "-c:a",
    "aac",
    "-f",
    "mpegts",
    "-muxrate",
    MUXRATE,
    clip,
  ]);
  const clipBytes = statSync(clip).size;
  const loops = Math.max(0, Math.ceil((targetMb * 1024 * 1024) / clipBytes) - 1);
  const tmp = `${out}.part`;
  await run1("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-y",
    "-stream_loop",
    String(loops),
    "-i",
    clip,
    "-map",
    "0",
    "-c",
    "copy",
    "-f",
    "mpegts",
    "-muxrate",
    MUXRATE,
    tmp,
  ]);
  renameSync(tmp, out);
  rmSync(clip, { force: true });
  return out;
}

/** ONAIR_BENCH_MB (default 1024). */
export function benchFileMb(): number {
  const targetMb = Number(process.env.ONAIR_BENCH_MB ?? 1024);
  if (!Number.isFinite(targetMb) || targetMb <= 0) throw new Error("ONAIR_BENCH_MB must be a positive number");
  return targetMb;
}

/** Seconds FFmpeg takes to remux the file with -c copy to /dev/null (the reference). */
export async function timeFfmpegCopy(path: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run1("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-i",
    path,
    "-map",
    "0",
    "-c",
    "copy",
    "-f",
    "mpegts",
    "-y",
    "/dev/null",
  ]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
