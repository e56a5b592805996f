/**
 * Playlist input: the schedule's items, back to back at their scheduled times, through one
 * long-running FFmpeg (one encoder) per run.
 *
 * Why a filter graph and not the concat demuxer (ffconcat): FFmpeg 5.1's concat demuxer
 * takes the stream time bases of the first file and does not rescale the packets of later
 * files, so an MP4 item with another track timescale (1/15360 for 30 fps, 1/44100 audio)
 * after a 1/12800 one comes out with its timestamps scaled by the ratio (measured: an item
 * due at 5.5 s started at 6.6 s, and its audio 0.47 s early) — that was the "DTS … out of
 * order" of the previous attempt. Its decoder is also the first file's, so items in other
 * codecs would not decode at all. Instead each run gets a filter graph (written to the
 * channel's data dir, passed with `-filter_complex_script`, so argv stays small):
 *
 * - an item: `movie=FILE:s=dv+da[:sp=INPOINT]`, then per stream a normalisation to the
 *   channel's format and an exact length in frames and samples: video `trim/setpts` (join
 *   point), scale+pad to the channel size, `fps=R:start_time=0`, `tpad` (clone the last
 *   frame if the file ends a frame early), `trim=end_frame=K`, `setpts=N/FRAME_RATE/TB`;
 *   audio `atrim/asetpts`, `aresample=async=1:first_pts=0`, layout, `apad`,
 *   `atrim=end_sample=S`, `asetpts=N/SR/TB`. An overrun is cut by `trim` at the item's
 *   scheduled end, a file shorter than its slot is followed by filler;
 * - filler (gaps, missing media, underruns): the slate (`color`, or the slate image/clip
 *   looped) and silence, or with `fallback: "loop"` the previous item's file looped;
 * - `concat` of all entries, then `realtime`/`arealtime` so the run plays at wall speed.
 *
 * Every entry is a whole number of frames on a lattice that starts at the run's start
 * (frame k airs at t0 + k/fps), with each boundary rounded to the frame nearest its wall
 * time, so starts never drift by more than half a frame. Audio sample boundaries are
 * rounded from the same frame boundaries. The encoder gets `-force_key_frames` as an
 * explicit list: every entry start and, from each entry start, the channel's GOP grid
 * (so a break at a GOP multiple of an item's start lands on an IDR). The list is capped
 * (`maxKeyframes`, default 9000 times, and 120 000 characters: one argv string may not
 * exceed 128 KiB, MAX_ARG_STRLEN, or spawn fails with E2BIG), and so is the number of
 * `movie` sources per run (each is opened when the graph is built). When the plan's end is
 * reached FFmpeg ends and the supervisor starts the next run from "now"; a crashed run
 * restarts the same way and joins the current item mid-way (`sp` + `trim`).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import type { Logger } from "pino";
import type { ChannelProfile } from "../config/profile-schema.js";
import { OnairError } from "../core/errors.js";
import type { ScheduleItem } from "../schedule/model.js";
import { buildFfmpegArgs, keyframeGrid, parseFps, type FfmpegCommand } from "./ffmpeg-args.js";

/** Log code of an item whose media is missing or unreadable (it airs as filler). */
export const MEDIA_MISSING = "ONAIR_PLAYLIST_MEDIA_MISSING";
/** Log code of a file that probed fine but made an FFmpeg run fail (it airs as filler until it changes). */
export const MEDIA_FAILED = "ONAIR_PLAYLIST_MEDIA_FAILED";

/** What a probe found out about a media file. */
export interface MediaInfo {
  /** Container duration in seconds, or null (unknown, live URL). */
  durationS: number | null;
  /** Container start_time in seconds (0 for most files, ~1.4 for a TS). */
  startS: number;
  video: boolean;
  audio: boolean;
}

/** A probe result: info, `"missing"` (absent/unreadable/no video), or undefined (not probed yet). */
export type MediaLookup = (path: string) => MediaInfo | "missing" | undefined;

export type FillerReason = "gap" | "missing" | "underrun" | "unprobed" | "tail";

export interface PlanEntry {
  kind: "item" | "filler";
  /** First frame on the run's lattice, and length in frames. */
  startFrame: number;
  frames: number;
  /** First audio sample and length in samples (from the frame boundaries). */
  startSample: number;
  samples: number;
  /** Wall time the entry is due (t0 + startFrame / fps), ms. */
  wallStartMs: number;
  wallEndMs: number;
  /** Items: the store id, title, resolved media and the seconds into the file it starts at. */
  itemId?: number | undefined;
  title?: string | undefined;
  media?: string | undefined;
  inpointS?: number | undefined;
  info?: MediaInfo | undefined;
  /** Filler: why, and for `fallback: "loop"` the file looped. */
  reason?: FillerReason | undefined;
  loopMedia?: string | undefined;
  loopInfo?: MediaInfo | undefined;
}

