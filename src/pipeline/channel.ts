import { EventEmitter } from "node:events";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ChannelProfile } from "../config/profile-schema.js";
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { isOnairError } from "../core/errors.js";
import { Injector, type InjectorCounters, type InjectorEvent } from "../inject/injector.js";
import { siOptionsFromProfile } from "../inject/offline.js";
import { TICKS, defaultCuePlanConfig, type PlannedCue } from "../inject/planner.js";
import { SiSlotFiller, type SiFillerStats } from "../inject/si-filler.js";
import { siEventsFromItems } from "../schedule/si-events.js";
import { recordItemAired } from "../store/asrun-export.js";
import type { Store } from "../store/db.js";
import type { StoreWriteQueue } from "../store/write-queue.js";
import { ChannelCues } from "./channel-cues.js";
import type { SpawnFn } from "./child.js";
import { buildFfmpegArgs, checkFfmpeg, resolveFfmpegBinary } from "./ffmpeg-args.js";
import { PlaylistSource, type PlaylistCounters } from "./playlist.js";
import { createOutput, OutputFanout, type Output, type OutputContext, type OutputStats } from "./outputs/index.js";
import { InputProxy, needsInputProxy } from "./input-proxy.js";
import { ensureSlateClip, slateLoopCommand } from "./slate.js";
import { FfmpegSupervisor, type CommandSpec, type ExitedEvent, type StartedEvent, type SupervisorStatus } from "./supervisor.js";
import { Switcher, type SwitcherSource } from "./switcher.js";
import { TsMonitor, type Tr101290Counters } from "../monitor/index.js";

/** `failed`: start() failed (nothing runs); the daemon tries again after a backoff. */
export type ChannelState = "starting" | "on_air" | "slate" | "failed" | "stopped";

export interface ChannelEvents {
  state: [ChannelState];
  /** FFmpeg of the live input ended; the supervisor restarts it */
  crashed: [ExitedEvent];
  /** live output is back after a failure and has stayed up for restart.stableAfterSeconds */
  recovered: [{ outageMs: number; restarts: number }];
  slate: [{ on: boolean; gapMs: number; reason: string }];
  /** the live FFmpeg was spawned (first start or a restart) */
  started: [StartedEvent];
  cue: [{ kind: string; spliceEventId: number; splicePts: number; leadSeconds: number }];
  /** the input is gone: FFmpeg could not reach it, or a network input went silent (once per outage) */
  input_lost: [{ reason: "input_unreachable" | "silent"; detail?: string | undefined }];
  /** live data on air again after `input_lost` */
  input_restored: [{ downMs: number }];
  /** the stall watchdog ended the live FFmpeg */
  stall: [{ silentMs: number; neverProduced: boolean }];
  /** an output started failing (once per failure episode; it retries on its own) */
  output_error: [{ output: string; error: string }];
  /** the EPG has no programme now nor in the schedule window (on the change to empty) */
  epg_empty: [{ days: number }];
  /**
   * a break that will not air: a scheduled one whose splice_event_id could not be stored
   * (`breakId`), an accepted cue whose time passed while the channel was not running, a
   * break whose out cue could not be sent before its splice point, or one with no IDR in reach
   */
  cue_failed: [{ spliceEventId?: number | undefined; breakId?: string | undefined; atMs?: number; reason: string }];
  /** a break with a set time moved more than one GOP later (less than 4 s of lead was left) */
  cue_late: [{ spliceEventId?: number | undefined; breakId?: string | undefined; lateMs: number }];
}

/** Inputs a network delivers: a stall of their FFmpeg means the input went silent. */
const NETWORK_INPUTS: ReadonlySet<string> = new Set(["udp", "srt", "rtmp", "http", "hls"]);

/**
 * Inputs that a second FFmpeg can open while the first still reads them (files and pulled
 * URLs). A listener (UDP port, SRT/RTMP listen) or a caller a server takes once cannot.
 */
