/**
 * Confidence thumbnails of the channels' output, made only while a console is connected
 * (docs/api.md: `GET /api/v1/channels/:id/thumbnail.jpg`, the stream's `thumbnail` event).
 *
 * `ThumbnailPool` keeps one long-lived FFmpeg per attached channel while there is demand
 * (`setDemand(true)`: a console's event stream is open), fed the channel's output TS through
 * its stdin from the channel's output tap (`Channel.onOutput`), and reading a stream of
 * JPEGs from its stdout (thumbnail-jpeg.ts). Without demand no FFmpeg runs and no tap is set.
 *
 * Cost (the issue: at most 1 % of a core per channel; one FFmpeg started per thumbnail costs
 * 2–2.4 %): the FFmpeg is fed one short window per thumbnail, starting on a key frame
 * (thumbnail-gate.ts), decodes that key frame and the few reference frames after it, keeps
 * the key frame, scales it to `width` and writes it as a JPEG: 0.3–0.4 % of a core at 720p25
 * (bench/thumbnails.ts), against 3.3–4.2 % for an FFmpeg per thumbnail on the same machine.
 * `feed: "all"` feeds the whole stream instead (`-skip_frame nokey`, one picture every
 * `everyMs` picked by a select filter on time): simpler, 0.7–1.0 %, and with B-frames its
 * pictures come out two key frames late (the decoder's reordering delay, thumbnail-gate.ts).
 *
 * Rules:
 * - Feeding never slows playout: the tap only writes to the pipe; when the pipe is full
 *   (write returns false) chunks are dropped, and counted, until 'drain'.
 * - An FFmpeg that exits or cannot start is started again with a capped backoff (1 s → 30 s)
 *   while there is demand; one whose windows give no picture three times in a row is
 *   restarted likewise. Every child goes through the one lifecycle (pipeline/child.ts):
 *   SIGTERM and EOF on stdin, SIGKILL after a grace; under `setpriv --pdeathsig KILL` where
 *   there is one, so the daemon's death takes it along; niceness 10.
 * - The latest thumbnail of a channel stays available (`latest`) after demand ends, and
 *   when none came for a while (the view shows its time); it goes with `detach`.
 * - Log lines: JSON with `channel` and `event` (`thumbnail_started`, `thumbnail_exited`,
 *   `thumbnail_stalled`, `thumbnail_stopped`, `thumbnail_kill`, `thumbnail_error`).
 */
import { setPriority } from "node:os";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { realTimers, type Timers } from "../core/timers.js";
import { defaultSpawn, runChild, spawnErrno, type ChildExit, type ChildRun, type SpawnFn } from "../pipeline/child.js";
import { detectSetpriv, resolveFfmpegBinary } from "../pipeline/ffmpeg-args.js";
import { StderrReader } from "../pipeline/stderr.js";
import { KeyframeGate } from "./thumbnail-gate.js";
import { JpegSplitter } from "./thumbnail-jpeg.js";

export const DEFAULT_EVERY_MS = 5000;
export const DEFAULT_WIDTH = 320;
/** SIGTERM → SIGKILL grace for a thumbnail FFmpeg. */
const STOP_GRACE_MS = 2000;
/** Empty windows in a row after which the FFmpeg is restarted. */
const STALL_WINDOWS = 3;
/** feed "all": no picture for this many periods while fed → restarted. */
const STALL_PERIODS = 6;
/** The thumbnail FFmpeg's niceness: below playout's. */
const NICENESS = 10;

/** What the pool needs of a channel: its id and its output tap (Channel fits). */
export interface ThumbnailChannel {
  readonly id: string;
  /** Calls `fn` with every output chunk (whole TS packets) until the returned function is called. */
  onOutput(fn: (chunk: Buffer) => void): () => void;
}

export interface Thumbnail {
  jpeg: Buffer;
  /** 1, 2, … per channel id, kept across detach/attach */
  seq: number;
  /** wall-clock ms when it came out of FFmpeg */
  atMs: number;
}

export interface ThumbnailEvent {
  channel: string;
  seq: number;
  atMs: number;
}

/** `keyframes`: one window per thumbnail (thumbnail-gate.ts); `all`: the whole stream. */
export type ThumbnailFeed = "keyframes" | "all";

export interface ThumbnailPoolOptions {
  logger: Logger;
  /** The FFmpeg binary (default resolveFfmpegBinary()). */
  ffmpegPath?: string;
  /** One thumbnail every this many ms (default 5000). */
  everyMs?: number;
  /** Thumbnail width in pixels, the height following the picture's aspect (default 320). */
  width?: number;
  spawn?: SpawnFn;
  timers?: Timers;
  /** Wall and monotonic time (default the system clock). */
  clock?: Clock;
  /** Default `keyframes`. */
  feed?: ThumbnailFeed;
  /** Run under `setpriv --pdeathsig KILL` (default: when there is one). */
  setpriv?: boolean;
}