export interface PlaylistPlan {
  /** Wall time of frame 0, ms. */
  t0Ms: number;
  fpsNum: number;
  fpsDen: number;
  sampleRate: number;
  entries: PlanEntry[];
  /** Forced key-frame times in seconds from the run's start (sorted, unique). */
  keyframes: number[];
  /** Frames in the whole run. */
  frames: number;
  /** Wall time the run ends, ms. */
  endMs: number;
  /** Items whose media was missing in this plan (store id or title, and the path). */
  missing: { itemId?: number | undefined; title: string; media: string | undefined }[];
  /** Why the plan stops where it does. */
  cut: "horizon" | "keyframes" | "sources" | "schedule_end";
}

export interface PlanOptions {
  items: readonly Pick<ScheduleItem, "startMs" | "durationMs" | "title" | "media" | "id">[];
  nowMs: number;
  fps: number | string;
  sampleRate: number;
  gopSeconds: number;
  mediaDir?: string | undefined;
  fallback: "slate" | "loop";
  lookup: MediaLookup;
  /** How far ahead one run plans (default 4 h). */
  horizonMs?: number;
  /** Filler after the last item (default 10 min): a run never ends on an empty schedule. */
  tailMs?: number;
  /** `movie` sources per run (default 12). */
  maxSources?: number;
  /** Forced key-frame times per run (default 9000). */
  maxKeyframes?: number;
  /** Characters of the -force_key_frames argument (default 120 000). */
  maxKeyframeChars?: number;
}

/**
 * A file a run failed on is tried again after this long, unchanged (a URL never changes; a
 * network share may have been down). The retry is a planned replacement: when it fails the
 * running FFmpeg goes on airing and the file is set aside again, so viewers see nothing.
 */
export const FAILED_RETRY_MS = 600_000;

export const PLAN_DEFAULTS = { horizonMs: 4 * 3600_000, tailMs: 600_000, maxSources: 12, maxKeyframes: 9000, maxKeyframeChars: 120_000 };

/** Resolves an item's media: URLs and absolute paths as they are, others against mediaDir. */
export function resolveMedia(media: string, mediaDir?: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(media) || isAbsolute(media)) return media;
  return mediaDir ? resolvePath(mediaDir, media) : resolvePath(media);
}

/** Seconds of frame `f` as the -force_key_frames list gets it (µs precision). */
function frameSeconds(f: number, num: number, den: number): string {
  return (Math.round((f * den * 1e6) / num) / 1e6).toFixed(6).replace(/\.?0+$/, "");
}

