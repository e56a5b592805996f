/**
 * Planning a playlist run, as pure functions of the schedule's items, the media lookups and
 * the time: entries on the run's frame lattice (items, filler for gaps, missing media and
 * underruns, a tail after the last item), the forced key frames, and where a plan made now
 * differs from the running one. See playlist.ts for why runs are planned this way.
 */
import { isAbsolute, resolve as resolvePath } from "node:path";
import type { ScheduleItem } from "../schedule/model.js";
import { keyframeGrid, parseFps } from "./ffmpeg-args.js";

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

/** The run's frame lattice: frame k airs at t0 + k/fps; audio samples follow the frame boundaries. */
class Lattice {
  readonly fpsNum: number;
  readonly fpsDen: number;

  constructor(
    readonly t0: number,
    fps: number | string,
    readonly sampleRate: number,
  ) {
    const [num, den = 1] = parseFps(fps).text.split("/").map(Number);
    this.fpsNum = num;
    this.fpsDen = den;
  }
  /** The frame nearest a wall time (not before frame 0). */
  frameAt(wallMs: number): number {
    return Math.max(0, Math.round(((wallMs - this.t0) * this.fpsNum) / (this.fpsDen * 1000)));
  }
  wallOf(f: number): number {
    return this.t0 + (f * this.fpsDen * 1000) / this.fpsNum;
  }
  sampleOf(f: number): number {
    return Math.round((f * this.fpsDen * this.sampleRate) / this.fpsNum);
  }
  seconds(f: number): string {
    return frameSeconds(f, this.fpsNum, this.fpsDen);
  }
  /** Whole frames of `s` seconds. */
  framesOf(s: number): number {
    return (s * this.fpsNum) / this.fpsDen;
  }
}

type NewEntry = Omit<PlanEntry, "startSample" | "samples" | "wallStartMs" | "wallEndMs">;
type Item = PlanOptions["items"][number];
/** How placing an item ended: go on, or stop the plan (why). */
type Step = "next" | "full" | "sources" | "horizon";

/** One plan being built: its entries and key frames, within the caps. */
class PlanBuilder {
  readonly entries: PlanEntry[] = [];
  readonly keyframes: number[] = [];
  readonly missing: PlaylistPlan["missing"] = [];
  private kfChars = 0;
  private sources = 0;
  private lastMedia: { path: string; info: MediaInfo } | undefined;
  /** the frame the next entry starts at */
  cursor = 0;

  constructor(
    private readonly o: PlanOptions,
    private readonly lat: Lattice,
    private readonly grid: number,
    private readonly endLimit: number,
  ) {}

  /** Adds an entry if its key frames fit (shortening it to fit when `shorten`); false = full. */
  add(e: NewEntry, shorten: boolean): boolean {
    const maxKf = this.o.maxKeyframes ?? PLAN_DEFAULTS.maxKeyframes;
    const maxKfChars = this.o.maxKeyframeChars ?? PLAN_DEFAULTS.maxKeyframeChars;
    const charsOf = (fs: number[]): number => fs.reduce((a, f) => a + this.lat.seconds(f).length + 1, 0);
    let n = e.frames;
    // key frames of the entry [s, s+n): its start and the GOP grid from there
    let kfs: number[] = [];
    for (let f = e.startFrame; f < e.startFrame + n; f += this.grid) kfs.push(f);
    let chars = charsOf(kfs);
    if (this.keyframes.length + kfs.length > maxKf || this.kfChars + chars > maxKfChars) {
      if (!shorten) return false;
      let fit = Math.max(0, Math.min(maxKf - this.keyframes.length, kfs.length));
      while (fit > 0 && this.kfChars + charsOf(kfs.slice(0, fit)) > maxKfChars) fit--;
      if (fit === 0) return false;
      n = Math.min(n, fit * this.grid);
      kfs = kfs.slice(0, fit);
      chars = charsOf(kfs);
    }
    if (n <= 0) return true;
    const s0 = this.lat.sampleOf(e.startFrame);
    const wallStartMs = this.lat.wallOf(e.startFrame);
    const wallEndMs = this.lat.wallOf(e.startFrame + n);
    this.entries.push({ ...e, frames: n, startSample: s0, samples: this.lat.sampleOf(e.startFrame + n) - s0, wallStartMs, wallEndMs });
    this.keyframes.push(...kfs);
    this.kfChars += chars;
    return true;
  }

