import { EventEmitter } from "node:events";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ChannelProfile } from "../config/profile-schema.js";
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { backgroundTimers, realTimers } from "../core/timers.js";
import { isOnairError } from "../core/errors.js";
import { Injector, type InjectorEvent } from "../inject/injector.js";
import { siOptionsFromProfile } from "../inject/offline.js";
import { TICKS, defaultCuePlanConfig } from "../inject/planner.js";
import { SiSlotFiller } from "../inject/si-filler.js";
import { siEventsFromItems } from "../schedule/si-events.js";
import type { Store } from "../store/db.js";
import { AsRunRecorder } from "./channel-asrun.js";
import { ScheduleBreaks } from "./channel-breaks.js";
import { ChannelCues } from "./channel-cues.js";
import { OutageTracker } from "./channel-outage.js";
import type { ChannelEvents, ChannelOptions, ChannelState, ChannelStatus } from "./channel-types.js";
import { buildFfmpegArgs, checkFfmpeg, resolveFfmpegBinary } from "./ffmpeg-args.js";
import { PlaylistSource } from "./playlist.js";
import { createOutput, HlsOutput, OutputFanout, type Output, type OutputContext } from "./outputs/index.js";
import { InputProxy, needsInputProxy } from "./input-proxy.js";
import { ensureSlateClip, slateLoopCommand } from "./slate.js";
import { FfmpegSupervisor, type CommandSpec, type ExitedEvent } from "./supervisor.js";
import { Switcher } from "./switcher.js";
import { TsMonitor } from "../monitor/index.js";

export type { ChannelEvents, ChannelOptions, ChannelState, ChannelStatus } from "./channel-types.js";

/** Inputs a network delivers: a stall of their FFmpeg means the input went silent. */
const NETWORK_INPUTS: ReadonlySet<string> = new Set(["udp", "srt", "rtmp", "http", "hls"]);

/**
 * Inputs that a second FFmpeg can open while the first still reads them (files and pulled
 * URLs). A listener (UDP port, SRT/RTMP listen) or a caller a server takes once cannot.
 */
const OVERLAP_INPUTS: ReadonlySet<string> = new Set(["file", "playlist", "test", "http", "hls"]);

/**
 * One channel on air: the live FFmpeg (supervised) and a hot-standby slate FFmpeg feed the
 * switcher; its packets go through the injector (SCTE-35 from the schedule's breaks, SI from
 * the schedule) to every output. Nothing here stops the output: a dead input or a crashed
 * FFmpeg means slate until the live TS is back. Its outages (channel-outage.ts) and its
 * as-run log (channel-asrun.ts) are kept by parts of their own.
 */
export class Channel extends EventEmitter<ChannelEvents> {
  readonly id: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly live: FfmpegSupervisor;
  /** Holds an http/hls input URL's credentials so FFmpeg's argv does not (input-proxy.ts). */
  private readonly inputProxy: InputProxy | undefined;
  private slate: FfmpegSupervisor | undefined;
  /** retries of a slate clip whose encoder could not start */
  private readonly slateBackoff = new Backoff({ minMs: 1000, maxMs: 30_000 });
  private slateTimer: unknown;
  private stopping = false;
  private readonly switcher: Switcher;
  readonly injector: Injector;
  /** the API's cues: stored, armed within an hour, re-armed after a restart */
  readonly cues: ChannelCues;
  /** the schedule's breaks of the next minutes */
  private readonly breaks: ScheduleBreaks;
  private readonly asRun: AsRunRecorder;
  private readonly outage: OutageTracker;
  private readonly si: SiSlotFiller | undefined;
  private readonly fanout = new OutputFanout();
  private readonly monitor = new TsMonitor();
  private ticker: unknown;
  private breakTimer: unknown;
  private _state: ChannelState = "stopped";
  private bytesOut = 0;
  private lastOutputAt: number | null = null;
  private readonly ffmpegPath: string;
  /** playlist inputs: plans each FFmpeg run from the schedule (playlist.ts) */
  private readonly playlist: PlaylistSource | undefined;

