/**
 * What the thumbnail FFmpeg of a channel is fed: a short window of the output TS every
 * `everyMs`, starting on a key frame, instead of the whole stream.
 *
 * Why: decoding is what a thumbnail costs. Fed the whole stream, FFmpeg (`-skip_frame
 * nokey`) still demuxes every packet and decodes every key frame, one a second with a 1 s GOP,
 * to keep one in five (bench/thumbnails.ts, 720p25 at 5 Mb/s with a 1 s GOP: 1.0 % of a core;
 * an FFmpeg started per thumbnail: 4.2 %). Fed one window per thumbnail, it decodes about one
 * key frame per thumbnail (0.4 %; 0.3 % with a 2 s GOP).
 *
 * A window:
 * - opens, once `everyMs` has passed since the last one opened, at the first video PES
 *   whose packet has random_access_indicator set (FFmpeg's muxer and most encoders flag key
 *   frames so); a stream that flags none for a whole further period gets its window at any
 *   video PES start (FFmpeg then waits for the next key frame inside the window);
 * - stays open until FFmpeg hands back a picture (`picture()`), then closes at the next
 *   video PES start, so the last PES FFmpeg got is whole;
 * - closes after `windowMaxMs` without a picture (counted `empty`).
 * The first window of an FFmpeg run opens at once, at the first chunk, and stays open until
 * the first picture (FFmpeg needs the PAT and PMT before it finds the video).
 *
 * Why FFmpeg decodes the frames after the key frame too (`-skip_frame noref`, not
 * `nokey`): H.264's decoder holds a picture back until `has_b_frames` (the stream's
 * reordering depth, 2 with x264's B-frames) more pictures are decoded. With only key frames
 * decoded, the picture of a window would come out two windows later; decoding the reference
 * frames that follow it inside the window pushes it out at once (about 200 ms after the window
 * opened). A select filter (`pict_type I`) keeps only the key frame.
 *
 * Nothing here allocates; only the few chunks where a window opens or closes are scanned.
 */
import { payloadOffset, randomAccessIndicator, TS_PACKET_SIZE, SYNC_BYTE } from "../ts/packet.js";

/** A window without a picture after this long is closed (empty). */
export const WINDOW_MAX_MS = 10_000;

/** True when the packet at `off` starts a video PES (stream_id 0xE0–0xEF), and, if `keyFrame`, is flagged random access. */
export function videoPesStart(buf: Uint8Array, off: number, keyFrame: boolean): boolean {
  if (buf[off] !== SYNC_BYTE || (buf[off + 1] & 0x40) === 0) return false;
  const p = payloadOffset(buf, off);
  if (p < 0 || p + 4 > off + TS_PACKET_SIZE) return false;
  if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1 || (buf[p + 3] & 0xf0) !== 0xe0) return false;
  return !keyFrame || randomAccessIndicator(buf, off);
}

/** Offset of the first packet of `chunk` (188-byte aligned) that starts a video PES, or -1. */
export function findVideoPesStart(chunk: Uint8Array, keyFrame: boolean): number {
  for (let o = 0; o + TS_PACKET_SIZE <= chunk.length; o += TS_PACKET_SIZE) if (videoPesStart(chunk, o, keyFrame)) return o;
  return -1;
}

export interface GateStats {
  /** windows opened */
  windows: number;
  /** windows that gave a picture */
  pictures: number;
  /** windows closed after windowMaxMs without a picture */
  empty: number;
  /** empty windows in a row (0 after a picture) */
  emptyStreak: number;
  /** windows opened without a key-frame flag (the stream flags none) */
  unflagged: number;
  /** pictures after the window's first (dropped) */
  extra: number;
}

type State = "open" | "closing" | "closed";

export class KeyframeGate {
  /** After `admit()` returned true: forward `chunk.subarray(from, to)`. */
  from = 0;
  to = 0;
  private state: State = "open";
  private openedAt = Number.NaN;
  private due = Number.NaN;
  readonly stats: GateStats = { windows: 0, pictures: 0, empty: 0, emptyStreak: 0, unflagged: 0, extra: 0 };

  constructor(
    private readonly everyMs: number,
    private readonly windowMaxMs = WINDOW_MAX_MS,
  ) {}

  /** True while a window is open (FFmpeg is being fed). */
  get feeding(): boolean {
    return this.state !== "closed";
  }

  /** Decides what of `chunk` (whole 188-byte packets) goes to FFmpeg at monotonic time `now`; false: none of it. */
  admit(chunk: Uint8Array, now: number): boolean {
    if (this.state === "closed") return this.admitClosed(chunk, now);
    if (Number.isNaN(this.openedAt)) this.open(now); // the run's first window
    if (this.state === "open") {
      if (now - this.openedAt > this.windowMaxMs) {
        this.stats.empty++;
        this.stats.emptyStreak++;
        this.state = "closed";
        return false;
      }
      return this.pass(0, chunk.length);
    }
    // closing: up to the next video PES start, so the last PES fed is whole
    const at = findVideoPesStart(chunk, false);
    if (at < 0 && now - this.openedAt <= this.windowMaxMs) return this.pass(0, chunk.length);
    this.state = "closed";
    return at > 0 ? this.pass(0, at) : false;
  }

  /** FFmpeg handed back a picture: true when it is the window's (the thumbnail), false for an extra one. */
  picture(): boolean {
    if (this.state !== "open") {
      this.stats.extra++;
      return false;
    }
    this.state = "closing";
    this.stats.pictures++;
    this.stats.emptyStreak = 0;
    return true;
  }

  private admitClosed(chunk: Uint8Array, now: number): boolean {
    if (now < this.due) return false;
    // no key frame flagged for a whole period after the window was due: any picture start will do
    const unflagged = now >= this.due + this.everyMs;
    const at = findVideoPesStart(chunk, !unflagged);
    if (at < 0) return false;
    if (unflagged) this.stats.unflagged++;
    this.open(now);
    return this.pass(at, chunk.length);
  }

  private open(now: number): void {
    this.state = "open";
    this.openedAt = now;
    // on a grid of everyMs (a window waits up to a GOP for its key frame), never closer than half a period
    this.due = Number.isNaN(this.due) ? now + this.everyMs : Math.max(this.due + this.everyMs, now + this.everyMs / 2);
    this.stats.windows++;
  }

  private pass(from: number, to: number): boolean {
    this.from = from;
    this.to = to;
    return true;
  }
}
