/**
 * Parser for FFmpeg's `-progress` output: blocks of `key=value` lines (frame, fps,
 * bitrate, total_size, out_time_us, speed, …) each ended by `progress=continue`, the
 * last one by `progress=end`. Streaming and safe at any chunk split; values FFmpeg
 * reports as `N/A` come out as null.
 */
import { LineSplitter } from "./lines.js";

export interface ProgressReport {
  frame: number | null;
  fps: number | null;
  /** Output bitrate, bits per second (FFmpeg prints kbit/s). */
  bitrate: number | null;
  /** Bytes written so far. */
  totalSize: number | null;
  /** Output time, microseconds. */
  outTimeUs: number | null;
  /** Processing speed relative to real time (1 = real time). */
  speed: number | null;
  dupFrames: number | null;
  dropFrames: number | null;
  /** `continue`, or `end` for the last block. */
  progress: "continue" | "end";
  /** Every key of the block as FFmpeg wrote it (including per-stream `stream_0_0_q`). */
  raw: Record<string, string>;
}

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  if (t === "" || t === "N/A") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** `1234.5kbits/s` → 1234500; `N/A` → null. */
export function parseBitrate(v: string | undefined): number | null {
  if (v === undefined) return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(k|M|G)?bits\/s\s*$/.exec(v);
  if (!m) return null;
  const mult = m[2] === "k" ? 1e3 : m[2] === "M" ? 1e6 : m[2] === "G" ? 1e9 : 1;
  return Math.round(Number(m[1]) * mult);
}

/** `1.01x` → 1.01; `N/A` → null. */
export function parseSpeed(v: string | undefined): number | null {
  if (v === undefined) return null;
  const m = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)x\s*$/.exec(v);
  return m ? Number(m[1]) : null;
}

export class ProgressParser {
  private readonly splitter = new LineSplitter(1024);
  private block: Record<string, string> = {};
  private keys = 0;
  /** Blocks completed. */
  reports = 0;

  /** Feeds a chunk; returns the blocks it completed. */
  push(chunk: Buffer | string): ProgressReport[] {
    const out: ProgressReport[] = [];
    for (const line of this.splitter.push(chunk)) {
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === "progress") {
        out.push(this.finish(value === "end" ? "end" : "continue"));
        continue;
      }
      // a runaway block (no progress= line) is bounded: keep the first 64 keys
      if (this.keys < 64 || key in this.block) {
        if (!(key in this.block)) this.keys++;
        this.block[key] = value;
      }
    }
    return out;
  }

  private finish(progress: "continue" | "end"): ProgressReport {
    const b = this.block;
    this.block = {};
    this.keys = 0;
    this.reports++;
    return {
      frame: num(b.frame),
      fps: num(b.fps),
      bitrate: parseBitrate(b.bitrate),
      totalSize: num(b.total_size),
      // out_time_ms is also microseconds (a historical FFmpeg quirk)
      outTimeUs: num(b.out_time_us) ?? num(b.out_time_ms),
      speed: parseSpeed(b.speed),
      dupFrames: num(b.dup_frames),
      dropFrames: num(b.drop_frames),
      progress,
      raw: b,
    };
  }
}
