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
 *
 * Its parts: planning as pure functions (playlist-plan.ts), the filter graph
 * (playlist-graph.ts), probing (playlist-probe.ts); this file is the channel's runtime
 * source of commands, which re-plans when the schedule changes.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ChannelProfile } from "../config/profile-schema.js";
import { OnairError } from "../core/errors.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { ScheduleItem } from "../schedule/model.js";
import { buildFfmpegArgs, parseFps, type FfmpegCommand } from "./ffmpeg-args.js";
import { graphValue, playlistGraph } from "./playlist-graph.js";
import {
  firstPlanChange,
  keyframeArg,
  PLAN_DEFAULTS,
  planPlaylist,
  resolveMedia,
  type MediaInfo,
  type PlanOptions,
  type PlaylistPlan,
} from "./playlist-plan.js";
import { ffprobeFor, probeMedia, statKey } from "./playlist-probe.js";

export { graphValue, playlistGraph, type GraphFormat } from "./playlist-graph.js";
export {
  firstPlanChange,
  keyframeArg,
  PLAN_DEFAULTS,
  planPlaylist,
  resolveMedia,
  type FillerReason,
  type MediaInfo,
  type MediaLookup,
  type PlanChange,
  type PlanEntry,
  type PlanOptions,
  type PlaylistPlan,
} from "./playlist-plan.js";
export { ffprobeFor, probeMedia } from "./playlist-probe.js";

/** Log code of an item whose media is missing or unreadable (it airs as filler). */
export const MEDIA_MISSING = "ONAIR_PLAYLIST_MEDIA_MISSING";
/** Log code of a file that probed fine but made an FFmpeg run fail (it airs as filler until it changes). */
export const MEDIA_FAILED = "ONAIR_PLAYLIST_MEDIA_FAILED";

/**
 * A file a run failed on is tried again after this long, unchanged (a URL never changes; a
 * network share may have been down). The retry is a planned replacement: when it fails the
 * running FFmpeg goes on airing and the file is set aside again, so viewers see nothing.
 */
export const FAILED_RETRY_MS = 600_000;

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
  /** For `watch` (default `backgroundTimers`: they do not hold the process open). */
  timers?: Timers;
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
  private readonly timers: Timers;
  private checkTimer: unknown;
  private prepareTimer: unknown;
  readonly counters: PlaylistCounters = { runs: 0, mediaMissing: 0, replans: 0, mediaFailed: 0 };

  constructor(private readonly o: PlaylistSourceOptions) {
    if (o.profile.input.kind !== "playlist")
      throw new OnairError("ONAIR_PLAYLIST_INPUT", "not a playlist input", { channel: o.profile.channel.id });
    if (o.profile.encoding.mode !== "transcode") {
      throw new OnairError("ONAIR_PLAYLIST_INPUT", "a playlist must be transcoded", {
        channel: o.profile.channel.id,
        path: "encoding.mode",
      });
    }
    this.ffprobe = ffprobeFor(o.ffmpegPath);
    this.log = o.logger;
    this.timers = o.timers ?? backgroundTimers;
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
      const retryInS = Math.round((this.o.failedRetryMs ?? FAILED_RETRY_MS) / 1000);
      this.log.warn({ event: "playlist_media_failed", code: MEDIA_FAILED, media: path, line, retryInS });
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
    // both ways: an entry of the running plan that is gone or changed, and a new boundary
    // (the item on air cut short, an item inserted) that the running plan does not have
    const limit = Math.min(cur.endMs, fresh.endMs);
    const running = firstPlanChange(cur.entries, fresh.entries, from, limit, halfFrameMs);
    const added = firstPlanChange(fresh.entries, cur.entries, from, limit, halfFrameMs);
    const shown = added ?? running;
    if (shown) {
      // what differs, for the log line of the replacement
      const side = added ? "fresh" : "running";
      this.lastChange = { side, entry: shown.entry, other: shown.other, from: Math.round(from), t0: Math.round(cur.t0Ms) };
    }
    const changes = [running, added].filter((c) => c !== undefined).map((c) => c.atMs);
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
    this.checkTimer = this.timers.setInterval(() => this.check(restart), checkMs);
    this.prepareTimer = this.timers.setInterval(() => {
      this.prepare().catch((err: unknown) => this.log.error({ event: "playlist_probe_error", err }));
    }, prepareMs);
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
      const change = reason === "schedule_changed" ? { change: this.lastChange } : {};
      this.log.info({ event: "playlist_replan", reason, planEnd, probedFirst: unprobed, ...change });
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
    this.timers.clearInterval(this.checkTimer);
    this.timers.clearInterval(this.prepareTimer);
    this.checkTimer = undefined;
    this.prepareTimer = undefined;
  }
}