  /** Filler over [s, e) (the looped last file with `fallback: "loop"`, but never for missing media). */
  filler(s: number, e: number, reason: FillerReason): boolean {
    if (e <= s) return true;
    const f: NewEntry = { kind: "filler", startFrame: s, frames: e - s, reason };
    if (this.o.fallback === "loop" && this.lastMedia && reason !== "missing") {
      f.loopMedia = this.lastMedia.path;
      f.loopInfo = this.lastMedia.info;
    }
    return this.add(f, true);
  }

  /** The frame after the last entry. */
  private advance(): number {
    const l = this.entries[this.entries.length - 1];
    this.cursor = l ? l.startFrame + l.frames : this.cursor;
    return this.cursor;
  }

  /** Places one item: the gap before it, then the item (or filler for it), then filler for an underrun. */
  placeItem(it: Item): Step {
    const lat = this.lat;
    const s = Math.max(this.cursor, lat.frameAt(it.startMs));
    const e = lat.frameAt(it.startMs + it.durationMs);
    if (e <= s) return "next";
    if (s >= this.endLimit) return "horizon";
    this.filler(this.cursor, s, "gap");
    if (this.advance() < s) return "full";
    const path = it.media !== undefined ? resolveMedia(it.media, this.o.mediaDir) : undefined;
    const info = path !== undefined ? this.o.lookup(path) : "missing";
    if (info === "missing" || info === undefined) {
      if (info === "missing") this.missing.push({ itemId: it.id, title: it.title, media: path });
      this.filler(s, e, info === "missing" ? "missing" : "unprobed");
      return this.advance() < e ? "full" : "next";
    }
    if (this.sources >= (this.o.maxSources ?? PLAN_DEFAULTS.maxSources)) return "sources";
    const inpointS = Math.max(0, (lat.wallOf(s) - it.startMs) / 1000);
    let n = e - s;
    if (info.durationS !== null) {
      const avail = Math.floor(lat.framesOf(info.durationS - inpointS) + 1e-6);
      // a file within 100 ms of its slot fills it (tpad clones its last frame): container
      // durations are often a frame short, and a one-frame filler would be a flash of slate
      const slack = Math.ceil(lat.framesOf(0.1));
      if (avail < n - slack) n = Math.max(0, avail);
    }
    if (n > 0) {
      const inpoint = inpointS < 0.0005 ? 0 : inpointS;
      const entry: NewEntry = {
        kind: "item",
        startFrame: s,
        frames: n,
        itemId: it.id,
        title: it.title,
        media: path,
        inpointS: inpoint,
        info,
      };
      // the first entry of a run always goes in (shortened to the key-frame cap if it must)
      if (!this.add(entry, this.entries.length === 0)) return "full";
      this.sources++;
      this.lastMedia = { path: path!, info };
      if (this.advance() < s + n) return "full";
    }
    this.filler(this.cursor, e, "underrun");
    if (this.advance() < e) return "full";
    return this.cursor >= this.endLimit ? "horizon" : "next";
  }
}

