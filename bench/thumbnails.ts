/**
 * Thumbnail bench: the CPU a channel's confidence thumbnails cost (src/console/thumbnails.ts),
 * against one FFmpeg started per thumbnail, measured in the same run.
 *
 * For each stream (1280x720 25 fps libx264 veryfast with a 1 s and a 2 s GOP, 4 Mb/s in a
 * 5 Mb/s CBR mux, and the demo's own format from profiles/demo.example.yaml), a TS made with
 * the channel's own FFmpeg arguments (buildFfmpegArgs, a 10 s clip looped with -c copy into
 * bench-data/) is fed in real time, ~30 chunks a second as a channel's output tap sees them:
 *
 * - long-lived, key-frame windows (the pool's default): the ThumbnailPool's FFmpeg, CPU
 *   (utime + stime from /proc/PID/stat) over ONAIR_BENCH_THUMB_SECONDS (default 30) after
 *   the first thumbnail and a warm-up;
 * - long-lived, whole stream (`feed: "all"`, -skip_frame nokey and a select filter);
 * - per-thumbnail spawn (the reference): every 5 s an FFmpeg (`-threads 1 -skip_frame nokey
 *   … -frames:v 1`, the same decoding options) is started on the last 3 s of the stream and
 *   writes one JPEG; its CPU is this process's reaped children's (cutime + cstime of
 *   /proc/self/stat), per thumbnail, over the 5 s period.
 * - the daemon's side of feeding: the time spent in the tap (the gate and the pipe writes,
 *   which libuv makes synchronously), and this process's CPU with the pool against the
 *   same pacing with no tap.
 *
 * Target: ≤ 1 % of one core per channel.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { validateProfile } from "../src/config/profile.js";
import type { ChannelProfile } from "../src/config/profile-schema.js";
import { DEFAULT_EVERY_MS, ThumbnailPool, type ThumbnailChannel, type ThumbnailFeed } from "../src/console/thumbnails.js";
import { createLogger } from "../src/observe/logger.js";
import { buildFfmpegArgs } from "../src/pipeline/ffmpeg-args.js";
import { repoRoot, run1 } from "./_common.js";

const CLIP_SECONDS = 10;
/** The bench file's length: warm-up and every measured phase start at its beginning. */
const FILE_SECONDS = 70;
/** ~30 chunks a second, as a channel's output tap sees them (3.5 Mb/s demo: 29/s, ~80 packets each). */
const TICK_MS = 33;
const WARMUP_MS = 5000;
/** The per-thumbnail reference decodes one frame from this much of the latest stream. */
const SPAWN_TAIL_SECONDS = 3;

