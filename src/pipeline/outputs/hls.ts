/**
 * The live `hls` output (issue #21): the channel's injected TS → Segmenter → HlsWriter, a
 * live window in `index.m3u8` plus `master.m3u8`, served by the daemon at /hls/<channel>/.
 *
 * Contract:
 * - PROGRAM-DATE-TIME comes from the channel's PTS↔wall-clock mapping (the injector's
 *   StreamClock, handed in as `OutputContext.wallClock`), never from the time of writing.
 * - `discontinuity()` (the channel calls it on a switch to or from the slate, which an FFmpeg
 *   restart also goes through) ends the open segment; the next one starts on an IDR of the new
 *   source with #EXT-X-DISCONTINUITY.
 * - Sequence numbers survive a daemon restart: `state.json` in the HLS directory (written to a
 *   temporary name and renamed after each segment) holds the next media sequence and the
 *   discontinuity count. A new run starts after the larger of that and the highest `seg<N>.ts`
 *   on disk (so no file a player may still hold is overwritten, even if the state write was
 *   lost), with a discontinuity on its first segment.
 * - A write error (a file where the directory should be, a full disk) is a failure episode
 *   (`failed`, counted, the channel's output_error); the segment is dropped, the other outputs
 *   are untouched, and the next segment written ends the episode.
 * - write() never blocks: the writer queues; beyond MAX_BACKLOG segments waiting, a segment is
 *   dropped (counted) and the next listed one is marked discontinuous by the writer.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Timers } from "../../core/timers.js";
import type { MarkerStyle } from "../../hls/playlist.js";
import { Segmenter, type SegmentRecord } from "../../hls/segmenter.js";
import { HlsWriter, type HlsWriterStats, type WallClock } from "../../hls/writer.js";
import { Output, type OutputConfig, type OutputContext } from "./types.js";

export const HLS_STATE_FILE = "state.json";
/** Segments waiting to be written before new ones are dropped. */
export const MAX_BACKLOG = 8;

export interface HlsOutputOptions {
  dir: string;
  segmentSeconds: number;
  window: number;
  deleteAfterSeconds: number;
  markers: MarkerStyle;
  /** PTS → wall-clock ms (the channel's injector clock) */
  clock: WallClock;
  name?: string;
  logger?: Logger;
  timers?: Timers;
}

/** Counters (cumulative) and gauges, exported as onair_hls_* by observe/metrics. */
export interface HlsOutputSnapshot {
  /** segments written and listed → onair_hls_segments_written_total */
  segments: number;
  /** failed segment, playlist or state writes → onair_hls_write_errors_total */
  writeErrors: number;
  /** segments longer than the target (a GOP longer than segmentSeconds) → onair_hls_long_segments_total */
  longSegments: number;
  /** bytes of the segments on disk (listed, or waiting for their deletion) → onair_hls_disk_bytes */
  bytesOnDisk: number;
  /** seconds since the media playlist was last written; null before the first → onair_hls_playlist_age_seconds */
  playlistAgeSeconds: number | null;
  /** EXT-X-TARGETDURATION → onair_hls_target_duration_seconds (the stale-playlist rule is 3 of them) */
  targetDurationSeconds: number;
}

/** What a run continues from: the next media sequence and the discontinuities counted so far. */
export interface HlsState {
  nextMediaSequence: number;
  discontinuitySequence: number;
}

/** The `segN.ts` files in `dir`, oldest first (none when there is no directory yet). */
function segmentFiles(dir: string): { n: number; uri: string }[] {
  const out: { n: number; uri: string }[] = [];
  try {
    for (const f of readdirSync(dir)) {
      const m = /^seg(\d+)\.ts$/.exec(f);
      if (m) out.push({ n: Number(m[1]), uri: f });
    }
  } catch {
    // no directory yet
  }
  return out.sort((a, b) => a.n - b.n);
}

/**
 * A previous run's segments with their sizes, oldest first: every `segN.ts` on disk at start
 * (a new run numbers after them). They are no longer listed; a player may still hold the old
 * playlist, so they go after the grace.
 */
