/**
 * Writes HLS segments and playlists into a directory, one operation at a time, off the
 * stream path: `add()` queues and returns at once.
 *
 * Contract (issue #21, domain §8):
 * - A segment is written to a temporary name and renamed before it is listed; the media
 *   playlist (`index.m3u8`) and `master.m3u8` are written the same way, so a reader never
 *   sees half a file. Temporary names start with a dot and are in the same directory.
 * - Segment names carry the media sequence number (`seg<N>.ts`), which never goes back, so
 *   a name is never reused. The first sequence numbers are options: the hook for the live
 *   output's persistence across restarts.
 * - Live: a segment that left the window is deleted `deleteAfterSeconds` later (on the
 *   injected Timers). VOD: every segment stays; the playlist is written once, at `end()`,
 *   with PLAYLIST-TYPE:VOD and ENDLIST.
 * - A failed write never throws out of `add`: it becomes an OnairError ONAIR_HLS_WRITE_FAILED
 *   given to `onError` and counted; the segment is not listed, and the next listed segment is
 *   marked discontinuous (its timeline has a hole).
 * - master.m3u8: BANDWIDTH is the peak segment bit rate so far (rewritten when it grows by
 *   more than 10 %), CODECS and RESOLUTION from the SPS of the first segment, mp4a.40.2 when
 *   the program has AAC.
 */
import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OnairError } from "../core/errors.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import {
  DEFAULT_WINDOW,
  MIN_WINDOW,
  MediaPlaylist,
  renderMaster,
  type MarkerStyle,
  type PlaylistEntry,
  type VariantInfo,
} from "./playlist.js";
import type { SegmentRecord, StreamInfo } from "./segmenter.js";
import { avc1Codec, findSps, firstPesPayload } from "./sps.js";
import { PTS_CLOCK_HZ } from "../ts/timestamps.js";

export const MEDIA_PLAYLIST = "index.m3u8";
export const MASTER_PLAYLIST = "master.m3u8";
export const DEFAULT_DELETE_AFTER_SECONDS = 120;

/** What the writer needs to map a segment's PTS to its PROGRAM-DATE-TIME. */
export interface WallClock {
  wallMs(pts: number): number;
  /** a new time base after a discontinuity: `pts` is at `wallMs` */
  rebase?(pts: number, wallMs: number): void;
}

export interface HlsWriterOptions {
  dir: string;
  segmentSeconds: number;
  markers: MarkerStyle;
  clock: WallClock;
  /** VOD: all segments, playlist written at end() with ENDLIST. Default false (live). */
  vod?: boolean;
  /** live window in segments, ≥ 3 (default 10) */
  window?: number;
  /** live: seconds a segment stays on disk after it left the playlist (default 120) */
  deleteAfterSeconds?: number;
  timers?: Timers;
  initialMediaSequence?: number;
  initialDiscontinuitySequence?: number;
  onError?: (e: OnairError) => void;
}

export interface HlsWriterStats {
  segments: number;
  bytes: number;
  deleted: number;
  writeErrors: number;
  longSegments: number;
}

export class HlsWriter {
  readonly playlist: MediaPlaylist;
  readonly stats: HlsWriterStats = { segments: 0, bytes: 0, deleted: 0, writeErrors: 0, longSegments: 0 };
  /** the first write error, if any */
  firstError: OnairError | undefined;

  private readonly opts: HlsWriterOptions;
  private readonly timers: Timers;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private dirReady = false;
  private holeBefore = false;
  private lastEndMs = -1;
  private variant: VariantInfo | undefined;
  private masterBandwidth = 0;
  private readonly deletions = new Set<unknown>();

  constructor(opts: HlsWriterOptions) {
    const window = opts.vod ? undefined : (opts.window ?? DEFAULT_WINDOW);
    if (window !== undefined && (!Number.isInteger(window) || window < MIN_WINDOW)) {
      throw new OnairError(
        "ONAIR_HLS_BAD_OPTION",
        `the HLS window must be a whole number of at least ${MIN_WINDOW} segments (got ${window})`,
        { window },
      );
    }
    this.opts = opts;
    this.timers = opts.timers ?? backgroundTimers;
    this.playlist = new MediaPlaylist({
      segmentSeconds: opts.segmentSeconds,
      markers: opts.markers,
      window,
      initialMediaSequence: opts.initialMediaSequence,
      initialDiscontinuitySequence: opts.initialDiscontinuitySequence,
      wallMsOf: (pts) => opts.clock.wallMs(pts),
    });
  }

  /** Segments queued and not yet written. */
  get backlog(): number {
    return this.queued;
  }

  /** Queues a segment (its bytes now belong to the writer). Never throws. */
  add(rec: SegmentRecord, info: StreamInfo | undefined): void {
    this.queued++;
    this.queue = this.queue.then(() => this.write(rec, info)).finally(() => this.queued--);
  }