const line = (s: string): void => void process.stdout.write(`${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "n/a");

function envNumber(name: string, def: number, min: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return v;
}

/** utime + stime (and cutime + cstime: reaped children) of a process, in seconds; NaN when gone. */
function procCpu(pid: number | "self", children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [a, b] = children ? [13, 14] : [11, 12];
    return (Number(f[a]) + Number(f[b])) / 100;
  } catch {
    return Number.NaN;
  }
}

interface Variant {
  key: string;
  label: string;
  profile: ChannelProfile;
  /** the mux rate, bytes per second */
  rate: number;
}

function channelProfile(gopSeconds: number, bitrate: string, muxRate: string): ChannelProfile {
  return validateProfile(
    {
      channel: { id: "thumbs", name: "Thumbnail bench" },
      service: { serviceId: 1, transportStreamId: 1, originalNetworkId: 0xff01, name: "Bench", provider: "onair bench" },
      input: { kind: "test", pattern: "testsrc2", toneHz: 1000 },
      encoding: {
        mode: "transcode",
        video: { codec: "libx264", width: 1280, height: 720, fps: 25, bitrate, gopSeconds, preset: "veryfast" },
        audio: { codec: "aac", bitrate: "128k" },
        muxRate,
      },
      outputs: [{ kind: "udp", host: "127.0.0.1", port: 5000 }],
      slate: { kind: "generated" },
    },
    "bench-thumbnails",
  );
}

function variants(): Variant[] {
  const demo = validateProfile(parse(readFileSync(join(repoRoot(), "profiles/demo.example.yaml"), "utf8")), "demo.example.yaml");
  const out: Variant[] = [];
  for (const gop of [1, 2]) {
    const profile = channelProfile(gop, "4M", "5M");
    out.push({
      key: `720p25-gop${gop}-4M`,
      label: `1280x720 25 fps, ${gop} s GOP, libx264 veryfast 4 Mb/s, CBR mux 5 Mb/s`,
      profile,
      rate: 5e6 / 8,
    });
  }
  if (demo.encoding.mode !== "transcode") throw new Error("the demo profile is expected to transcode");
  const v = demo.encoding.video;
  const mux = demo.encoding.muxRate;
  const mb = (bps: number): string => `${bps / 1e6} Mb/s`;
  out.push({
    key: "demo",
    label: `the demo's (profiles/demo.example.yaml): ${v.width}x${v.height} ${String(v.fps)} fps, ${v.gopSeconds} s GOP, ${v.codec} ${v.preset ?? ""} ${mb(v.bitrate)}, CBR mux ${mb(mux)}`,
    profile: demo,
    rate: mux / 8,
  });
  return out;
}

/** The variant's bench file: a clip made with the channel's FFmpeg arguments, looped (-c copy) to FILE_SECONDS. */
async function benchFile(v: Variant): Promise<string> {
  const dir = join(repoRoot(), "bench-data");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `thumbs-${v.key}-${FILE_SECONDS}s.ts`);
  if (existsSync(out) && statSync(out).size > v.rate * FILE_SECONDS * 0.9) return out;
  line(`generating ${out}…`);
  const cmd = buildFfmpegArgs(v.profile, { setpriv: false, progress: false, loglevel: "error" });
  const clip = join(dir, `thumbs-${v.key}-clip.ts`);
  // the live command without real-time pacing, for CLIP_SECONDS, into a file
  const args = cmd.ffmpegArgs.filter((a) => a !== "-re");
  args.splice(args.length - 1, 1, "-t", String(CLIP_SECONDS), "-y", clip);
  await run1(cmd.ffmpeg, args);
  const tmp = `${out}.part`;
  const muxrate = String(Math.round(v.rate * 8));
  const loops = String(Math.ceil(FILE_SECONDS / CLIP_SECONDS) - 1);
  await run1(cmd.ffmpeg, [
    ...["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", loops, "-i", clip],
    ...["-map", "0", "-c", "copy", "-f", "mpegts", "-muxrate", muxrate, tmp],
  ]);
  renameSync(tmp, out);
  rmSync(clip, { force: true });
  return out;
}

