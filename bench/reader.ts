/**
 * Reader benchmark: TsReader + PSI scan (PAT/PMT assembly and decode, PES PTS reads on every
 * elementary PID) over a large CBR TS, against `ffmpeg -i same.ts -c copy -f mpegts
 * /dev/null` on the same file in the same run. Prints both throughputs and the ratio
 * (target: ours ≥ 2× FFmpeg's).
 *
 * The file is generated once into bench-data/ (gitignored): a 10 s 640x360 H.264 (CBR 14 Mbit/s,
 * x264 nal-hrd=cbr) + AAC clip muxed CBR at 20 Mbit/s (about 28 % null packets, like a
 * playout channel with headroom), then looped with `-stream_loop N -c copy -muxrate 20M` into
 * one continuous CBR TS. Size: ONAIR_BENCH_MB (default 1024). A mostly-null file would flatter
 * FFmpeg, whose demuxer drops null packets at once.
 *
 * Also printed: a plain read of the file with the same 4 MiB reads (the I/O floor of ours).
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pid as packetPid, pusi, TS_PACKET_SIZE } from "../src/ts/packet.js";
import { readPacketPts } from "../src/ts/pes.js";
import { PID_ROLE_ES, PID_ROLE_NONE, PsiTracker } from "../src/ts/psi-tracker.js";
import { TsReader } from "../src/ts/reader.js";

const MUXRATE = "20M";
const CLIP_SECONDS = 10;
const READ_SIZE = 4 * 1024 * 1024;

function repoRoot(): string {
  // bench/reader.ts → dist/bench/reader.js when built; both sit two levels below the root
  // only in dist, so walk up until package.json is found.
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = join(dir, "..");
  }
  return process.cwd();
}

function run1(cmd: string, args: string[]): Promise<void> {
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

async function ensureFile(targetMb: number): Promise<string> {
  const dir = join(repoRoot(), "bench-data");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `reader-v14in20-${targetMb}MB.ts`);
  if (existsSync(out) && statSync(out).size >= targetMb * 1024 * 1024 * 0.95) return out;
  const clip = join(dir, "reader-clip.ts");
  process.stdout.write(`generating ${out} (${targetMb} MB, CBR ${MUXRATE})…\n`);
  await run1("ffmpeg", [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
    "-t", String(CLIP_SECONDS),
    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-sc_threshold", "0",
    "-b:v", "14M", "-minrate", "14M", "-maxrate", "14M", "-bufsize", "7M", "-x264-params", "nal-hrd=cbr",
    "-c:a", "aac",
    "-f", "mpegts", "-muxrate", MUXRATE, clip,
  ]);
  const clipBytes = statSync(clip).size;
  const loops = Math.max(0, Math.ceil((targetMb * 1024 * 1024) / clipBytes) - 1);
  const tmp = `${out}.part`;
  await run1("ffmpeg", [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-stream_loop", String(loops), "-i", clip,
    "-map", "0", "-c", "copy",
    "-f", "mpegts", "-muxrate", MUXRATE, tmp,
  ]);
  renameSync(tmp, out);
  rmSync(clip, { force: true });
  return out;
}

interface ScanResult {
  bytes: number;
  seconds: number;
  packets: number;
  pes: number;
  esPids: number;
  lastPts: number;
  skipped: number;
}

function scanOurs(path: string): ScanResult {
  const tracker = new PsiTracker();
  const role = tracker.pidRole;
  let pes = 0;
  let lastPts = -1;
  const reader = new TsReader({
    onPackets: (buf, start, count) => {
      for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) {
        const r = role[packetPid(buf, o)];
        if (r === PID_ROLE_NONE) continue;
        if (r === PID_ROLE_ES) {
          if (pusi(buf, o)) {
            const pts = readPacketPts(buf, o);
            if (pts >= 0) {
              pes++;
              lastPts = pts;
            }
          }
        } else {
          tracker.demux.push(buf, o);
        }
      }
    },
  });
  const buf = Buffer.allocUnsafe(READ_SIZE);
  const fd = openSync(path, "r");
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, READ_SIZE, null);
      if (n <= 0) break;
      bytes += n;
      reader.push(n === READ_SIZE ? buf : buf.subarray(0, n));
    }
    reader.end();
  } finally {
    closeSync(fd);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let esPids = 0;
  for (let p = 0; p < 8192; p++) if (role[p] === PID_ROLE_ES) esPids++;
  return { bytes, seconds, packets: reader.stats.packets, pes, esPids, lastPts, skipped: reader.stats.bytesSkipped };
}

function timePlainRead(path: string): number {
  const buf = Buffer.allocUnsafe(READ_SIZE);
  const fd = openSync(path, "r");
  const t0 = process.hrtime.bigint();
  try {
    while (readSync(fd, buf, 0, READ_SIZE, null) > 0);
  } finally {
    closeSync(fd);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timeFfmpeg(path: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run1("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", "0", "-c", "copy", "-f", "mpegts", "-y", "/dev/null"]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function run(): Promise<void> {
  const targetMb = Number(process.env.ONAIR_BENCH_MB ?? 1024);
  if (!Number.isFinite(targetMb) || targetMb <= 0) throw new Error("ONAIR_BENCH_MB must be a positive number");
  const path = await ensureFile(targetMb);
  const size = statSync(path).size;
  const mb = size / (1024 * 1024);

  // Warm the page cache so both sides read from memory.
  scanOurs(path);
  const ffSeconds = await timeFfmpeg(path);
  const ours = scanOurs(path);
  const readSeconds = timePlainRead(path);

  const oursRate = mb / ours.seconds;
  const ffRate = mb / ffSeconds;
  const line = (s: string) => process.stdout.write(`${s}\n`);
  line(`file            ${path} (${mb.toFixed(0)} MB, ${ours.packets} packets, ${ours.esPids} ES PIDs, ${ours.pes} PES)`);
  line(`onair reader    ${oursRate.toFixed(0)} MB/s  (${ours.seconds.toFixed(2)} s; reader + PAT/PMT + PES PTS)`);
  line(`ffmpeg -c copy  ${ffRate.toFixed(0)} MB/s  (${ffSeconds.toFixed(2)} s)`);
  line(`plain read      ${(mb / readSeconds).toFixed(0)} MB/s  (${readSeconds.toFixed(2)} s; I/O floor, 4 MiB reads)`);
  line(`ratio           ${(oursRate / ffRate).toFixed(2)}x  (target ≥ 2x)`);
  if (ours.bytes !== size || ours.skipped !== 0) line(`warning: read ${ours.bytes} of ${size} bytes, skipped ${ours.skipped}`);
}