/** Plans one run from `nowMs`: entries on the frame lattice, filler, and forced key frames. */
export function planPlaylist(o: PlanOptions): PlaylistPlan {
  const t0 = o.nowMs;
  const lat = new Lattice(t0, o.fps, o.sampleRate);
  const endLimit = lat.frameAt(t0 + (o.horizonMs ?? PLAN_DEFAULTS.horizonMs));
  const b = new PlanBuilder(o, lat, keyframeGrid(o.gopSeconds, o.fps).frames, endLimit);
  let cut: PlaylistPlan["cut"] = "schedule_end";
  for (const it of [...o.items].sort((x, y) => x.startMs - y.startMs)) {
    const step = b.placeItem(it);
    if (step === "next") continue;
    cut = step === "full" ? "keyframes" : step;
    break;
  }
  if (cut === "schedule_end") {
    // after the last item: filler for tailMs (or to the horizon), so a run never ends at once
    const tailMs = o.tailMs ?? PLAN_DEFAULTS.tailMs;
    b.filler(b.cursor, Math.min(endLimit, Math.max(b.cursor + 1, lat.frameAt(Math.max(t0, lat.wallOf(b.cursor)) + tailMs))), "tail");
  }
  const last = b.entries[b.entries.length - 1];
  const frames = last ? last.startFrame + last.frames : 0;
  const uniq = [...new Set(b.keyframes)].sort((x, y) => x - y);
  return {
    t0Ms: t0,
    fpsNum: lat.fpsNum,
    fpsDen: lat.fpsDen,
    sampleRate: o.sampleRate,
    entries: b.entries,
    keyframes: uniq.map((f) => Number(lat.seconds(f))),
    frames,
    endMs: lat.wallOf(frames),
    missing: b.missing,
    cut,
  };
}

/** The -force_key_frames argument of a plan. */
export function keyframeArg(plan: PlaylistPlan): string {
  return plan.keyframes.map((t) => frameSeconds(Math.round((t * plan.fpsNum) / plan.fpsDen), plan.fpsNum, plan.fpsDen)).join(",");
}

/** Where two plans first differ (see `firstPlanChange`). */
export interface PlanChange {
  /** wall ms of the entry of `a` that `b` does not air alike */
  atMs: number;
  /** that entry and the entry of `b` nearest it, as `item|media@ms` / `filler|media@ms` (for the log) */
  entry: string;
  other: string | null;
}

/** What an entry airs: the item's media, or filler (with the file it loops). */
const whatOf = (e: PlanEntry): string => (e.kind === "item" ? `item|${e.media ?? ""}` : `filler|${e.loopMedia ?? ""}`);

/**
 * The first entry of `a` starting in (fromMs, limitMs) that `b` does not start alike: `e` is in
 * `b` when an entry of `b` within `toleranceMs` of it airs the same thing (both plans round each
 * boundary to their own lattice's nearest frame: they are at most a frame apart). Not the first
 * entry within a frame: a plan made a frame or less before `e` starts begins at that moment with
 * what airs then, and that entry is no counterpart of `e`. Plain filler over plain filler is the
 * same whatever its boundaries.
 */
export function firstPlanChange(
  a: readonly PlanEntry[],
  b: readonly PlanEntry[],
  fromMs: number,
  limitMs: number,
  toleranceMs: number,
): PlanChange | undefined {
  for (const e of a) {
    // entries already started are not compared
    if (e.wallStartMs <= fromMs) continue;
    if (e.wallStartMs >= limitMs) break;
    const near = b.filter((x) => Math.abs(x.wallStartMs - e.wallStartMs) <= toleranceMs);
    if (near.some((x) => whatOf(x) === whatOf(e))) continue;
    const plain = (x: PlanEntry): boolean => x.kind === "filler" && !x.loopMedia;
    if (plain(e) && b.some((x) => plain(x) && x.wallStartMs <= e.wallStartMs + toleranceMs && x.wallEndMs > e.wallStartMs)) continue;
    const f = near[0];
    return {
      atMs: e.wallStartMs,
      entry: `${whatOf(e)}@${Math.round(e.wallStartMs)}`,
      other: f ? `${whatOf(f)}@${Math.round(f.wallStartMs)}` : null,
    };
  }
  return undefined;
}