const OVERLAP_INPUTS: ReadonlySet<string> = new Set(["file", "playlist", "test", "http", "hls"]);

/** How long the slate of a run ended on purpose may last before it counts as an outage. */
const QUIET_REPLACE_MS = 10_000;

export interface ChannelOptions {
  profile: ChannelProfile;
  store: Store;
  logger: Logger;
  /** the slate clip cache lives in dataDir/slate */
  dataDir: string;
  ffmpegPath?: string;
  clock?: Clock;
  /** live silent this long → slate (default 300 ms) */
  liveTimeoutMs?: number;
  /** how far ahead scheduled breaks are handed to the injector (default 10 min) */
  breakHorizonMs?: number;
  /** how often the schedule's breaks are looked up (default 30 s) */
  breakRefreshMs?: number;
  /**
   * As-run and cue rows go through this queue (the daemon's: a failed write is kept and
   * retried, playout goes on). Without it they are written directly and a failure is
   * logged and reported to `onStoreError`.
   */
  writes?: StoreWriteQueue;
  /** a store read or (without `writes`) write failed */
  onStoreError?: (err: unknown, what: string) => void;
  /** how its child processes are started (default Node's spawn; tests inject failures) */
  spawn?: SpawnFn;
}

export interface ChannelStatus {
  id: string;
  name: string;
  state: ChannelState;
  source: SwitcherSource;
  live: SupervisorStatus;
  slate: SupervisorStatus | undefined;
  injector: InjectorCounters;
  si: SiFillerStats | undefined;
  outputs: OutputStats[];
  bytesOut: number;
  /** wall ms of the last packet put out, or null */
  lastOutputAt: number | null;
  switches: number;
  inputDamage: { resyncs: number; bytesSkipped: number };
  /** TR 101 290 counters measured on the channel's own output */
  monitor: Tr101290Counters;
  /** playlist inputs: runs planned, items without media, replans */
  playlist?: PlaylistCounters;
}