/** Counters of one channel's thumbnailer (metrics, benches). */
export interface ThumbnailStatus {
  /** the FFmpeg's pid while one runs */
  pid: number | undefined;
  spawns: number;
  /** thumbnails made */
  thumbnails: number;
  /** bytes written to FFmpeg */
  fedBytes: number;
  /** chunks (and their bytes) dropped on a full pipe */
  droppedChunks: number;
  droppedBytes: number;
  /** windows opened / empty (feed "keyframes") */
  windows: number;
  emptyWindows: number;
}

/** FFmpeg's arguments for a thumbnail stream (after the binary). */
export function thumbnailArgs(o: { everyMs: number; width: number; feed: ThumbnailFeed }): string[] {
  const keyframes = o.feed === "keyframes";
  // keyframes: the gate picks the moments, FFmpeg keeps the key frame of each window;
  // all: FFmpeg picks one key frame per period (abs: a stream restarting at an earlier PTS goes on)
  const select = keyframes ? "eq(pict_type,I)" : `isnan(prev_selected_t)+gte(abs(t-prev_selected_t),${o.everyMs / 1000})`;
  return [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+error"],
    // one decoding thread (no frame-thread delay, no pool); the stream is known: probe little
    ...["-threads", "1", "-probesize", "32768", "-analyzeduration", "0", "-fflags", "+discardcorrupt+nobuffer"],
    ...["-skip_frame", keyframes ? "noref" : "nokey", "-skip_loop_filter", "all"],
    ...["-f", "mpegts", "-i", "pipe:0", "-map", "0:v:0", "-an", "-sn", "-dn"],
    ...["-vf", `select='${select}',scale=${o.width}:'trunc(ow/dar/2)*2',setsar=1`, "-fps_mode", "passthrough"],
    ...["-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "pipe:1"],
  ];
}

interface Settings {
  ffmpeg: string;
  everyMs: number;
  width: number;
  feed: ThumbnailFeed;
  setpriv: string | null;
  spawn: SpawnFn;
  timers: Timers;
  clock: Clock;
}

/** One channel's thumbnail FFmpeg: started, fed, restarted, stopped. */
class ChannelThumbnailer {
  private wanted = false;
  private run: ChildRun | undefined;
  private untap: (() => void) | undefined;
  private retryTimer: unknown;
  private blocked = false;
  private gate: KeyframeGate | undefined;
  private readonly splitter = new JpegSplitter();
  private readonly stderr = new StderrReader({ capacity: 10 });
  private readonly backoff: Backoff;
  private startedAt = 0;
  /** feed "all": when a picture (or the run) came last */
  private lastPictureAt = 0;
  /** the run being ended on purpose (stop, stall), and why */
  private ending: { run: ChildRun; why: "stop" | "stall"; done: Promise<void> } | undefined;
  private spawns = 0;
  /** windows and empty ones of the runs before this one (each run has its own gate) */
  private pastWindows = 0;
  private pastEmpty = 0;
  private thumbnails = 0;
  private fedBytes = 0;
  private droppedChunks = 0;
  private droppedBytes = 0;

  constructor(
    readonly channel: ThumbnailChannel,
    private readonly s: Settings,
    private readonly log: Logger,
    private readonly onPicture: (jpeg: Buffer) => void,
  ) {
    this.backoff = new Backoff({ minMs: 1000, maxMs: 30_000, stableAfterMs: 60_000, clock: s.clock });
  }

  /** Starts the FFmpeg (and the tap) unless it runs. */
  start(): void {
    this.wanted = true;
    this.untap ??= this.channel.onOutput(this.onChunk);
    if (!this.run && this.retryTimer === undefined) this.spawn();
  }

  /** Stops the FFmpeg and the tap; resolves once the FFmpeg is gone. */
  stop(): Promise<void> {
    this.wanted = false;
    this.untap?.();
    this.untap = undefined;
    if (this.retryTimer !== undefined) this.s.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    return this.run ? this.end(this.run, "stop") : Promise.resolve();
  }

  status(): ThumbnailStatus {
    const g = this.gate?.stats;
    return {
      pid: this.run?.pid,
      spawns: this.spawns,
      thumbnails: this.thumbnails,
      fedBytes: this.fedBytes,
      droppedChunks: this.droppedChunks,
      droppedBytes: this.droppedBytes,
      windows: this.pastWindows + (g?.windows ?? 0),
      emptyWindows: this.pastEmpty + (g?.empty ?? 0),
    };
  }

  private spawn(): void {
    this.retryTimer = undefined;
    const s = this.s;
    const args = thumbnailArgs(s);
    const [command, argv] = s.setpriv ? [s.setpriv, ["--pdeathsig", "KILL", "--", s.ffmpeg, ...args]] : [s.ffmpeg, args];
    const run = runChild(
      s.spawn,
      command,
      argv,
      { stdio: ["pipe", "pipe", "pipe"], windowsHide: true },
      {
        timers: s.timers,
        onExit: (exit) => this.exited(run, exit),
        onError: (err) => this.log.warn({ event: "thumbnail_error", err }),
      },
    );
    this.run = run;
    this.spawns++;
    this.blocked = false;
    this.pastWindows += this.gate?.stats.windows ?? 0;
    this.pastEmpty += this.gate?.stats.empty ?? 0;
    this.gate = s.feed === "keyframes" ? new KeyframeGate(s.everyMs) : undefined;
    this.splitter.reset();
    this.stderr.newAttempt();
    this.startedAt = this.lastPictureAt = s.clock.monotonic();
    const child = run.child;
    child.stdin?.on("error", () => undefined); // EPIPE once it is gone: its exit is what counts
    child.stdout?.on("data", (c: Buffer) => this.onStdout(run, c));
    child.stderr?.on("data", (c: Buffer) => void this.stderr.push(c));
    if (child.pid === undefined) return; // did not start: its one 'error' ends the run (child.ts)
    this.backoff.started();
    try {
      setPriority(child.pid, NICENESS);
    } catch {
      /* not allowed or gone: it runs at the daemon's priority */
    }
    this.log.info({ event: "thumbnail_started", pid: child.pid, feed: s.feed, everyMs: s.everyMs });
  }

  /** The channel's tap: every output chunk, whether a child runs or not. */
  private readonly onChunk = (chunk: Buffer): void => {
    const run = this.run;
    const stdin = run?.child.stdin;
    if (!run || run.done || this.ending || !stdin?.writable) return;
    let part = chunk;
    const gate = this.gate;
    if (gate) {
      if (!gate.admit(chunk, this.s.clock.monotonic())) {
        if (gate.stats.emptyStreak >= STALL_WINDOWS) this.stalled(run);
        return;
      }
      if (gate.from !== 0 || gate.to !== chunk.length) part = chunk.subarray(gate.from, gate.to);
    } else if (this.s.clock.monotonic() - this.lastPictureAt > STALL_PERIODS * this.s.everyMs) return this.stalled(run);
    if (this.blocked) {
      this.droppedChunks++;
      this.droppedBytes += part.length;
      return;
    }
    this.fedBytes += part.length;
    if (!stdin.write(part)) {
      this.blocked = true;
      stdin.once("drain", () => (this.blocked = false));
    }
  };

  /** Fed and no picture for long: ended, then started again after a backoff (exited). */
  private stalled(run: ChildRun): void {
    const emptyWindows = this.gate?.stats.emptyStreak;
    this.log.warn({ event: "thumbnail_stalled", pid: run.pid, emptyWindows, stderrTail: this.stderr.ring.lines(5) });
    void this.end(run, "stall");
  }

  private onStdout(run: ChildRun, chunk: Buffer): void {
    if (run !== this.run) return;
    for (const jpeg of this.splitter.push(chunk)) {
      if (this.gate && !this.gate.picture()) continue;
      this.lastPictureAt = this.s.clock.monotonic();
      this.thumbnails++;
      this.onPicture(jpeg);
    }
  }

  /** EOF and SIGTERM, SIGKILL after the grace (once per run); resolves when the child is gone. */
  private end(run: ChildRun, why: "stop" | "stall"): Promise<void> {
    if (this.ending?.run === run) {
      if (why === "stop") this.ending.why = "stop";
      return this.ending.done;
    }
    run.child.stdin?.end();
    run.terminate(STOP_GRACE_MS, () => this.log.warn({ event: "thumbnail_kill", pid: run.pid, afterMs: STOP_GRACE_MS }));
    const done = run.closed.then(() => undefined);
    this.ending = { run, why, done };
    return done;
  }

  private exited(run: ChildRun, exit: ChildExit): void {
    const ended = this.ending?.run === run ? this.ending.why : undefined;
    if (this.ending?.run === run) this.ending = undefined;
    if (this.run === run) this.run = undefined;
    this.stderr.end();
    const runMs = Math.round(this.s.clock.monotonic() - this.startedAt);
    const { code, signal, spawnError } = exit;
    if (!this.wanted || ended === "stop") {
      this.log.info({ event: "thumbnail_stopped", code, signal, runMs });
      // demand came back while it was stopping: a new one at once
      if (this.wanted) this.spawn();
      return;
    }
    const nextRetryInMs = Math.round(this.backoff.next());
    const why = spawnError ? { spawnError: spawnErrno(spawnError) ?? spawnError.message } : {};
    const stderrTail = this.stderr.ring.lines(5);
    this.log.warn({ event: "thumbnail_exited", code, signal, runMs, ...why, nextRetryInMs, stderrTail });
    this.retryTimer = this.s.timers.setTimeout(() => this.spawn(), nextRetryInMs);
  }
}

/**
 * The thumbnailers of the daemon's channels (see the module comment). Emits `thumbnail`
 * with `{channel, seq, atMs}` for each new one.
 */
export class ThumbnailPool extends EventEmitter<{ thumbnail: [ThumbnailEvent] }> {
  private readonly s: Settings;
  private readonly log: Logger;
  private readonly thumbnailers = new Map<string, ChannelThumbnailer>();
  private readonly pictures = new Map<string, Thumbnail>();
  /** the last seq per channel id, kept across detach/attach so a seq never repeats */
  private readonly seqs = new Map<string, number>();
  /** stops still under way (detach, demand off), awaited by close() */
  private readonly stops = new Set<Promise<void>>();
  private demand = false;
  private closed = false;

  constructor(o: ThumbnailPoolOptions) {
    super();
    const setpriv = o.setpriv === false ? null : detectSetpriv();
    this.s = {
      ffmpeg: o.ffmpegPath ?? resolveFfmpegBinary(),
      everyMs: o.everyMs ?? DEFAULT_EVERY_MS,
      width: o.width ?? DEFAULT_WIDTH,
      feed: o.feed ?? "keyframes",
      setpriv,
      spawn: o.spawn ?? defaultSpawn,
      timers: o.timers ?? realTimers,
      clock: o.clock ?? systemClock,
    };
    this.log = o.logger;
  }

  /** Makes thumbnails of `channel` (at once while there is demand); a channel of the same id is replaced. */
  attach(channel: ThumbnailChannel): void {
    if (this.closed) return;
    if (this.thumbnailers.has(channel.id)) this.detach(channel.id);
    const t = new ChannelThumbnailer(channel, this.s, this.log.child({ channel: channel.id }), (jpeg) => this.picture(channel.id, jpeg));
    this.thumbnailers.set(channel.id, t);
    if (this.demand) t.start();
  }

  /** Stops the channel's thumbnails and forgets its latest one. */
  detach(id: string): void {
    const t = this.thumbnailers.get(id);
    if (!t) return;
    this.thumbnailers.delete(id);
    this.pictures.delete(id);
    this.track(t.stop());
  }

  /** On: an FFmpeg per attached channel; off: they stop (the latest thumbnails stay). */
  setDemand(on: boolean): void {
    if (this.closed || on === this.demand) return;
    this.demand = on;
    for (const t of this.thumbnailers.values()) {
      if (on) t.start();
      else this.track(t.stop());
    }
  }

  /** The channel's latest thumbnail, however old (its `atMs` says). */
  latest(id: string): Thumbnail | undefined {
    return this.pictures.get(id);
  }

  /** Counters of the channel's thumbnailer, or undefined when it is not attached. */
  status(id: string): ThumbnailStatus | undefined {
    return this.thumbnailers.get(id)?.status();
  }

  /** Stops every FFmpeg; resolves once all are gone. Nothing starts after it. */
  async close(): Promise<void> {
    this.closed = true;
    this.demand = false;
    for (const t of this.thumbnailers.values()) this.track(t.stop());
    this.thumbnailers.clear();
    while (this.stops.size > 0) await Promise.all([...this.stops]);
  }

  private track(p: Promise<void>): void {
    this.stops.add(p);
    void p.finally(() => this.stops.delete(p));
  }

  private picture(id: string, jpeg: Buffer): void {
    const seq = (this.seqs.get(id) ?? 0) + 1;
    this.seqs.set(id, seq);
    const atMs = this.s.clock.now();
    this.pictures.set(id, { jpeg, seq, atMs });
    try {
      this.emit("thumbnail", { channel: id, seq, atMs });
    } catch (err) {
      // a listener's bug must not become an uncaught exception in FFmpeg's stdout handler
      this.log.error({ event: "thumbnail_error", channel: id, err });
    }
  }
}
