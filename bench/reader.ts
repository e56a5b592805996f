/**
 * Reader benchmark: TsReader + PSI scan (PAT/PMT assembly and decode, PES PTS reads on every
 * elementary PID) over a large CBR TS, against `ffmpeg -i same.ts -c copy -f mpegts
 * /dev/null` on the same file in the same run. Prints both throughputs and the ratio
 * (target: ours ≥ 2× FFmpeg's).
 *
 * The file (a ≥ 1 GB CBR TS with about 28 % null packets) comes from bench/_common.ts.
 *
 * Also printed: a plain read of the file with the same 4 MiB reads (the I/O floor of ours).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { benchFileMb, ensureBenchFile, timeFfmpegCopy } from "./_common.js";
import { pid as packetPid, pusi, TS_PACKET_SIZE } from "../src/ts/packet.js";
import { readPacketPts } from "../src/ts/pes.js";
import { PID_ROLE_ES, PID_ROLE_NONE, PsiTracker } from "../src/ts/psi-tracker.js";
import { TsReader } from "../src/ts/reader.js";

const READ_SIZE = 4 * 1024 * 1024;

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

export async function run(): Promise<void> {
  const path = await ensureBenchFile(benchFileMb());
  const size = statSync(path).size;
  const mb = size / (1024 * 1024);

  // Warm the page cache so both sides read from memory.
  scanOurs(path);
  const ffSeconds = await timeFfmpegCopy(path);
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
