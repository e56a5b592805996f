/**
 * HLS playlists (RFC 8216): the media playlist model with its live window or VOD form, the
 * ad-marker tags of issue #21, the multivariant playlist, and the PTS → wall-clock mapping
 * behind PROGRAM-DATE-TIME. Pure: no I/O, no timers.
 *
 * Contract:
 * - Header: EXTM3U, VERSION 3, TARGETDURATION (fixed for the playlist's life), MEDIA-SEQUENCE,
 *   DISCONTINUITY-SEQUENCE, INDEPENDENT-SEGMENTS; VOD adds PLAYLIST-TYPE:VOD and ENDLIST.
 * - Every segment: DISCONTINUITY only where the stream breaks, PROGRAM-DATE-TIME from its
 *   first PTS (never from the time of writing), EXTINF to the millisecond.
 * - Live window: `window` segments; removing one adds 1 to MEDIA-SEQUENCE, and 1 to
 *   DISCONTINUITY-SEQUENCE when it carried a DISCONTINUITY. Neither ever goes back.
 * - Markers `cue` (Elemental / SCTE-35 enhanced), `daterange` (RFC 8216 §4.3.2.7.1), `both`,
 *   `none`. A DATERANGE's START-DATE is the splice segment's PROGRAM-DATE-TIME string; the
 *   closing tag repeats ID and START-DATE; while a break's splice segment has left the window
 *   and the break is still listed, its opening DATERANGE stays before the first segment.
 */
import { toBase64, toHex } from "../scte35/bytes.js";
import { ptsDiff } from "../ts/timestamps.js";
import type { BreakInfo, SegmentCue } from "./cut-planner.js";

import type { MarkerStyle } from "./options.js";
export { MARKER_STYLES, type MarkerStyle } from "./options.js";

export const PLAYLIST_VERSION = 3;
export const DEFAULT_WINDOW = 10;
export const MIN_WINDOW = 3;

export interface PlaylistEntry {
  sequence: number;
  uri: string;
  durationSeconds: number;
  /** PROGRAM-DATE-TIME, ms since the epoch */
  pdtMs: number;
  discontinuity: boolean;
  cue?: SegmentCue;
}

export interface MediaPlaylistOptions {
  segmentSeconds: number;
  markers: MarkerStyle;
  /** live window in segments (≥ 3); undefined: VOD, every segment stays */
  window?: number;
  initialMediaSequence?: number;
  initialDiscontinuitySequence?: number;
  /** START-DATE of a break whose splice segment this playlist never listed (a restart) */
  wallMsOf?: (pts: number) => number;
}

/** Seconds to the millisecond: 6 → "6.000". */
export function seconds3(s: number): string {
  return (Math.round(s * 1000) / 1000).toFixed(3);
}

/** ISO 8601 UTC to the millisecond: 2026-12-07T01:30:00.000Z. */
export function isoMs(ms: number): string {
  return new Date(Math.round(ms)).toISOString();
}

/**
 * Maps 90 kHz PTS to wall-clock ms: (wallMs0, pts0) is taken at the first call (or set with
 * `rebase`), then wall = wallMs0 + (pts − pts0) / 90 with the 33-bit wrap unwrapped against
 * the latest PTS seen, so queries slightly in the past (a splice PTS) also map right.
 */
export class PtsWallClock {
  private pts0 = -1;
  private wall0: number;
  private lastPts = -1;
  private lastTicks = 0;

  constructor(startWallMs: number) {
    this.wall0 = startWallMs;
  }

  wallMs(pts: number): number {
    if (this.pts0 < 0) this.rebase(pts, this.wall0);
    const ticks = this.lastTicks + ptsDiff(pts, this.lastPts);
    if (ticks > this.lastTicks) {
      this.lastTicks = ticks;
      this.lastPts = pts;
    }
    return this.wall0 + ticks / 90;
  }

  /** A new time base: `pts` is at `wallMs` from now on (after a discontinuity). */
  rebase(pts: number, wallMs: number): void {
    this.pts0 = pts;
    this.wall0 = wallMs;
    this.lastPts = pts;
    this.lastTicks = 0;
  }
}

export class MediaPlaylist {
  readonly targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  readonly entries: PlaylistEntry[] = [];
  private readonly opts: MediaPlaylistOptions;
  /** START-DATE (ms) of each break seen, by break id */
  private readonly breakStart = new Map<string, number>();

  constructor(opts: MediaPlaylistOptions) {
    this.opts = opts;
    this.targetDuration = Math.ceil(opts.segmentSeconds);
    this.mediaSequence = opts.initialMediaSequence ?? 0;
    this.discontinuitySequence = opts.initialDiscontinuitySequence ?? 0;
  }

  /** Sequence number the next entry gets. */
  get nextSequence(): number {
    return this.mediaSequence + this.entries.length;
  }