/** Plans one run from `nowMs`: entries on the frame lattice, filler, and forced key frames. */
export function planPlaylist(o: PlanOptions): PlaylistPlan {
  const { text } = parseFps(o.fps);
  const [fpsNum, fpsDen = 1] = text.split("/").map(Number);
  const grid = keyframeGrid(o.gopSeconds, o.fps).frames;
  const horizonMs = o.horizonMs ?? PLAN_DEFAULTS.horizonMs;
  const tailMs = o.tailMs ?? PLAN_DEFAULTS.tailMs;
  const maxSources = o.maxSources ?? PLAN_DEFAULTS.maxSources;
  const maxKf = o.maxKeyframes ?? PLAN_DEFAULTS.maxKeyframes;
  const maxKfChars = o.maxKeyframeChars ?? PLAN_DEFAULTS.maxKeyframeChars;
  const t0 = o.nowMs;
  const frameAt = (wallMs: number): number => Math.max(0, Math.round(((wallMs - t0) * fpsNum) / (fpsDen * 1000)));
  const wallOf = (f: number): number => t0 + (f * fpsDen * 1000) / fpsNum;
  const sampleOf = (f: number): number => Math.round((f * fpsDen * o.sampleRate) / fpsNum);
  const endLimit = frameAt(t0 + horizonMs);

  const entries: PlanEntry[] = [];
  const keyframes: number[] = [];
  let kfChars = 0;
  let sources = 0;
  const missing: PlaylistPlan["missing"] = [];
  let cut: PlaylistPlan["cut"] = "schedule_end";
  let lastMedia: { path: string; info: MediaInfo } | undefined;

  /** Key frames of an entry [s, s+n): its start and the GOP grid from there. */
  const kfOf = (s: number, n: number): number[] => {
    const out: number[] = [];
    for (let f = s; f < s + n; f += grid) out.push(f);
    return out;
  };
  /** Adds an entry if its key frames fit (shortening it to fit when `shorten`); false = full. */
  const add = (e: Omit<PlanEntry, "startSample" | "samples" | "wallStartMs" | "wallEndMs">, shorten: boolean): boolean => {
    let n = e.frames;
    let kfs = kfOf(e.startFrame, n);
    let chars = kfs.reduce((a, f) => a + frameSeconds(f, fpsNum, fpsDen).length + 1, 0);
    if (keyframes.length + kfs.length > maxKf || kfChars + chars > maxKfChars) {
      if (!shorten) return false;
      let fit = Math.max(0, Math.min(maxKf - keyframes.length, kfs.length));
      while (fit > 0 && kfChars + kfs.slice(0, fit).reduce((a, f) => a + frameSeconds(f, fpsNum, fpsDen).length + 1, 0) > maxKfChars) fit--;
      if (fit === 0) return false;
      n = Math.min(n, fit * grid);
      kfs = kfs.slice(0, fit);
      chars = kfs.reduce((a, f) => a + frameSeconds(f, fpsNum, fpsDen).length + 1, 0);
    }
    if (n <= 0) return true;
    const s0 = sampleOf(e.startFrame);
    entries.push({
      ...e,
      frames: n,
      startSample: s0,
      samples: sampleOf(e.startFrame + n) - s0,
      wallStartMs: wallOf(e.startFrame),
      wallEndMs: wallOf(e.startFrame + n),
    });
    keyframes.push(...kfs);
    kfChars += chars;
    return true;
  };
  const filler = (s: number, e: number, reason: FillerReason): boolean => {
    if (e <= s) return true;
    const f: Omit<PlanEntry, "startSample" | "samples" | "wallStartMs" | "wallEndMs"> = { kind: "filler", startFrame: s, frames: e - s, reason };
    if (o.fallback === "loop" && lastMedia && reason !== "missing") {
      f.loopMedia = lastMedia.path;
      f.loopInfo = lastMedia.info;
    }
    return add(f, true);
  };

  let cursor = 0;
  const endOfEntries = (): number => {
    const l = entries[entries.length - 1];
    return l ? l.startFrame + l.frames : cursor;
  };
  const items = [...o.items].sort((a, b) => a.startMs - b.startMs);
  let full = false;
  for (const it of items) {
    const s = Math.max(cursor, frameAt(it.startMs));
    const e = frameAt(it.startMs + it.durationMs);
    if (e <= s) continue;
    if (s >= endLimit) {
      cut = "horizon";
      break;
    }
    filler(cursor, s, "gap");
    cursor = endOfEntries();
    if (cursor < s) {
      full = true;
      break;
    }
    const path = it.media !== undefined ? resolveMedia(it.media, o.mediaDir) : undefined;
    const info = path !== undefined ? o.lookup(path) : "missing";
    if (info === "missing" || info === undefined) {
      if (info === "missing") missing.push({ itemId: it.id, title: it.title, media: path });
      filler(s, e, info === "missing" ? "missing" : "unprobed");
      cursor = endOfEntries();
      if (cursor < e) {
        full = true;
        break;
      }
      continue;
    }
    if (sources >= maxSources) {
      cut = "sources";
      full = true;
      break;
    }
    const inpointS = Math.max(0, (wallOf(s) - it.startMs) / 1000);
    let n = e - s;
    if (info.durationS !== null) {
      const avail = Math.floor(((info.durationS - inpointS) * fpsNum) / fpsDen + 1e-6);
      // a file within 100 ms of its slot fills it (tpad clones its last frame): container
      // durations are often a frame short, and a one-frame filler would be a flash of slate
      const slack = Math.ceil((0.1 * fpsNum) / fpsDen);
      if (avail < n - slack) n = Math.max(0, avail);
    }
    if (n > 0) {
      const entry = { kind: "item" as const, startFrame: s, frames: n, itemId: it.id, title: it.title, media: path, inpointS: inpointS < 0.0005 ? 0 : inpointS, info };
      // the first entry of a run always goes in (shortened to the key-frame cap if it must)
      if (!add(entry, entries.length === 0)) {
        full = true;
        break;
      }
      sources++;
      lastMedia = { path: path!, info };
      cursor = endOfEntries();
      if (cursor < s + n) {
        full = true;
        break;
      }
    }
    filler(cursor, e, "underrun");
    cursor = endOfEntries();
    if (cursor < e) {
      full = true;
      break;
    }
    if (cursor >= endLimit) {
      cut = "horizon";
      break;
    }
  }
  if (full && cut === "schedule_end") cut = "keyframes";
  if (!full && cut === "schedule_end") {
    // after the last item: filler for tailMs (or to the horizon), so a run never ends at once
    filler(cursor, Math.min(endLimit, Math.max(cursor + 1, frameAt(Math.max(t0, wallOf(cursor)) + tailMs))), "tail");
  }
  const last = entries[entries.length - 1];
  const frames = last ? last.startFrame + last.frames : 0;
  const uniq = [...new Set(keyframes)].sort((a, b) => a - b);
  return {
    t0Ms: t0,
    fpsNum,
    fpsDen,
    sampleRate: o.sampleRate,
    entries,
    keyframes: uniq.map((f) => Number(frameSeconds(f, fpsNum, fpsDen))),
    frames,
    endMs: wallOf(frames),
    missing,
    cut,
  };
}