/** Plays a TS file in real time as a channel's output: 188-aligned chunks every TICK_MS to its taps. */
class TsPacer implements ThumbnailChannel {
  readonly id = "thumbs";
  private taps: ((c: Buffer) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pos = 0;
  private sent = 0;
  private t0 = 0;
  /** ns spent in the taps */
  tapNs = 0n;
  chunks = 0;

  constructor(
    private readonly data: Buffer,
    private readonly rate: number,
  ) {}

  onOutput(fn: (c: Buffer) => void): () => void {
    this.taps = [...this.taps, fn];
    return () => (this.taps = this.taps.filter((t) => t !== fn));
  }

  start(): void {
    this.t0 = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const due = Math.floor((((performance.now() - this.t0) / 1000) * this.rate) / 188) * 188;
    let n = due - this.sent;
    while (n > 0) {
      const take = Math.min(n, this.data.length - this.pos);
      this.emit(this.data.subarray(this.pos, this.pos + take));
      this.pos = (this.pos + take) % this.data.length;
      this.sent += take;
      n -= take;
    }
  }

  private emit(chunk: Buffer): void {
    this.chunks++;
    const taps = this.taps;
    if (taps.length === 0) return;
    const t = process.hrtime.bigint();
    for (const tap of taps) tap(chunk);
    this.tapNs += process.hrtime.bigint() - t;
  }
}

interface LongLived {
  /** FFmpeg CPU, % of one core */
  ffmpeg: number;
  /** time in the tap, % of one core */
  tap: number;
  /** this process's CPU, % of one core */
  self: number;
  thumbnails: number;
  windows: number;
  restarts: number;
  dropped: number;
  fedPerSecond: number;
  chunksPerSecond: number;
}

async function measureLongLived(data: Buffer, rate: number, feed: ThumbnailFeed, seconds: number): Promise<LongLived> {
  const pacer = new TsPacer(data, rate);
  const pool = new ThumbnailPool({ logger: createLogger({ level: "silent" }), feed });
  try {
    pool.attach(pacer);
    const first = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no thumbnail within 20 s")), 20_000);
      pool.once("thumbnail", () => {
        clearTimeout(t);
        resolve();
      });
    });
    pacer.start();
    pool.setDemand(true);
    await first;
    await sleep(WARMUP_MS);
    const s0 = pool.status(pacer.id)!;
    const pid = s0.pid!;
    const ff0 = procCpu(pid);
    const self0 = process.cpuUsage();
    const tap0 = pacer.tapNs;
    const chunks0 = pacer.chunks;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const ff1 = procCpu(pid);
    const self = process.cpuUsage(self0);
    const wall = (performance.now() - t0) / 1000;
    const s1 = pool.status(pacer.id)!;
    return {
      ffmpeg: ((ff1 - ff0) / wall) * 100,
      tap: (Number(pacer.tapNs - tap0) / 1e9 / wall) * 100,
      self: ((self.user + self.system) / 1e6 / wall) * 100,
      thumbnails: s1.thumbnails - s0.thumbnails,
      windows: s1.windows - s0.windows,
      restarts: s1.spawns - s0.spawns,
      dropped: s1.droppedChunks - s0.droppedChunks,
      fedPerSecond: (s1.fedBytes - s0.fedBytes) / wall,
      chunksPerSecond: (pacer.chunks - chunks0) / wall,
    };
  } finally {
    pacer.stop();
    await pool.close();
  }
}

/** This process's CPU (% of one core) pacing the stream with no tap. */
async function measurePacerAlone(data: Buffer, rate: number, seconds: number): Promise<number> {
  const pacer = new TsPacer(data, rate);
  pacer.start();
  try {
    await sleep(2000);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) / 1e6 / ((performance.now() - t0) / 1000)) * 100;
  } finally {
    pacer.stop();
  }
}