/**
 * One channel on air: the live FFmpeg (supervised) and a hot-standby slate FFmpeg feed the
 * switcher; its packets go through the injector (SCTE-35 from the schedule's breaks, SI from
 * the schedule) to every output. Nothing here stops the output: a dead input or a crashed
 * FFmpeg means slate until the live TS is back.
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
  private slateTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly switcher: Switcher;
  readonly injector: Injector;
  /** the API's cues: stored, armed within an hour, re-armed after a restart */
  readonly cues: ChannelCues;
  private readonly si: SiSlotFiller | undefined;
  private readonly fanout = new OutputFanout();
  private readonly monitor = new TsMonitor();
  private readonly scheduledBreaks = new Set<string>();
  /** `spliceEventId:kind` of the cues whose rows this run wrote (see isResend) */
  private readonly cueRows = new Set<string>();
  private ticker: NodeJS.Timeout | undefined;
  private breakTimer: NodeJS.Timeout | undefined;
  private _state: ChannelState = "stopped";
  private bytesOut = 0;
  private lastOutputAt: number | null = null;
  private failedAt: number | null = null;
  private recoverTimer: NodeJS.Timeout | undefined;
  private readonly ffmpegPath: string;
  /** playlist inputs: plans each FFmpeg run from the schedule (playlist.ts) */
  private readonly playlist: PlaylistSource | undefined;
  /** wall ms of the first packet put out by this run */
  private outputSince: number | null = null;
  /** the schedule item last written to the as-run log (start:event_id) */
  private airedKey: string | undefined;
  /** wall ms of the next look at the present item */
  private itemCheckAt = 0;
  /**
   * A run ended on purpose (playlist replan, API restart): until this wall ms a switch to
   * the slate is expected and not reported (no slate alert, no outage); if the new run is
   * not back by then, or crashes, the slate is reported after all.
   */
  private quietUntil = 0;
  private quietSlateOn = false;

  constructor(private readonly opts: ChannelOptions) {
    super();
    const p = opts.profile;
    this.id = p.channel.id;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ channel: this.id });
    this.ffmpegPath = opts.ffmpegPath ?? resolveFfmpegBinary();
    const store = opts.store;
    if (p.epg.enabled) {
      this.si = new SiSlotFiller({
        ...siOptionsFromProfile(p),
        channel: this.id,
        events: (from, to) => siEventsFromItems(store.eventsForSi(this.id, from, to), { defaultLanguage: p.epg.language, ratingCountry: p.epg.country }),
        onEvent: (e) => {
          if (e.event === "epg_empty") {
            this.log.warn(e);
            this.emit("epg_empty", { days: Number(e.days) });
          } else this.log.info(e);
        },
      });
    }
    this.injector = new Injector({
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
      onCueSent: (c, _pcr, _idx, lead) => this.onCueSent(c, lead ?? 0),
    });
    this.cues = new ChannelCues({
      channel: this.id,
      store,
      clock: this.clock,
      target: this.injector,
      log: this.log,
      prerollMs: p.scte35.prerollSeconds * 1000,
      write: (what, run) => this.writeStore(what, run),
      onMissed: (c, reason) => this.emit("cue_failed", { spliceEventId: c.spliceEventId, atMs: c.atMs, reason }),
    });
    this.switcher = new Switcher({
      liveTimeoutMs: opts.liveTimeoutMs,
      overlapping: () => this.live.overlapping,
      now: () => this.clock.monotonic(),
      onPackets: (b, s, c, owned) => this.injector.process(b, s, c, this.emitOut, owned),
      onSwitch: (to, info) => this.onSwitch(to, info),
    });
    const r = p.restart;
    if (p.input.kind === "playlist") {
      this.playlist = new PlaylistSource({
        profile: p,
        items: (from, to) => store.listItems(this.id, from, to),
        dir: join(opts.dataDir, "playlist"),
        ffmpegPath: this.ffmpegPath,
        logger: this.log,
        now: () => this.clock.now(),
      });
    }
    const playlist = this.playlist;
    const input = p.input;
    if ((input.kind === "http" || input.kind === "hls") && needsInputProxy(input.url)) {
      this.inputProxy = new InputProxy(input.url, this.log);
    }
    const live = (): CommandSpec => buildFfmpegArgs(p, { ffmpegPath: this.ffmpegPath, inputUrl: this.inputProxy?.url });
    this.live = new FfmpegSupervisor(() => (playlist ? playlist.command() : live()), {
      channel: this.id,
      backoffMinMs: r.backoffMinSeconds * 1000,
      backoffMaxMs: r.backoffMaxSeconds * 1000,
      stableAfterMs: r.stableAfterSeconds * 1000,
      maxRetries: r.maxRetries,
      stallTimeoutMs: r.stallTimeoutSeconds * 1000,
      logger: opts.logger,
      spawn: opts.spawn,
    });
    this.live.on("data", (chunk) => this.switcher.pushLive(chunk));
    this.live.on("first_data", () => this.playlist?.noteData());
    this.live.on("handover", (e) => {
      // an overlapped replacement: the new FFmpeg took over without a gap
      this.switcher.newLiveSegment();
      this.log.info({ event: "ffmpeg_handover", reason: e.reason, detail: e.detail, runMs: Math.round(e.runMs), overlapMs: Math.round(e.overlapMs) });
    });
    this.live.on("started", (e) => this.emit("started", e));
    this.live.on("replaced", (e) => {
      if (e.handedOver) return; // its successor already airs (see "handover")
      this.quietUntil = this.clock.now() + QUIET_REPLACE_MS;
      this.switcher.resetLive("live replaced");
      this.log.info({ event: "ffmpeg_replaced", reason: e.reason, detail: e.detail, runMs: e.runMs });
    });
    // a playlist run that failed on a file (FFmpeg named it): the next run plans it as filler
    this.live.on("replace_failed", (e) => this.playlist?.noteRunFailed(e.errorLines));
    this.live.on("exited", (e) => {
      this.playlist?.noteRunFailed(e.errorLines);
      this.reportQuietSlate("live_exited");
      this.switcher.resetLive("live exited");
      if (this.recoverTimer !== undefined) {
        clearTimeout(this.recoverTimer);
        this.recoverTimer = undefined;
      }
      this.failedAt ??= this.clock.now();
      this.log.warn({ event: "ffmpeg_exited", reason: e.reason, code: e.code, signal: e.signal, restartNumber: e.restartNumber, nextRetryInMs: e.nextRetryInMs, stderrTail: e.stderrTail.slice(-5) });
      this.emit("crashed", e);
      if (e.reason === "input_unreachable") this.inputLost("input_unreachable", e.fatalLine);
    });
    this.live.on("stalled", (e) => {
      this.emit("stall", { silentMs: e.silentMs, neverProduced: e.neverProduced });
      if (NETWORK_INPUTS.has(p.input.kind)) this.inputLost("silent");
    });
    for (const o of p.outputs) {
      const out = this.makeOutput(o);
      if (!out) continue;
      out.on("failed", ({ error }) => this.emit("output_error", { output: out.name, error: (error as NodeJS.ErrnoException).code ?? error.message }));
      this.fanout.add(out);
    }
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

  private makeOutput(o: ChannelProfile["outputs"][number]): Output | undefined {
    // the daemon's logger carries the SecretSet every loaded profile registers in
    const secrets = (this.opts.logger as { secrets?: OutputContext["secrets"] }).secrets;
    return createOutput(o, { logger: this.log, ffmpegPath: this.ffmpegPath, secrets, spawn: this.opts.spawn });
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
      clearTimeout(this.slateTimer);
      await this.slate?.stop();
      this.slate = undefined;
      this.setState("failed");
      throw err;
    }
    // file sources: the next run starts beside the running one and takes over gaplessly
    this.playlist?.watch((why) => this.live.replace("planned", why, { overlap: true }));
    this.live.start();
    this.ticker = setInterval(() => {
      this.switcher.tick();
      if (this.quietSlateOn && this.clock.now() >= this.quietUntil) this.reportQuietSlate("replaced_run_not_back");
      this.checkItemAired();
    }, 100);
    this.ticker.unref();
    this.refreshBreaks();
    this.breakTimer = setInterval(() => this.refreshBreaks(), this.opts.breakRefreshMs ?? 30_000);
    this.breakTimer.unref();
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
      this.slateTimer = setTimeout(() => {
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
    if (this.slateTimer) clearTimeout(this.slateTimer);
    if (this.ticker) clearInterval(this.ticker);
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    if (this.breakTimer) clearInterval(this.breakTimer);
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
      bytesOut: this.bytesOut,
      lastOutputAt: this.lastOutputAt,
      switches: this.switcher.switches,
      inputDamage: { resyncs: this.switcher.liveStats.resyncs, bytesSkipped: this.switcher.liveStats.bytesSkipped },
      ...(this.playlist ? { playlist: { ...this.playlist.counters } } : {}),
      monitor: this.monitor.snapshot(),
    };
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

  private output(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    this.outputSince ??= this.clock.now();
    this.monitor.pushRun(chunk, 0, chunk.length / 188);
    this.lastOutputAt = this.clock.now();
    this.fanout.write(chunk);
  }

  /** When the input was lost (wall ms), until live is on air again. */
  private inputLostAt: number | null = null;

  private inputLost(reason: "input_unreachable" | "silent", detail?: string): void {
    if (this.inputLostAt !== null) return;
    this.inputLostAt = this.clock.now();
    this.log.warn({ event: "input_lost", reason, ...(detail ? { detail } : {}) });
    this.emit("input_lost", { reason, detail });
  }

  private onSwitch(to: SwitcherSource, info: { gapMs: number; reason: string }): void {
    const quiet = to === "slate" ? this.clock.now() < this.quietUntil : this.quietSlateOn;
    this.log.info({ event: to === "slate" ? "slate_on" : "slate_off", gapMs: Math.round(info.gapMs), reason: info.reason, ...(quiet ? { planned: true } : {}) });
    if (quiet) {
      // the planned gap of a replaced run: not an outage
      this.quietSlateOn = to === "slate";
      if (to === "live") this.quietUntil = 0;
      return;
    }
    this.emit("slate", { on: to === "slate", gapMs: info.gapMs, reason: info.reason });
    // a network input whose FFmpeg goes quiet: the input went silent (an exit says why itself)
    if (to === "slate" && info.reason === "live silent" && NETWORK_INPUTS.has(this.opts.profile.input.kind)) this.inputLost("silent");
    if (to === "live" && this.inputLostAt !== null) {
      this.emit("input_restored", { downMs: this.clock.now() - this.inputLostAt });
      this.inputLostAt = null;
    }
    if (to === "live") {
      // "recovered" once the live run has been stable for the profile's stableAfterSeconds:
      // a channel that comes back for a moment and crashes again is flapping, not recovered
      if (this.failedAt !== null && this.recoverTimer === undefined) {
        const failedAt = this.failedAt;
        const backAt = this.clock.now();
        this.recoverTimer = setTimeout(() => {
          this.recoverTimer = undefined;
          this.failedAt = null;
          this.emit("recovered", { outageMs: backAt - failedAt, restarts: this.live.status().restarts });
        }, this.opts.profile.restart.stableAfterSeconds * 1000);
        this.recoverTimer.unref();
      }
      this.setState("on_air");
    } else {
      this.failedAt ??= this.clock.now();
      this.setState(this._state === "starting" ? "starting" : "slate");
    }
  }

  /** The slate of a replaced run turned into an outage: reported as any other. */
  private reportQuietSlate(reason: string): void {
    this.quietUntil = 0;
    if (!this.quietSlateOn) return;
    this.quietSlateOn = false;
    this.log.warn({ event: "slate_on", reason, message: "the replaced FFmpeg run is not back" });
    this.emit("slate", { on: true, gapMs: 0, reason });
    this.failedAt ??= this.clock.now();
    this.setState("slate");
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

  /** `leadSeconds`: the injector's figure (across the PTS wrap), 0 for an immediate splice. */
  private onCueSent(c: PlannedCue, leadSeconds: number): void {
    if (c.kind === "heartbeat") return;
    this.log.info({ event: "cue_sent", kind: c.kind, spliceEventId: c.spliceEventId, splicePts: c.splicePts, leadSeconds, send: c.sendsDone });
    if (c.sendsDone !== 1 || this.isResend(c)) return;
    this.emit("cue", { kind: c.kind, spliceEventId: c.spliceEventId, splicePts: c.splicePts, leadSeconds });
    const scheduledMs = this.cueWallMs(c);
    const actualMs = this.clock.now();
    const section = Buffer.from(c.section).toString("base64");
    // one transaction: a retried write never leaves a cue without its as-run row or twice
    this.writeStore("cue", (st) =>
      st.transaction("cue as-run", () => {
        st.recordCue({ channel: this.id, spliceEventId: c.spliceEventId, kind: c.kind, scheduledMs, pts: c.splicePts, section });
        if (c.kind === "out") this.cues.markAired(st, c.spliceEventId, actualMs);
        st.insertAsRun({ channel: this.id, kind: "cue", scheduledMs, actualMs, pts: c.splicePts, eventId: c.spliceEventId, details: { kind: c.kind, command: c.spec.command, leadSeconds } });
      }),
    );
  }

  /**
   * A cue planned again under its id after a time-base change (an FFmpeg restart, the
   * slate) is sent again, but it is the same break: its cue and as-run rows are written once.
   */
  private isResend(c: PlannedCue): boolean {
    const key = `${c.spliceEventId}:${c.kind}`;
    if (this.cueRows.has(key)) return true;
    this.cueRows.add(key);
    if (this.cueRows.size > 256) this.cueRows.delete(this.cueRows.values().next().value!);
    return false;
  }

  /**
   * The planned wall time of a cue's splice point: for an "out" the break's due time (the
   * schedule's break start, or the time an API cue asked for: its `at`, or the time of the
   * request for "now"), otherwise the splice point the cue announces (the return).
   * Undefined before the stream clock is anchored.
   */
  private cueWallMs(c: PlannedCue): number | undefined {
    const asked = c.kind === "out" ? this.cues.requestedMs(c.spliceEventId) : undefined;
    if (asked !== undefined) return asked;
    const clk = this.injector.clock;
    if (!clk.ready || c.splicePts < 0) return undefined;
    const plan = c.kind === "out" ? this.injector.planner.planned.find((b) => b.spliceEventId === c.spliceEventId) : undefined;
    return Math.round(clk.wallAt(plan?.requestedPts ?? c.splicePts));
  }

  /**
   * Writes the schedule item on air to the as-run log when it changes: looked up at the
   * item boundaries the schedule gives (and at least every 30 s, for re-imports), once the
   * output runs. The item already running when the output started is written with
   * `joined_late: true` (scheduled = its real start, actual = when we joined).
   */
  private checkItemAired(): void {
    const now = this.clock.now();
    if (this.outputSince === null || now < this.itemCheckAt) return;
    let pf: ReturnType<Store["presentFollowing"]>;
    try {
      pf = this.opts.store.presentFollowing(this.id, now);
    } catch (err) {
      this.storeError(err, "present item lookup");
      this.itemCheckAt = now + 5000;
      return;
    }
    const boundary = pf.present ? pf.present.startMs + pf.present.durationMs : pf.following?.startMs;
    this.itemCheckAt = Math.min(boundary ?? Number.POSITIVE_INFINITY, now + 30_000);
    const item = pf.present;
    if (!item) return;
    const key = `${item.startMs}:${item.eventId}`;
    if (key === this.airedKey) return;
    const joinedLate = this.airedKey === undefined && item.startMs < this.outputSince;
    this.airedKey = key;
    const pts = this.injector.clock.ready ? this.injector.clock.ptsForWall(now) : undefined;
    const extra: Record<string, unknown> = { source: this.switcher.source };
    if (joinedLate) extra.joined_late = true;
    this.log.info({ event: "item_aired", eventId: item.eventId, startMs: item.startMs, title: item.title, lateMs: now - item.startMs, joinedLate });
    this.writeStore("as-run item", (st) => recordItemAired(st, this.id, item, now, pts, extra));
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
    const now = this.clock.now();
    const horizon = now + (this.opts.breakHorizonMs ?? 600_000);
    const st = this.opts.store;
    let list: Array<{ startMs: number; durationMs: number; breakId?: string | undefined }>;
    try {
      list = [...st.listBreaks(this.id, now, horizon)];
      for (const item of st.listItems(this.id, now - 86_400_000, horizon)) {
        for (const b of item.breaks) list.push({ startMs: item.startMs + b.offsetMs, durationMs: b.durationMs, breakId: b.breakId });
      }
    } catch (err) {
      this.storeError(err, "break lookup");
      return;
    }
    for (const b of list) {
      if (b.startMs <= now || b.startMs > horizon) continue;
      const key = `${b.startMs}:${b.breakId ?? ""}`;
      if (this.scheduledBreaks.has(key)) continue;
      this.scheduledBreaks.add(key);
      this.injector.addBreakAtWall(b.startMs, Math.round((b.durationMs / 1000) * TICKS), b.breakId);
      this.log.info({ event: "break_scheduled", startMs: b.startMs, durationMs: b.durationMs, breakId: b.breakId });
    }
  }
}

const optNumber = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const optString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