  constructor(private readonly opts: ChannelOptions) {
    super();
    const p = opts.profile;
    this.id = p.channel.id;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ channel: this.id });
    this.ffmpegPath = opts.ffmpegPath ?? resolveFfmpegBinary();
    this.si = p.epg.enabled ? this.makeSi(p) : undefined;
    this.injector = this.makeInjector(p);
    this.cues = new ChannelCues({
      channel: this.id,
      store: opts.store,
      clock: this.clock,
      target: this.injector,
      log: this.log,
      prerollMs: p.scte35.prerollSeconds * 1000,
      write: (what, run) => this.writeStore(what, run),
      onMissed: (c, reason) => this.emit("cue_failed", { spliceEventId: c.spliceEventId, atMs: c.atMs, reason }),
    });
    this.breaks = new ScheduleBreaks({
      channel: this.id,
      store: opts.store,
      clock: this.clock,
      target: this.injector,
      log: this.log,
      horizonMs: opts.breakHorizonMs,
      storeError: (err, what) => this.storeError(err, what),
    });
    this.asRun = new AsRunRecorder({
      channel: this.id,
      store: opts.store,
      clock: this.clock,
      log: this.log,
      injector: this.injector,
      cues: this.cues,
      write: (what, run) => this.writeStore(what, run),
      storeError: (err, what) => this.storeError(err, what),
      source: () => this.switcher.source,
      onCue: (e) => this.emit("cue", e),
    });
    this.outage = this.makeOutageTracker(p);
    this.switcher = new Switcher({
      liveTimeoutMs: opts.liveTimeoutMs,
      overlapping: () => this.live.overlapping,
      now: () => this.clock.monotonic(),
      onPackets: (b, s, c, owned) => this.injector.process(b, s, c, this.emitOut, owned),
      onSwitch: (to, info) => {
        this.fanout.discontinuity(); // the next packets come from another source (hls cuts there)
        this.outage.switched(to, info);
      },
    });
    if (p.input.kind === "playlist") this.playlist = this.makePlaylist(p);
    const input = p.input;
    if ((input.kind === "http" || input.kind === "hls") && needsInputProxy(input.url)) {
      this.inputProxy = new InputProxy(input.url, this.log);
    }
    this.live = this.makeLive(p);
    for (const o of p.outputs) this.addOutput(o);
  }

  get state(): ChannelState {
    return this._state;
  }

  private setState(s: ChannelState): void {
    if (s === this._state) return;
    this._state = s;
    this.log.info({ event: "channel_state", state: s });
    this.emit("state", s);
  }

  private makeSi(p: ChannelProfile): SiSlotFiller {
    const store = this.opts.store;
    const siOptions = { defaultLanguage: p.epg.language, ratingCountry: p.epg.country };
    return new SiSlotFiller({
      ...siOptionsFromProfile(p),
      channel: this.id,
      events: (from, to) => siEventsFromItems(store.eventsForSi(this.id, from, to), siOptions),
      onEvent: (e) => {
        if (e.event === "epg_empty") {
          this.log.warn(e);
          this.emit("epg_empty", { days: Number(e.days) });
        } else this.log.info(e);
      },
    });
  }

  private makeInjector(p: ChannelProfile): Injector {
    return new Injector({
      scte35Pid: p.scte35.pid,
      cue: defaultCuePlanConfig({
        prerollTicks: Math.round(p.scte35.prerollSeconds * TICKS),
        repeat: p.scte35.repeats,
        mode: p.scte35.mode,
        heartbeatTicks: Math.round(p.scte35.heartbeatSeconds * TICKS),
        segmentationTypeStart: p.scte35.segmentationTypes[0] ?? 0x34,
        segmentationTypeEnd: p.scte35.segmentationTypes[1] ?? 0x35,
      }),
      allocateEventId: () => this.allocateEventId(),
      startWall: () => this.clock.now(),
      si: this.si,
      onEvent: (e) => this.onInjectorEvent(e),
      onCueSent: (c, _pcr, _idx, lead) => this.asRun.cueSent(c, lead ?? 0),
    });
  }

  private makeOutageTracker(p: ChannelProfile): OutageTracker {
    return new OutageTracker({
      clock: this.clock,
      log: this.log,
      timers: this.opts.timers,
      stableAfterMs: p.restart.stableAfterSeconds * 1000,
      networkInput: NETWORK_INPUTS.has(p.input.kind),
      restarts: () => this.live.status().restarts,
      on: {
        slate: (e) => this.emit("slate", e),
        inputLost: (e) => this.emit("input_lost", e),
        inputRestored: (e) => this.emit("input_restored", e),
        recovered: (e) => this.emit("recovered", e),
        state: (s) => {
          if (s === "on_air") this.setState("on_air");
          else this.setState(s === "off_air" && this._state === "starting" ? "starting" : "slate");
        },
      },
    });
  }

  private makePlaylist(p: ChannelProfile): PlaylistSource {
    return new PlaylistSource({
      profile: p,
      items: (from, to) => this.opts.store.listItems(this.id, from, to),
      dir: join(this.opts.dataDir, "playlist"),
      ffmpegPath: this.ffmpegPath,
      logger: this.log,
      now: () => this.clock.now(),
      ...(this.opts.timers ? { timers: this.opts.timers } : {}),
    });
  }

  /** The live FFmpeg's supervisor, its events wired to the switcher, the outage tracker and the playlist. */
  private makeLive(p: ChannelProfile): FfmpegSupervisor {
    const r = p.restart;
    const playlist = this.playlist;
    const command = (): CommandSpec => buildFfmpegArgs(p, { ffmpegPath: this.ffmpegPath, inputUrl: this.inputProxy?.url });
    const live = new FfmpegSupervisor(() => (playlist ? playlist.command() : command()), {
      channel: this.id,
      backoffMinMs: r.backoffMinSeconds * 1000,
      backoffMaxMs: r.backoffMaxSeconds * 1000,
      stableAfterMs: r.stableAfterSeconds * 1000,
      maxRetries: r.maxRetries,
      stallTimeoutMs: r.stallTimeoutSeconds * 1000,
      logger: this.opts.logger,
      spawn: this.opts.spawn,
    });
    live.on("data", (chunk) => this.switcher.pushLive(chunk));
    live.on("first_data", () => playlist?.noteData());
    live.on("handover", (e) => {
      // an overlapped replacement: the new FFmpeg took over without a gap
      this.switcher.newLiveSegment();
      const fields = {
        event: "ffmpeg_handover",
        reason: e.reason,
        detail: e.detail,
        runMs: Math.round(e.runMs),
        overlapMs: Math.round(e.overlapMs),
      };
      this.log.info(fields);
    });
    live.on("started", (e) => this.emit("started", e));
    live.on("replaced", (e) => {
      if (e.handedOver) return; // its successor already airs (see "handover")
      this.outage.liveReplaced();
      this.switcher.resetLive("live replaced");
      this.log.info({ event: "ffmpeg_replaced", reason: e.reason, detail: e.detail, runMs: e.runMs });
    });
    // a playlist run that failed on a file (FFmpeg named it): the next run plans it as filler
    live.on("replace_failed", (e) => playlist?.noteRunFailed(e.errorLines));
    live.on("exited", (e) => this.onLiveExited(e));
    live.on("stalled", (e) => {
      this.emit("stall", { silentMs: e.silentMs, neverProduced: e.neverProduced });
      if (NETWORK_INPUTS.has(p.input.kind)) this.outage.inputLost("silent");
    });
    return live;
  }

  private onLiveExited(e: ExitedEvent): void {
    this.playlist?.noteRunFailed(e.errorLines);
    this.outage.liveExited();
    this.switcher.resetLive("live exited");
    const { reason, code, signal, restartNumber, nextRetryInMs } = e;
    this.log.warn({ event: "ffmpeg_exited", reason, code, signal, restartNumber, nextRetryInMs, stderrTail: e.stderrTail.slice(-5) });
    this.emit("crashed", e);
    if (e.reason === "input_unreachable") this.outage.inputLost("input_unreachable", e.fatalLine);
  }

  private addOutput(o: ChannelProfile["outputs"][number]): void {
    const out = this.makeOutput(o);
    if (!out) return;
    out.on("failed", ({ error }) =>
      this.emit("output_error", { output: out.name, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    );
    this.fanout.add(out);
  }

  private makeOutput(o: ChannelProfile["outputs"][number]): Output | undefined {
    // the daemon's logger carries the SecretSet every loaded profile registers in
    const secrets = (this.opts.logger as { secrets?: OutputContext["secrets"] }).secrets;
    return createOutput(o, {
      logger: this.log,
      ffmpegPath: this.ffmpegPath,
      secrets,
      spawn: this.opts.spawn,
      channel: this.id,
      dataDir: this.opts.dataDir,
      wallClock: { wallMs: (pts) => this.injector.clock.wallAt(pts) },
    });
  }

  /**
   * Starts the slate and the live FFmpeg; resolves once both are spawned. A start that throws
   * leaves it `failed`, no FFmpeg running, outputs open; it may be retried (start-retry.ts).
   */
  async start(): Promise<void> {
    this.setState("starting");
    const p = this.opts.profile;
    try {
      await checkFfmpeg(this.ffmpegPath);
      await this.fanout.open(); // opens each output once: a retried start finds them open
      if (p.encoding.mode === "transcode") await this.startSlate(p);
      else this.log.warn({ event: "no_slate", message: "passthrough channel: no slate (no encoder settings to make one)" });
      await this.playlist?.prepare();
      await this.inputProxy?.start(); // listens once: a retried start finds it listening
    } catch (err) {
      (this.opts.timers ?? realTimers).clearTimeout(this.slateTimer);
      await this.slate?.stop();
      this.slate = undefined;
      this.setState("failed");
      throw err;
    }
    // file sources: the next run starts beside the running one and takes over gaplessly
    this.playlist?.watch((why) => this.live.replace("planned", why, { overlap: true }));
    this.live.start();
    const timers = this.opts.timers ?? backgroundTimers;
    this.ticker = timers.setInterval(() => {
      this.switcher.tick();
      this.outage.tick();
      this.asRun.checkItem();
    }, 100);
    this.refreshBreaks();
    this.breakTimer = timers.setInterval(() => this.refreshBreaks(), this.opts.breakRefreshMs ?? 30_000);
  }

  /**
   * Makes the slate clip and starts its loop. An encoder that cannot start yet
   * (ONAIR_SPAWN_FAILED: out of file descriptors or processes) is tried again with backoff
   * (1 s → 30 s) while the channel airs without a slate; any other failure fails start().
   */
  private async startSlate(p: ChannelProfile): Promise<void> {
    let clip: string;
    try {
      const o = { ffmpegPath: this.ffmpegPath, log: this.log, spawn: this.opts.spawn };
      clip = await ensureSlateClip(p, join(this.opts.dataDir, "slate"), o);
    } catch (err) {
      if (!isOnairError(err) || err.code !== "ONAIR_SPAWN_FAILED" || this.stopping) throw err;
      const nextRetryInMs = Math.round(this.slateBackoff.next());
      this.log.warn({ event: "slate_deferred", err, nextRetryInMs });
      this.slateTimer = (this.opts.timers ?? realTimers).setTimeout(() => {
        this.startSlate(p).catch((e: unknown) => this.log.error({ event: "slate_failed", err: e }));
      }, nextRetryInMs);
      return;
    }
    if (this.stopping) return;
    this.slate = new FfmpegSupervisor(slateLoopCommand(p, clip, this.ffmpegPath), {
      channel: this.id,
      backoffMinMs: 100,
      backoffMaxMs: 2000,
      stallTimeoutMs: 3000,
      logger: this.opts.logger.child({ part: "slate" }),
      spawn: this.opts.spawn,
    });
    this.slate.on("data", (chunk) => this.switcher.pushSlate(chunk));
    this.slate.start();
  }

  /** Stops both FFmpeg processes and the outputs. */
  async stop(): Promise<void> {
    this.stopping = true;
    (this.opts.timers ?? realTimers).clearTimeout(this.slateTimer);
    const timers = this.opts.timers ?? backgroundTimers;
    timers.clearInterval(this.ticker);
    timers.clearInterval(this.breakTimer);
    this.outage.stop();
    this.playlist?.unwatch();
    await Promise.all([this.live.stop(), this.slate?.stop()]);
    await this.inputProxy?.close();
    this.injector.end();
    await this.fanout.close();
    this.setState("stopped");
  }

  /**
   * Replaces the live FFmpeg at once (control API): counted as a `manual` restart, not a
   * crash (no crash alert, no backoff). With an input two FFmpegs can open at once (see
   * OVERLAP_INPUTS) the new one starts beside the old one and takes over at its first
   * packet, without a gap; otherwise the old one ends first and the slate covers the gap.
   */
  restart(): boolean {
    return this.live.replace("manual", undefined, { overlap: OVERLAP_INPUTS.has(this.opts.profile.input.kind) });
  }

  /**
   * A break now (first IDR after now + preroll) or at a wall time up to 7 days ahead: stored
   * with its splice_event_id before anything else, armed when within an hour, re-armed after
   * a restart (channel-cues.ts). Returns the id; throws an OnairError to refuse.
   */
  addCue(durationSeconds: number, atMs?: number): number {
    try {
      return this.cues.add(durationSeconds, atMs);
    } catch (err) {
      if (isOnairError(err) && err.code === "ONAIR_STORE_FAILED") this.noteStoreFailure(err, "cue request");
      throw err;
    }
  }

  /**
   * Ends an API cue on air early (its in cue on the first IDR a preroll ahead); returns the
   * return's splice PTS. Throws ONAIR_CUE_UNKNOWN or ONAIR_CUE_NOT_ON_AIR (channel-cues.ts).
   */
  returnCue(spliceEventId: number): number {
    return this.storeGuard("cue return", () => this.cues.returnEarly(spliceEventId));
  }

  /** Cancels a pending API cue. Throws ONAIR_CUE_UNKNOWN or ONAIR_CUE_NOT_PENDING (channel-cues.ts). */
  cancelCue(spliceEventId: number): void {
    this.storeGuard("cue cancel", () => this.cues.cancel(spliceEventId));
  }

  /** Runs a refusable store call, making a store failure visible like a refused cue's. */
  private storeGuard<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (isOnairError(err) && err.code === "ONAIR_STORE_FAILED") this.noteStoreFailure(err, what);
      throw err;
    }
  }

  status(): ChannelStatus {
    const p = this.opts.profile;
    return {
      id: this.id,
      name: p.channel.name,
      state: this._state,
      source: this.switcher.source,
      live: this.live.status(),
      slate: this.slate?.status(),
      injector: this.injector.stats,
      si: this.si?.stats(),
      outputs: this.fanout.stats(),
      hls: this.hls?.snapshot(),
      bytesOut: this.bytesOut,
      lastOutputAt: this.lastOutputAt,
      switches: this.switcher.switches,
      inputDamage: { resyncs: this.switcher.liveStats.resyncs, bytesSkipped: this.switcher.liveStats.bytesSkipped },
      ...(this.playlist ? { playlist: { ...this.playlist.counters } } : {}),
      monitor: this.monitor.snapshot(),
    };
  }

  /** The channel's hls output, if its profile has one (served at /hls/<channel>/). */
  get hls(): HlsOutput | undefined {
    return this.fanout.outputs.find((o): o is HlsOutput => o instanceof HlsOutput);
  }

  /** For /readyz, O(outputs): packets put out in the last 2 s, and the outputs failing now. */
  readiness(): { up: boolean; failingOutputs: { name: string; error: string | null }[] } {
    const failingOutputs = this.fanout.outputs.filter((o) => o.stats.failing).map((o) => ({ name: o.name, error: o.stats.lastError }));
    return { up: this.lastOutputAt !== null && this.clock.now() - this.lastOutputAt < 2000, failingOutputs };
  }

  /** The profile the channel runs. */
  get profile(): ChannelProfile {
    return this.opts.profile;
  }

  /** The channel's cue style (splice_insert or time_signal), for metrics labels. */
  get profileMode(): "splice_insert" | "time_signal" {
    return this.opts.profile.scte35.mode;
  }

  private readonly emitOut = (chunk: Buffer): void => this.output(chunk);

  /** Listeners of every output chunk (the console's thumbnails); undefined when there are none. */
  private taps: ((chunk: Buffer) => void)[] | undefined;

  /**
   * Calls `fn` with every output chunk (whole TS packets), after the outputs, until the
   * returned function is called. Like an output, `fn` must not block nor edit the chunk, and
   * copies what it keeps beyond the call unless it is only queued for writing; what it throws
   * is ignored (playout goes on).
   */
  onOutput(fn: (chunk: Buffer) => void): () => void {
    this.taps = [...(this.taps ?? []), fn];
    return () => {
      const rest = (this.taps ?? []).filter((t) => t !== fn);
      this.taps = rest.length > 0 ? rest : undefined;
    };
  }

  private output(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    this.asRun.output();
    this.monitor.pushRun(chunk, 0, chunk.length / 188);
    this.lastOutputAt = this.clock.now();
    this.fanout.write(chunk);
    const taps = this.taps;
    if (taps !== undefined) {
      for (let i = 0; i < taps.length; i++) {
        try {
          taps[i](chunk);
        } catch {
          /* a tap's bug must not stop playout */
        }
      }
    }
  }

  private onInjectorEvent(e: InjectorEvent): void {
    if (e.event === "break_failed") {
      this.log.error(e); // no cue without a stored splice_event_id: the break does not air
      const reason = typeof e.code === "string" ? `${e.code}: ${String(e.message)}` : String(e.message);
      this.emit("cue_failed", { breakId: typeof e.breakId === "string" ? e.breakId : undefined, reason });
    } else if (e.event === "break_dropped") {
      this.log.error(e);
      this.emit("cue_failed", { spliceEventId: optNumber(e.spliceEventId), breakId: optString(e.breakId), reason: String(e.reason) });
    } else if (e.event === "break_late") {
      this.log.warn(e);
      this.emit("cue_late", { spliceEventId: optNumber(e.spliceEventId), breakId: optString(e.breakId), lateMs: Number(e.lateMs) });
    } else if (e.event === "break_moved" || e.event === "scte35_pid_conflict") this.log.warn(e);
    else if (e.event !== "cue_sent") this.log.info(e);
  }

  /**
   * A new splice_event_id, stored before it is used, else thrown (no cue without one) and
   * reported as a failed store write (counted, alerted, /readyz) like a queued row's.
   */
  private allocateEventId(): number {
    try {
      return this.opts.store.allocateSpliceEventId(this.id);
    } catch (err) {
      this.noteStoreFailure(err, "splice_event_id allocation");
      throw err;
    }
  }

  /** A store failure outside the write queue (a refused cue): counted and made visible in /readyz. */
  private noteStoreFailure(err: unknown, what: string): void {
    if (this.opts.writes) this.opts.writes.noteFailure(err, what, this.id);
    else this.storeError(err, what);
  }

  /** A store write that must not stop playout: through the daemon's retry queue when there is one. */
  private writeStore(what: string, run: (st: Store) => void): void {
    if (this.opts.writes) {
      this.opts.writes.write(what, this.id, run);
      return;
    }
    try {
      run(this.opts.store);
    } catch (err) {
      // a full disk must not stop playout: logged and reported, the channel goes on
      this.storeError(err, what);
    }
  }

  private storeError(err: unknown, what: string): void {
    this.log.error({ event: "store_error", what, err });
    this.opts.onStoreError?.(err, what);
  }

  /** Hands the schedule's breaks of the next minutes and the API's cues within reach to the injector, once each. */
  private refreshBreaks(): void {
    try {
      this.cues.refresh();
    } catch (err) {
      this.storeError(err, "cue lookup");
    }
    this.breaks.refresh();
  }
}

const optNumber = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const optString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