export function leftoverSegments(dir: string, files = segmentFiles(dir)): { uri: string; bytes: number }[] {
  const out: { uri: string; bytes: number }[] = [];
  for (const { uri } of files) {
    try {
      out.push({ uri, bytes: statSync(join(dir, uri)).size });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The state a new run starts from: state.json and the segment files on disk (a missing or bad file counts as 0). */
export function readHlsState(dir: string, files = segmentFiles(dir)): HlsState {
  let state: HlsState = { nextMediaSequence: 0, discontinuitySequence: 0 };
  try {
    const s = JSON.parse(readFileSync(join(dir, HLS_STATE_FILE), "utf8")) as Partial<HlsState>;
    if (Number.isSafeInteger(s.nextMediaSequence) && Number.isSafeInteger(s.discontinuitySequence)) state = s as HlsState;
  } catch {
    // no state yet (first run) or unreadable: the files on disk still bound the numbering
  }
  const maxSeg = files.length > 0 ? files[files.length - 1].n : -1;
  return { ...state, nextMediaSequence: Math.max(state.nextMediaSequence, maxSeg + 1) };
}

export class HlsOutput extends Output {
  readonly segmenter: Segmenter;
  readonly writer: HlsWriter;
  /** ms (Date.now) of the last playlist written, 0 before the first */
  lastPlaylistAt = 0;
  private readonly opts: HlsOutputOptions;
  private stateQueue: Promise<void> = Promise.resolve();
  /** sizes of the segments written and not yet seen deleted, oldest first */
  private readonly sizes: number[] = [];
  private deletedSeen = 0;
  private bytesOnDisk = 0;
  private closed = false;

  constructor(opts: HlsOutputOptions) {
    super("hls", opts.name ?? "hls", opts.logger);
    this.opts = opts;
    const files = segmentFiles(opts.dir);
    const start = readHlsState(opts.dir, files);
    const resumed = start.nextMediaSequence > 0;
    this.writer = new HlsWriter({
      dir: opts.dir,
      segmentSeconds: opts.segmentSeconds,
      markers: opts.markers,
      clock: opts.clock,
      window: opts.window,
      deleteAfterSeconds: opts.deleteAfterSeconds,
      timers: opts.timers,
      initialMediaSequence: start.nextMediaSequence,
      initialDiscontinuitySequence: start.discontinuitySequence,
      onError: (e) => this.fail(e),
    });
    this.segmenter = new Segmenter({
      segmentSeconds: opts.segmentSeconds,
      startWithDiscontinuity: resumed,
      onSegment: (rec) => this.onSegment(rec),
    });
    // a previous run's segments are not listed any more: deleted after the grace, counted on disk until then
    const leftovers = leftoverSegments(opts.dir, files);
    for (const l of leftovers) {
      this.sizes.push(l.bytes);
      this.bytesOnDisk += l.bytes;
    }
    this.writer.deleteLater(leftovers.map((l) => l.uri));
    if (resumed) this.log?.info({ event: "hls.resumed", dir: opts.dir, leftovers: leftovers.length, ...start });
  }

  /** Where the daemon's HTTP server finds the files, and how long a segment may be cached (listed + kept). */
  get source(): { dir: string; maxAgeSeconds: number } {
    const o = this.opts;
    return { dir: o.dir, maxAgeSeconds: o.window * Math.ceil(o.segmentSeconds) + o.deleteAfterSeconds };
  }

  get hlsStats(): HlsWriterStats {
    return this.writer.stats;
  }

  /** onair_hls_*: deletions run in the order segments were written, so the oldest sizes are the deleted ones. */
  snapshot(now = Date.now()): HlsOutputSnapshot {
    const w = this.writer.stats;
    while (this.deletedSeen < w.deleted && this.sizes.length > 0) {
      this.bytesOnDisk -= this.sizes.shift()!;
      this.deletedSeen++;
    }
    return {
      segments: w.segments,
      writeErrors: w.writeErrors,
      longSegments: w.longSegments,
      bytesOnDisk: this.bytesOnDisk,
      playlistAgeSeconds: this.lastPlaylistAt > 0 ? (now - this.lastPlaylistAt) / 1000 : null,
      targetDurationSeconds: this.writer.playlist.targetDuration,
    };
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  write(chunk: Buffer): void {
    if (this.closed) return;
    this.segmenter.push(chunk);
    this.stats.bytes += chunk.length;
    this.stats.packets += Math.floor(chunk.length / 188);
  }

  /** The stream breaks here (slate switch, FFmpeg restart): the next segment starts discontinuous. */
  override discontinuity(): void {
    if (!this.closed) this.segmenter.discontinuity();
  }

  /** Resolves when every segment handed over so far is written (or failed) and its state saved. */
  async idle(): Promise<void> {
    await this.writer.idle();
    await this.stateQueue;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer.idle();
    await this.stateQueue;
    this.writer.close();
  }

  private onSegment(rec: SegmentRecord): void {
    if (this.writer.backlog >= MAX_BACKLOG) {
      this.drop(rec.bytes.length);
      return;
    }
    const errorsBefore = this.writer.stats.writeErrors;
    const segmentsBefore = this.writer.stats.segments;
    this.writer.add(rec, this.segmenter.info);
    this.stats.files++;
    this.stats.queuedBytes += rec.bytes.length;
    this.stateQueue = this.stateQueue
      .then(() => this.writer.idle())
      .then(() => this.afterSegment(rec.bytes.length, errorsBefore, segmentsBefore));
  }

  private async afterSegment(bytes: number, errorsBefore: number, segmentsBefore: number): Promise<void> {
    this.stats.queuedBytes = Math.max(0, this.stats.queuedBytes - bytes);
    if (this.writer.stats.writeErrors !== errorsBefore || this.writer.stats.segments === segmentsBefore) return;
    this.lastPlaylistAt = Date.now();
    this.sizes.push(bytes);
    this.bytesOnDisk += bytes;
    const p = this.writer.playlist;
    const state: HlsState = {
      nextMediaSequence: p.nextSequence,
      discontinuitySequence: p.discontinuitySequence + p.entries.filter((e) => e.discontinuity).length,
    };
    const tmp = join(this.opts.dir, `.${HLS_STATE_FILE}.tmp`);
    try {
      await writeFile(tmp, `${JSON.stringify(state)}\n`);
      await rename(tmp, join(this.opts.dir, HLS_STATE_FILE));
      this.ok();
    } catch (e) {
      this.fail(e);
    }
  }
}

/** The hls output of a profile's `kind: hls` entry: `dir` defaults to <data dir>/hls/<channel>. */
export function hlsFromConfig(o: OutputConfig<"hls">, ctx: OutputContext): HlsOutput {
  return new HlsOutput({
    dir: hlsDirOf(o, ctx),
    segmentSeconds: o.segmentSeconds,
    window: o.window,
    deleteAfterSeconds: o.deleteAfterSeconds,
    markers: o.markers,
    clock: ctx.wallClock ?? { wallMs: (pts) => pts / 90 },
    name: "hls",
    logger: ctx.logger,
    timers: ctx.timers,
  });
}

/** An hls output's directory: its `dir`, else <data dir>/hls/<channel id>. */
export function hlsDirOf(o: OutputConfig<"hls">, ctx: Pick<OutputContext, "dataDir" | "channel">): string {
  return o.dir ?? join(ctx.dataDir ?? ".", "hls", ctx.channel ?? "channel");
}