/** Runs the reference FFmpeg on `ts`; true when it wrote a JPEG. */
function oneShot(ts: Buffer, width: number): Promise<boolean> {
  const args = [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-threads", "1", "-skip_frame", "nokey"],
    ...["-f", "mpegts", "-i", "pipe:0", "-map", "0:v:0", "-frames:v", "1", "-vf", `scale=${width}:-2`],
    ...["-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "pipe:1"],
  ];
  return new Promise((resolve) => {
    const child = spawn("ffmpeg", args, { stdio: ["pipe", "pipe", "ignore"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stdin.on("error", () => undefined); // it may stop reading after its frame
    child.on("error", () => resolve(false));
    child.on("close", () => {
      const jpeg = Buffer.concat(out);
      resolve(jpeg.length > 4 && jpeg[0] === 0xff && jpeg[1] === 0xd8);
    });
    child.stdin.end(ts);
  });
}

/** One FFmpeg per thumbnail every everyMs on the last SPAWN_TAIL_SECONDS of the stream: % of one core, and how many made a JPEG. */
async function measureSpawnPer(
  data: Buffer,
  rate: number,
  seconds: number,
): Promise<{ cpu: number; runs: number; ok: number; each: number }> {
  const pacer = new TsPacer(data, rate);
  const tail: Buffer[] = [];
  let tailBytes = 0;
  pacer.onOutput((c) => {
    tail.push(c);
    tailBytes += c.length;
    while (tailBytes - tail[0].length >= rate * SPAWN_TAIL_SECONDS) tailBytes -= tail.shift()!.length;
  });
  pacer.start();
  const runs: Promise<boolean>[] = [];
  try {
    await sleep(SPAWN_TAIL_SECONDS * 1000 + 500);
    const c0 = procCpu("self", true);
    const timer = setInterval(() => runs.push(oneShot(Buffer.concat(tail), 320)), DEFAULT_EVERY_MS);
    runs.push(oneShot(Buffer.concat(tail), 320));
    await sleep(seconds * 1000);
    clearInterval(timer);
    const ok = (await Promise.all(runs)).filter(Boolean).length;
    const each = (procCpu("self", true) - c0) / runs.length;
    return { cpu: (each / (DEFAULT_EVERY_MS / 1000)) * 100, runs: runs.length, ok, each };
  } finally {
    pacer.stop();
  }
}

export async function run(): Promise<void> {
  const seconds = envNumber("ONAIR_BENCH_THUMB_SECONDS", 30, 5);
  const expected = Math.round((seconds * 1000) / DEFAULT_EVERY_MS);
  line(
    `thumbnails      one every ${DEFAULT_EVERY_MS / 1000} s, 320 px wide; each figure over ${seconds} s of real-time feeding after a ${WARMUP_MS / 1000} s warm-up; % of one core`,
  );
  for (const v of variants()) {
    const file = await benchFile(v);
    const data = readFileSync(file);
    line(`-- ${v.label}`);
    const keys = await measureLongLived(data, v.rate, "keyframes", seconds);
    const all = await measureLongLived(data, v.rate, "all", seconds);
    const ref = await measureSpawnPer(data, v.rate, seconds);
    const base = await measurePacerAlone(data, v.rate, Math.min(seconds, 15));
    const verdict = keys.ffmpeg <= 1 ? "ok" : "MISSED";
    line(
      `long-lived: ${pct(keys.ffmpeg)} % of a core, per-thumbnail spawn: ${pct(ref.cpu)} %, ratio ${pct(keys.ffmpeg / ref.cpu)}  (target ≤ 1 %: ${verdict})`,
    );
    line(
      `  key-frame windows ${pct(keys.ffmpeg)} %: ${keys.thumbnails} thumbnails (${expected} due), ${keys.windows} windows, FFmpeg fed ${(keys.fedPerSecond / 1024).toFixed(0)} KiB/s of ${(v.rate / 1024).toFixed(0)}, ${keys.dropped} chunks dropped, ${keys.restarts} restarts`,
    );
    line(
      `  whole stream      ${pct(all.ffmpeg)} % (-skip_frame nokey, select every ${DEFAULT_EVERY_MS / 1000} s): ${all.thumbnails} thumbnails, ratio to spawn ${pct(all.ffmpeg / ref.cpu)}, ${all.dropped} chunks dropped`,
    );
    line(
      `  per-thumbnail     ${pct(ref.cpu)} %: ${ref.runs} FFmpeg runs on the last ${SPAWN_TAIL_SECONDS} s (${ref.ok} made a JPEG), ${(ref.each * 1000).toFixed(0)} ms of CPU each`,
    );
    line(
      `  daemon side       ${pct(keys.tap)} % in the tap (gate + pipe writes, ${keys.chunksPerSecond.toFixed(0)} chunks/s; whole stream: ${pct(all.tap)} %); this process ${pct(keys.self)} % with the pool, ${pct(base)} % pacing alone`,
    );
  }
}