/** The -force_key_frames argument of a plan. */
export function keyframeArg(plan: PlaylistPlan): string {
  return plan.keyframes.map((t) => frameSeconds(Math.round((t * plan.fpsNum) / plan.fpsDen), plan.fpsNum, plan.fpsDen)).join(",");
}

// ── filter graph ──────────────────────────────────────────────────────────────

/** Escapes a value for a filter option (level 1) inside a filter graph (level 2). */
export function graphValue(s: string): string {
  const l1 = s.replace(/[\\':]/g, "\\$&");
  return l1.replace(/[\\'[\],;]/g, "\\$&");
}

const LAYOUTS: Record<number, string> = { 1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1" };

export interface GraphFormat {
  width: number;
  height: number;
  pixFmt: string;
  fps: string;
  sampleRate: number;
  channels: number;
  slate: ChannelProfile["slate"];
}

function num(x: number): string {
  return (Math.round(x * 1e6) / 1e6).toString();
}

/** The filter graph of a plan: entries normalised to the channel's format, concat, real time. */
export function playlistGraph(plan: PlaylistPlan, f: GraphFormat): string {
  const layout = LAYOUTS[f.channels] ?? `${f.channels}c`;
  const size = `${f.width}x${f.height}`;
  const fit = `scale=${f.width}:${f.height}:force_original_aspect_ratio=decrease,pad=${f.width}:${f.height}:-1:-1,setsar=1`;
  const vTail = (frames: number): string => `fps=${f.fps}:start_time=0,format=${f.pixFmt},tpad=stop=-1:stop_mode=clone,trim=end_frame=${frames},setpts=N/FRAME_RATE/TB`;
  const aTail = (samples: number): string =>
    `aresample=${f.sampleRate}:async=1:first_pts=0,aformat=sample_rates=${f.sampleRate}:channel_layouts=${layout},apad,atrim=end_sample=${samples},asetpts=N/SR/TB`;
  const silence = (i: number, samples: number): string => `anullsrc=r=${f.sampleRate}:cl=${layout},atrim=end_sample=${samples},asetpts=N/SR/TB[a${i}]`;
  const lines: string[] = [];
  plan.entries.forEach((e, i) => {
    if (e.kind === "item" && e.media !== undefined && e.info) {
      const start = num(e.info.startS + (e.inpointS ?? 0));
      const sp = e.inpointS ? `:sp=${num(e.inpointS)}` : "";
      const streams = e.info.audio ? "dv+da" : "dv";
      lines.push(`movie=${graphValue(e.media)}:s=${streams}${sp}${e.info.audio ? `[m${i}v][m${i}a]` : `[m${i}v]`}`);
      lines.push(`[m${i}v]trim=start=${start},setpts=PTS-${start}/TB,${fit},${vTail(e.frames)}[v${i}]`);
      if (e.info.audio) lines.push(`[m${i}a]atrim=start=${start},asetpts=PTS-${start}/TB,${aTail(e.samples)}[a${i}]`);
      else lines.push(silence(i, e.samples));
      return;
    }
    if (e.loopMedia && e.loopInfo) {
      const withAudio = e.loopInfo.audio;
      lines.push(`movie=${graphValue(e.loopMedia)}:s=${withAudio ? "dv+da" : "dv"}:loop=0${withAudio ? `[m${i}v][m${i}a]` : `[m${i}v]`}`);
      lines.push(`[m${i}v]setpts=N/FRAME_RATE/TB,${fit},${vTail(e.frames)}[v${i}]`);
      if (withAudio) lines.push(`[m${i}a]asetpts=N/SR/TB,${aTail(e.samples)}[a${i}]`);
      else lines.push(silence(i, e.samples));
      return;
    }
    const s = f.slate;
    if (s.kind === "generated") {
      lines.push(`color=c=${s.color}:s=${size}:r=${f.fps},format=${f.pixFmt},setsar=1,trim=end_frame=${e.frames},setpts=N/FRAME_RATE/TB[v${i}]`);
    } else {
      lines.push(`movie=${graphValue(s.path)}:loop=0,setpts=N/FRAME_RATE/TB,${fit},${vTail(e.frames)}[v${i}]`);
    }
    lines.push(silence(i, e.samples));
  });
  const pads = plan.entries.map((_, i) => `[v${i}][a${i}]`).join("");
  lines.push(`${pads}concat=n=${plan.entries.length}:v=1:a=1[pv][pa]`);
  lines.push(`[pv]realtime[vout]`);
  lines.push(`[pa]arealtime[aout]`);
  return `${lines.join(";\n")}\n`;
}

// ── probing ───────────────────────────────────────────────────────────────────

/** ffprobe next to the FFmpeg binary (same directory and naming), else on PATH. */
export function ffprobeFor(ffmpegPath: string): string {
  const b = basename(ffmpegPath);
  if (b.startsWith("ffmpeg")) {
    const p = join(dirname(ffmpegPath), `ffprobe${b.slice("ffmpeg".length)}`);
    if (ffmpegPath.includes("/")) {
      try {
        statSync(p);
        return p;
      } catch {
        /* not there */
      }
    }
  }
  return "ffprobe";
}

/**
 * Probes a media file: duration, start, streams. "missing" when it cannot be opened or has
 * no video; null when ffprobe itself could not be started (EMFILE, EAGAIN, ENOENT): that
 * says nothing about the file, so it is not remembered and is probed again next round.
 */
export function probeMedia(ffprobe: string, path: string, timeoutMs = 15_000): Promise<MediaInfo | "missing" | null> {
  return new Promise((resolve) => {
    execFile(
      ffprobe,
      ["-v", "error", "-show_entries", "format=duration,start_time:stream=codec_type", "-of", "json", path],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) return resolve(/^E[A-Z0-9]+$/.test(String((err as NodeJS.ErrnoException).code)) ? null : "missing");
        try {
          const j = JSON.parse(String(stdout)) as { format?: { duration?: string; start_time?: string }; streams?: { codec_type?: string }[] };
          const types = new Set((j.streams ?? []).map((s) => s.codec_type));
          if (!types.has("video")) return resolve("missing");
          const d = Number(j.format?.duration);
          const st = Number(j.format?.start_time);
          resolve({ durationS: Number.isFinite(d) && d > 0 ? d : null, startS: Number.isFinite(st) ? st : 0, video: true, audio: types.has("audio") });
        } catch {
          resolve("missing");
        }
      },
    );
  });
}

// ── the channel's playlist source ─────────────────────────────────────────────

export interface PlaylistCounters {
  /** Runs planned (FFmpeg spawns). */
  runs: number;
  /** Items planned without their media (missing or unreadable). */
  mediaMissing: number;
  /** Restarts asked for because the schedule changed or the plan ran out. */
  replans: number;
  /** Files set aside because a run failed on them (FFmpeg named them in its errors). */
  mediaFailed: number;
}

export interface PlaylistSourceOptions {
  profile: ChannelProfile;
  /** The schedule's items overlapping [from, to). */
  items: (fromMs: number, toMs: number) => ScheduleItem[];
  /** Where the run's filter graph is written. */
  dir: string;
  ffmpegPath: string;
  logger: Logger;
  now: () => number;
  /** Plan limits (tests shorten them). */
  plan?: Partial<Pick<PlanOptions, "horizonMs" | "tailMs" | "maxSources" | "maxKeyframes" | "maxKeyframeChars">>;
  /**
   * A replacement run is started its start-up estimate plus this long before the entry it
   * changes (default 1500 ms: the second between two looks at the schedule, and 500 ms).
   */
  leadMs?: number;
  /** First guess of a run's start-up time, ms (default 500; then measured). */
  startupMs?: number;
  /** How a media file is probed (default ffprobe next to the FFmpeg binary). */
  probe?: (path: string) => Promise<MediaInfo | "missing" | null>;
  /** A file a run failed on is tried again after this long even if unchanged, ms (default 10 min). */
  failedRetryMs?: number;
}

/**
 * A playlist channel's source of FFmpeg commands: `command()` plans a run from now (called
 * by the supervisor before every spawn), `prepare()` probes the media of the coming items
 * (ahead, so planning never waits on a probe), and `restartDueAt()` says when the running
 * plan must be replaced (the schedule changed, or it runs out).
 */
export class PlaylistSource {
  private readonly probes = new Map<string, { key: string; info: MediaInfo | "missing" }>();
  private readonly ffprobe: string;
  private readonly log: Logger;
  private readonly warned = new Set<string>();
  /** Files a run failed on: filler until their size or mtime changes, or `failedRetryMs` passed. */
  private readonly failed = new Map<string, { key: string; atMs: number }>();
  private current: PlaylistPlan | undefined;
  private restartAsked = false;
  /** The difference behind the last `schedule_changed` (for the log). */
  private lastChange: Record<string, unknown> | undefined;
  /** Spawn to first TS byte of a run, ms: a run is planned from now + this (measured, smoothed). */
  private startupMs: number;
  private spawnedAt: number | null = null;
  /** A probe round started by `watch` for a coming change is running. */
  private probingAhead = false;
  /** Wall ms before which `watch` starts no other such round (a file ffprobe cannot read). */
  private probeAheadAfter = 0;
  private checkTimer: NodeJS.Timeout | undefined;
  private prepareTimer: NodeJS.Timeout | undefined;
  readonly counters: PlaylistCounters = { runs: 0, mediaMissing: 0, replans: 0, mediaFailed: 0 };

  constructor(private readonly o: PlaylistSourceOptions) {
    if (o.profile.input.kind !== "playlist") throw new OnairError("ONAIR_PLAYLIST_INPUT", "not a playlist input", { channel: o.profile.channel.id });
    if (o.profile.encoding.mode !== "transcode") {
      throw new OnairError("ONAIR_PLAYLIST_INPUT", "a playlist must be transcoded", { channel: o.profile.channel.id, path: "encoding.mode" });
    }
    this.ffprobe = ffprobeFor(o.ffmpegPath);
    this.log = o.logger;
    this.startupMs = o.startupMs ?? 500;
  }

  /**
   * The live FFmpeg wrote bytes (call on every chunk; O(1)). The first chunk of a run gives
   * its start-up time (graph set-up, probing of the sources), by which the next run's frame
   * 0 is planned ahead, so items air at their wall times and not that much late.
   */
  noteData(): void {
    if (this.spawnedAt === null) return;
    const ms = this.o.now() - this.spawnedAt;
    this.spawnedAt = null;
    this.startupMs = Math.min(3000, Math.max(50, Math.round((this.startupMs + ms) / 2)));
  }

  /** The current start-up estimate, ms. */
  get startupEstimateMs(): number {
    return this.startupMs;
  }

  /** The plan of the running (last spawned) FFmpeg. */
  get plan(): PlaylistPlan | undefined {
    return this.current;
  }

  private get input(): Extract<ChannelProfile["input"], { kind: "playlist" }> {
    return this.o.profile.input as Extract<ChannelProfile["input"], { kind: "playlist" }>;
  }

  private horizon(): number {
    return this.o.plan?.horizonMs ?? PLAN_DEFAULTS.horizonMs;
  }

  /** Probes the media of the items in the coming horizon (cached by path, size and mtime). */
  async prepare(): Promise<void> {
    const now = this.o.now();
    const items = this.o.items(now, now + this.horizon());
    const paths = new Set<string>();
    for (const it of items) if (it.media !== undefined) paths.add(resolveMedia(it.media, this.input.mediaDir));
    const slate = this.o.profile.slate;
    for (const p of paths) {
      const key = statKey(p);
      const cached = this.probes.get(p);
      if (cached && cached.key === key) continue;
      const info = key === "absent" ? "missing" : await (this.o.probe ? this.o.probe(p) : probeMedia(this.ffprobe, p));
      if (info === null) {
        // ffprobe could not start (out of fds): the item airs as filler until the next round
        this.log.warn({ event: "playlist_probe_deferred", path: p });
        continue;
      }
      this.probes.set(p, { key, info });
    }
    if (slate.kind !== "generated" && statKey(slate.path) === "absent") {
      this.log.warn({ event: "playlist_slate_missing", code: MEDIA_MISSING, path: slate.path });
    }
  }

  private lookup = (path: string): MediaInfo | "missing" | undefined => {
    const key = statKey(path);
    const f = this.failed.get(path);
    if (f) {
      if (f.key === key && this.o.now() - f.atMs < (this.o.failedRetryMs ?? FAILED_RETRY_MS)) return "missing";
      this.failed.delete(path);
    }
    const c = this.probes.get(path);
    if (c) return c.key === key ? c.info : undefined;
    return key === "absent" ? "missing" : undefined;
  };

  /**
   * A run of the current plan failed (call with that run's error lines). A file probes fine
   * and still fails in FFmpeg (a decoder it lacks, a file rewritten in place): its `movie`
   * source fails when the graph is built, so every run that reaches it would fail, for as
   * long as it is in a run's window. A file of the plan that an error line names is set
   * aside (planned as filler, as a missing file) until it changes or `failedRetryMs` passed.
   * Returns the files set aside.
   */
  noteRunFailed(errorLines: readonly string[]): string[] {
    const plan = this.current;
    if (!plan) return [];
    const files = new Set<string>();
    for (const e of plan.entries) for (const m of [e.media, e.loopMedia]) if (m !== undefined) files.add(m);
    const out: string[] = [];
    for (const path of files) {
      // FFmpeg names the file as given (avformat_open_input) or as escaped in the graph
      const esc = graphValue(path);
      const line = errorLines.find((l) => l.includes(path) || l.includes(esc));
      if (line === undefined || this.failed.has(path)) continue;
      this.failed.set(path, { key: statKey(path), atMs: this.o.now() });
      this.counters.mediaFailed++;
      out.push(path);
      this.log.warn({ event: "playlist_media_failed", code: MEDIA_FAILED, media: path, line, retryInS: Math.round((this.o.failedRetryMs ?? FAILED_RETRY_MS) / 1000) });
    }
    return out;
  }

  /** Plans from `nowMs` without writing anything. */
  planAt(nowMs: number): PlaylistPlan {
    const p = this.o.profile;
    if (p.encoding.mode !== "transcode") throw new OnairError("ONAIR_PLAYLIST_INPUT", "a playlist must be transcoded");
    const horizon = this.horizon();
    return planPlaylist({
      items: this.o.items(nowMs, nowMs + horizon),
      nowMs,
      fps: p.encoding.video.fps,
      sampleRate: p.encoding.audio.sampleRate,
      gopSeconds: p.encoding.video.gopSeconds,
      mediaDir: this.input.mediaDir,
      fallback: this.input.fallback,
      lookup: this.lookup,
      ...this.o.plan,
    });
  }

  /** The FFmpeg command of a new run from now: plans, writes the graph, logs missing media. */
  command(): FfmpegCommand {
    const p = this.o.profile;
    if (p.encoding.mode !== "transcode") throw new OnairError("ONAIR_PLAYLIST_INPUT", "a playlist must be transcoded");
    const now = this.o.now();
    const plan = this.planAt(now + this.startupMs);
    this.spawnedAt = now;
    const v = p.encoding.video;
    const graph = playlistGraph(plan, {
      width: v.width,
      height: v.height,
      pixFmt: v.pixFmt,
      fps: parseFps(v.fps).text,
      sampleRate: p.encoding.audio.sampleRate,
      channels: p.encoding.audio.channels,
      slate: p.slate,
    });
    mkdirSync(this.o.dir, { recursive: true });
    const script = join(this.o.dir, `playlist-${p.channel.id}.filtergraph`);
    const tmp = `${script}.tmp`;
    writeFileSync(tmp, graph);
    renameSync(tmp, script);
    this.current = plan;
    this.restartAsked = false;
    this.counters.runs++;
    for (const m of plan.missing) {
      this.counters.mediaMissing++;
      const k = `${m.itemId ?? m.title}\u0000${m.media ?? ""}`;
      if (this.warned.has(k)) continue;
      this.warned.add(k);
      this.log.warn({ event: "playlist_media_missing", code: MEDIA_MISSING, itemId: m.itemId, title: m.title, media: m.media ?? null });
    }
    this.log.info({
      event: "playlist_planned",
      t0: new Date(plan.t0Ms).toISOString(),
      end: new Date(plan.endMs).toISOString(),
      entries: plan.entries.length,
      items: plan.entries.filter((e) => e.kind === "item").length,
      keyframes: plan.keyframes.length,
      cut: plan.cut,
      first: plan.entries[0] ? { kind: plan.entries[0].kind, title: plan.entries[0].title, inpointS: plan.entries[0].inpointS } : null,
    });
    return buildFfmpegArgs(p, { ffmpegPath: this.o.ffmpegPath, playlist: { script, keyframes: keyframeArg(plan) } });
  }

  /**
   * When the running run must be replaced (wall ms), or null: ahead of the first entry that
   * a plan made now would air differently (a schedule change, media that appeared or went
   * away, the item on air cut short or lengthened), or of the run's end, by the start-up
   * estimate plus `leadMs`: a replacement spawned at the first look after its due time
   * still has its first frame (t0) before the entry.
   */
  restartDueAt(nowMs: number): { atMs: number; reason: "schedule_changed" | "plan_end" } | null {
    const cur = this.current;
    if (!cur) return null;
    const lead = this.startupMs + (this.o.leadMs ?? 1500);
    let due = cur.endMs - lead;
    let reason: "schedule_changed" | "plan_end" = "plan_end";
    // a run spawned but not yet on air was planned from its coming t0: compare from there,
    // or its first entry (starting at t0, not now) would look like a change
    const from = Math.max(nowMs, cur.t0Ms);
    const fresh = this.planAt(from);
    // both plans round each boundary to their own lattice's nearest frame: ≤ 1 frame apart
    const halfFrameMs = (1000 * cur.fpsDen) / cur.fpsNum + 1;
    const what = (e: PlanEntry): string => (e.kind === "item" ? `item|${e.media ?? ""}` : `filler|${e.loopMedia ?? ""}`);
    // the first boundary of `a` (after now, before `limitMs`) where `b` does not start
    // the same thing; plain filler over filler is the same whatever its boundaries
    const firstChange = (a: PlanEntry[], b: PlanEntry[], limitMs: number, side: string): number | undefined => {
      for (const e of a) {
        // entries already started are not compared; one due within `lead` is (replaced at once)
        if (e.wallStartMs <= from) continue;
        if (e.wallStartMs >= limitMs) break;
        // `e` is in `b` when an entry within a frame of it starts the same thing. Not the first
        // entry within a frame: a plan made a frame or less before `e` starts begins at that
        // moment with what airs then, and that entry is no counterpart of `e`.
        const near = b.filter((x) => Math.abs(x.wallStartMs - e.wallStartMs) <= halfFrameMs);
        const same = near.some((x) => what(x) === what(e));
        const fillerBoth = e.kind === "filler" && !e.loopMedia && b.some((x) => x.kind === "filler" && !x.loopMedia && x.wallStartMs <= e.wallStartMs + halfFrameMs && x.wallEndMs > e.wallStartMs);
        if (!same && !fillerBoth) {
          const f = near[0];
          // what differs, for the log line of the replacement
          this.lastChange = { side, entry: `${what(e)}@${Math.round(e.wallStartMs)}`, other: f ? `${what(f)}@${Math.round(f.wallStartMs)}` : null, from: Math.round(from), t0: Math.round(cur.t0Ms) };
          return e.wallStartMs;
        }
      }
      return undefined;
    };
    // both ways: an entry of the running plan that is gone or changed, and a new boundary
    // (the item on air cut short, an item inserted) that the running plan does not have
    const limit = Math.min(cur.endMs, fresh.endMs);
    const changes = [firstChange(cur.entries, fresh.entries, limit, "running"), firstChange(fresh.entries, cur.entries, limit, "fresh")].filter((t): t is number => t !== undefined);
    if (changes.length > 0 && Math.min(...changes) - lead < due) {
      due = Math.min(...changes) - lead;
      reason = "schedule_changed";
    }
    return { atMs: Math.max(nowMs, due), reason };
  }

  /**
   * Watches the schedule for the running plan: every second, when `restartDueAt` has come,
   * calls `restart` once (the channel ends the running FFmpeg; the supervisor's next spawn
   * calls `command()`, which plans from then); every 30 s probes the coming items' media.
   * New media of a coming change are probed as soon as the change is seen, so that the
   * replacement is not held up by ffprobe when it is due.
   */
  watch(restart: (reason: string) => void, checkMs = 1000, prepareMs = 30_000): void {
    this.unwatch();
    this.checkTimer = setInterval(() => this.check(restart), checkMs);
    this.checkTimer.unref();
    this.prepareTimer = setInterval(() => {
      this.prepare().catch((err: unknown) => this.log.error({ event: "playlist_probe_error", err }));
    }, prepareMs);
    this.prepareTimer.unref();
  }

  /** One look of `watch`: a replacement that has come is asked for once. */
  private check(restart: (reason: string) => void): void {
    if (this.restartAsked || !this.current) return;
    const now = this.o.now();
    let due: ReturnType<PlaylistSource["restartDueAt"]>;
    let unprobed: boolean;
    try {
      due = this.restartDueAt(now);
      // new media in the schedule is probed first, so the new run plays it (not filler)
      unprobed = due?.reason === "schedule_changed" && this.planAt(now).entries.some((e) => e.kind === "filler" && e.reason === "unprobed");
    } catch (err) {
      this.log.error({ event: "store_error", err });
      return;
    }
    if (due === null) return;
    if (due.atMs > now) {
      if (unprobed) this.probeAhead(now);
      return;
    }
    this.restartAsked = true;
    this.counters.replans++;
    const planEnd = new Date(this.current.endMs).toISOString();
    const reason = due.reason;
    const go = (): void => {
      this.log.info({ event: "playlist_replan", reason, planEnd, probedFirst: unprobed, ...(reason === "schedule_changed" ? { change: this.lastChange } : {}) });
      restart(reason);
    };
    if (!unprobed) return go();
    this.prepare()
      .catch((err: unknown) => this.log.error({ event: "playlist_probe_error", err }))
      .finally(go);
  }

  /** Probes the coming items' media now: one round at a time, at most one each 5 s. */
  private probeAhead(now: number): void {
    if (this.probingAhead || now < this.probeAheadAfter) return;
    this.probingAhead = true;
    this.probeAheadAfter = now + 5000;
    this.prepare()
      .catch((err: unknown) => this.log.error({ event: "playlist_probe_error", err }))
      .finally(() => (this.probingAhead = false));
  }

  unwatch(): void {
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.prepareTimer) clearInterval(this.prepareTimer);
    this.checkTimer = undefined;
    this.prepareTimer = undefined;
  }
}

function statKey(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return "url";
  try {
    const s = statSync(path);
    if (!s.isFile()) return "absent";
    return createHash("sha1").update(`${s.size}:${s.mtimeMs}`).digest("hex").slice(0, 12);
  } catch {
    return "absent";
  }
}