  /** Resolves when everything queued so far is written (or failed). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Waits for the queue; VOD: writes the playlist with ENDLIST. Pending deletions stay scheduled. */
  async end(): Promise<void> {
    await this.queue;
    if (!this.opts.vod) return;
    await this.guard(MEDIA_PLAYLIST, () => this.writeAtomic(MEDIA_PLAYLIST, this.playlist.render(true)));
    await this.writeMaster();
  }

  /** Cancels pending deletions (the files stay). */
  close(): void {
    for (const h of this.deletions) this.timers.clearTimeout(h);
    this.deletions.clear();
  }

  private async write(rec: SegmentRecord, info: StreamInfo | undefined): Promise<void> {
    // a segment that failed was never listed, so its number goes to the next one
    const uri = `seg${this.playlist.nextSequence}.ts`;
    const durationSeconds = rec.durationTicks / PTS_CLOCK_HZ;
    const pdtMs = this.pdtOf(rec);
    this.lastEndMs = pdtMs + durationSeconds * 1000;
    const ok = await this.guard(uri, async () => {
      await this.ensureDir();
      await this.writeAtomic(uri, rec.bytes);
    });
    if (!ok) {
      this.holeBefore = true;
      return;
    }
    this.stats.segments++;
    this.stats.bytes += rec.bytes.length;
    if (rec.long) this.stats.longSegments++;
    const entry: Omit<PlaylistEntry, "sequence"> = {
      uri,
      durationSeconds,
      pdtMs,
      discontinuity: rec.discontinuity || this.holeBefore,
      cue: rec.cue,
    };
    this.holeBefore = false;
    const removed = this.playlist.add(entry);
    this.noteVariant(rec, info, durationSeconds);
    if (this.opts.vod) return;
    await this.guard(MEDIA_PLAYLIST, () => this.writeAtomic(MEDIA_PLAYLIST, this.playlist.render()));
    for (const old of removed) this.scheduleDelete(old.uri);
    await this.writeMaster();
  }

  private pdtOf(rec: SegmentRecord): number {
    if (rec.discontinuity && this.lastEndMs >= 0) this.opts.clock.rebase?.(rec.firstPts, this.lastEndMs);
    return this.opts.clock.wallMs(rec.firstPts);
  }

  /** Runs an fs step; a failure becomes ONAIR_HLS_WRITE_FAILED for onError. Returns success. */
  private async guard(name: string, step: () => Promise<void>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const path = join(this.opts.dir, name);
      const fields = { path, errno: err.code, dir: this.opts.dir };
      const failure = new OnairError("ONAIR_HLS_WRITE_FAILED", `cannot write ${path}: ${err.code ?? err.message}`, fields, { cause: e });
      this.stats.writeErrors++;
      this.firstError ??= failure;
      this.opts.onError?.(failure);
      return false;
    }
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.opts.dir, { recursive: true });
    this.dirReady = true;
  }

  private async writeAtomic(name: string, data: string | Uint8Array): Promise<void> {
    await this.ensureDir();
    const tmp = join(this.opts.dir, `.${name}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, join(this.opts.dir, name));
  }

  /** Deletes files a player may still hold (a previous run's segments) after the same grace as a segment that left the window. */
  deleteLater(uris: readonly string[]): void {
    for (const uri of uris) this.scheduleDelete(uri);
  }

  private scheduleDelete(uri: string): void {
    const ms = (this.opts.deleteAfterSeconds ?? DEFAULT_DELETE_AFTER_SECONDS) * 1000;
    const h = this.timers.setTimeout(() => {
      this.deletions.delete(h);
      unlink(join(this.opts.dir, uri)).then(
        () => void this.stats.deleted++,
        () => undefined, // already gone: nothing to free
      );
    }, ms);
    this.deletions.add(h);
  }

  private noteVariant(rec: SegmentRecord, info: StreamInfo | undefined, seconds: number): void {
    const bandwidth = seconds > 0 ? (rec.bytes.length * 8) / seconds : 0;
    if (!this.variant) {
      const sps = info && info.videoStreamType === 0x1b ? findSps(firstPesPayload(rec.bytes, info.videoPid)) : undefined;
      const codecs = [sps ? avc1Codec(sps) : undefined, info?.aac ? "mp4a.40.2" : undefined].filter(Boolean);
      this.variant = {
        bandwidth,
        codecs: codecs.length ? codecs.join(",") : undefined,
        width: sps?.width,
        height: sps?.height,
        uri: MEDIA_PLAYLIST,
      };
    } else if (bandwidth > this.variant.bandwidth) {
      this.variant.bandwidth = bandwidth;
    }
  }

  /** master.m3u8: written first, then again when the peak bit rate grew by more than 10 %. */
  private async writeMaster(): Promise<void> {
    const v = this.variant;
    if (!v || (this.masterBandwidth > 0 && v.bandwidth <= this.masterBandwidth * 1.1)) return;
    this.masterBandwidth = v.bandwidth;
    await this.guard(MASTER_PLAYLIST, () => this.writeAtomic(MASTER_PLAYLIST, renderMaster(v)));
  }
}