  /** Appends an entry; returns the entries that left the live window. */
  add(e: Omit<PlaylistEntry, "sequence">): PlaylistEntry[] {
    const entry = { ...e, sequence: this.nextSequence };
    if (entry.cue?.out) this.breakStart.set(entry.cue.out.id, entry.pdtMs);
    this.entries.push(entry);
    const removed: PlaylistEntry[] = [];
    const window = this.opts.window;
    while (window !== undefined && this.entries.length > window) {
      const old = this.entries.shift()!;
      this.mediaSequence++;
      if (old.discontinuity) this.discontinuitySequence++;
      if (old.cue?.in) this.breakStart.delete(old.cue.in.break.id);
      removed.push(old);
    }
    return removed;
  }

  render(ended = false): string {
    const lines = [
      "#EXTM3U",
      `#EXT-X-VERSION:${PLAYLIST_VERSION}`,
      `#EXT-X-TARGETDURATION:${this.targetDuration}`,
      `#EXT-X-MEDIA-SEQUENCE:${this.mediaSequence}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySequence}`,
      "#EXT-X-INDEPENDENT-SEGMENTS",
    ];
    if (this.opts.window === undefined) lines.push("#EXT-X-PLAYLIST-TYPE:VOD");
    if (this.daterange) lines.push(...this.openDateRanges());
    for (const e of this.entries) {
      if (e.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${isoMs(e.pdtMs)}`);
      if (e.cue) lines.push(...this.cueTags(e.cue));
      lines.push(`#EXTINF:${seconds3(e.durationSeconds)},`, e.uri);
    }
    if (ended) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  }

  private get cue(): boolean {
    return this.opts.markers === "cue" || this.opts.markers === "both";
  }

  private get daterange(): boolean {
    return this.opts.markers === "daterange" || this.opts.markers === "both";
  }

  /** Opening DATERANGEs of breaks still listed whose splice segment has left the window. */
  private openDateRanges(): string[] {
    const listedOut = new Set<string>();
    const out: string[] = [];
    for (const e of this.entries) {
      if (e.cue?.out) listedOut.add(e.cue.out.id);
      const b = e.cue?.cont?.break ?? e.cue?.in?.break;
      if (b && !listedOut.has(b.id)) {
        listedOut.add(b.id);
        out.push(this.dateRangeOut(b));
      }
    }
    return out;
  }

  private startDate(b: BreakInfo): string {
    return isoMs(this.breakStart.get(b.id) ?? this.opts.wallMsOf?.(b.splicePts) ?? 0);
  }

  private dateRangeOut(b: BreakInfo): string {
    const planned = b.plannedDurationSeconds !== undefined ? `,PLANNED-DURATION=${seconds3(b.plannedDurationSeconds)}` : "";
    return `#EXT-X-DATERANGE:ID="${b.id}",START-DATE="${this.startDate(b)}"${planned},SCTE35-OUT=0x${toHex(b.section).toUpperCase()}`;
  }

  /** The tags before a segment, in order: the end of a break, then the start of the next, or the inside. */
  private cueTags(c: SegmentCue): string[] {
    const lines: string[] = [];
    if (c.in) {
      if (this.cue && c.in.section) lines.push(`#EXT-OATCLS-SCTE35:${toBase64(c.in.section)}`);
      if (this.cue) lines.push("#EXT-X-CUE-IN");
      if (this.daterange) {
        const inCue = c.in.section ? `,SCTE35-IN=0x${toHex(c.in.section).toUpperCase()}` : "";
        const b = c.in.break;
        lines.push(`#EXT-X-DATERANGE:ID="${b.id}",START-DATE="${this.startDate(b)}",DURATION=${seconds3(c.in.durationSeconds)}${inCue}`);
      }
    }
    if (c.out) {
      const d = c.out.plannedDurationSeconds;
      if (this.cue)
        lines.push(`#EXT-OATCLS-SCTE35:${toBase64(c.out.section)}`, d !== undefined ? `#EXT-X-CUE-OUT:${seconds3(d)}` : "#EXT-X-CUE-OUT");
      if (this.daterange) lines.push(this.dateRangeOut(c.out));
    } else if (c.cont && this.cue) {
      const b = c.cont.break;
      const d = b.plannedDurationSeconds !== undefined ? `,Duration=${seconds3(b.plannedDurationSeconds)}` : "";
      lines.push(`#EXT-X-CUE-OUT-CONT:ElapsedTime=${seconds3(c.cont.elapsedSeconds)}${d},SCTE35=${toBase64(b.section)}`);
    }
    return lines;
  }
}

export interface VariantInfo {
  /** peak segment bit rate, bits/s */
  bandwidth: number;
  /** e.g. avc1.64000d,mp4a.40.2; omitted when unknown */
  codecs?: string;
  width?: number;
  height?: number;
  uri: string;
}

/** The multivariant playlist naming the one media playlist. */
export function renderMaster(v: VariantInfo): string {
  const attrs = [`BANDWIDTH=${Math.ceil(v.bandwidth)}`];
  if (v.codecs) attrs.push(`CODECS="${v.codecs}"`);
  if (v.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
  return [
    "#EXTM3U",
    `#EXT-X-VERSION:${PLAYLIST_VERSION}`,
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-STREAM-INF:${attrs.join(",")}`,
    v.uri,
    "",
  ].join("\n");
}
