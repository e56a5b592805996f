/**
 * Keeps one channel's FFmpeg alive: spawns it (argument array, no shell), hands on the
 * TS it writes to stdout, restarts it with capped backoff and jitter when it exits,
 * kills it when it stops producing (stall watchdog), and says why each attempt ended.
 *
 * Exit reasons, first that applies:
 * - `stall`: the watchdog killed it (no stdout byte for `stallTimeoutMs`, also at start)
 * - `spawn_error`: it could not be started (ENOENT, EACCES; setpriv's exec failure)
 * - `input_unreachable` / `codec_error`: a known fatal stderr line (stderr.ts)
 * - `signal`: killed by a signal it was not sent by us (kill -9, OOM killer)
 * - `exit_code`: it exited on its own (code in the event)
 *
 * Stopping: `stop()` (or the AbortSignal) sends SIGTERM, then SIGKILL after
 * `stopTimeoutMs`, and resolves once the child is gone; nothing restarts afterwards.
 * The world comes in through options (spawn, clock, timers) so unit tests drive time.
 */
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { redactString, type SecretSet } from "../config/redact.js";
import { Backoff, type JitterKind } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import { defaultSpawn, notStartedChild, spawnChild, spawnErrno, type SpawnFn } from "./child.js";
import { INSTALL_HINT } from "./ffmpeg-args.js";
import { ProgressParser, type ProgressReport } from "./progress.js";
import { StderrReader, type StderrClass } from "./stderr.js";
import { realTimers, type Timers } from "../core/timers.js";

export type ExitReason = "exit_code" | "signal" | "stall" | "input_unreachable" | "codec_error" | "spawn_error";
export const EXIT_REASONS: readonly ExitReason[] = ["exit_code", "signal", "stall", "input_unreachable", "codec_error", "spawn_error"];

/**
 * Why a run was ended on purpose by `replace()`: `manual` (the control API), `planned`
 * (a playlist run ends or the schedule changed). Not failures: no backoff, no `exited`.
 */
export type ReplaceReason = "manual" | "planned";

export type SupervisorState = "idle" | "starting" | "running" | "backoff" | "stopped";

/** What to run; a function is called before every spawn (a playlist's next item). */
export interface CommandSpec {
  command: string;
  args: readonly string[];
  /** Extra fd FFmpeg writes `-progress` to (3), or null. */
  progressFd?: number | null;
}

export type { SpawnFn } from "./child.js";

export interface FfmpegSupervisorOptions {
  /** Channel id, for logs. */
  channel?: string;
  /** Backoff before a restart (defaults 500 ms → 30 s, decorrelated jitter). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  jitter?: JitterKind;
  random?: () => number;
  /** Producing this long resets the backoff (default 60 000). */
  stableAfterMs?: number;
  /** Restarts before giving up; null = for ever (default). */
  maxRetries?: number | null;
  /** No stdout byte for this long → stalled (default 5000). Also applies from spawn. */
  stallTimeoutMs?: number;
  /** After SIGTERM for a stall or a fatal line, SIGKILL after this (default 2000). */
  killGraceMs?: number;
  /** stop(): SIGKILL after this (default 5000). */
  stopTimeoutMs?: number;
  /** After a fatal top-level stderr line, SIGTERM if FFmpeg has not exited by then (default 3000). */
  fatalExitGraceMs?: number;
  /** Stderr lines kept (default 50). */
  stderrLines?: number;
  /** Secrets scrubbed from stderr lines (URLs FFmpeg echoes); URL credentials are always masked. */
  secrets?: SecretSet;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  timers?: Timers;
  spawn?: SpawnFn;
}

export interface StartedEvent {
  pid: number | undefined;
  /** Spawns so far, this one included. */
  spawn: number;
  /** Restarts so far (0 for the first start). */
  restarts: number;
}

export interface ExitedEvent {
  reason: ExitReason;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last stderr lines (redacted). */
  stderrTail: string[];
  /** The fatal stderr line that named the reason, if any. */
  fatalLine?: string;
  /** How long the attempt ran, ms. */
  runMs: number;
  /** The restart this exit leads to (1 for the first), or null when there is none. */
  restartNumber: number | null;
  /** Delay before that restart, or null (stopped, gave up). */
  nextRetryInMs: number | null;
  /** For spawn_error: ONAIR_FFMPEG_NOT_FOUND or the spawn error. */
  error?: Error;
  /** This attempt's own error lines (FFmpeg's error/fatal level, or fatal by the classifier), last 20. */
  errorLines: string[];
}

/** The new run of an overlapped replacement failed before its first byte; the old one still airs. */
export interface ReplaceFailedEvent {
  reason: ExitReason;
  code: number | null;
  signal: NodeJS.Signals | null;
  runMs: number;
  nextRetryInMs: number;
  /** The failed run's own error lines, last 20. */
  errorLines: string[];
}

export interface StalledEvent {
  pid: number | undefined;
  /** Time without a stdout byte, ms. */
  silentMs: number;
  /** True when nothing was produced since spawn. */
  neverProduced: boolean;
}

export interface RecoveredEvent {
  /** From the first failure to the first byte of the new attempt, ms. */
  downMs: number;
  /** Restarts it took. */
  restarts: number;
}

export interface SupervisorEvents {
  data: [chunk: Buffer];
  started: [StartedEvent];
  exited: [ExitedEvent];
  stalled: [StalledEvent];
  recovered: [RecoveredEvent];
  progress: [ProgressReport];
  stderr: [{ line: string; class: StderrClass }];
  state: [SupervisorState];
  gave_up: [{ restarts: number }];
  stopped: [];
  /** A run ended by `replace()` is gone; the next one is being spawned at once. */
  replaced: [ReplacedEvent];
  replace_failed: [ReplaceFailedEvent];
  /**
   * `replace(…, { overlap: true })`: the new run wrote its first byte, emitted right before
   * that byte's `data`; the old run's data stops here (it is being ended).
   */
  handover: [HandoverEvent];
  /** An attempt wrote its first stdout byte (spawn to first byte, ms). */
  first_data: [{ startupMs: number }];
}

export interface HandoverEvent {
  reason: ReplaceReason;
  detail?: string | undefined;
  /** How long the old run had run, ms. */
  runMs: number;
  /** Spawn of the new run to its first byte: how long both ran side by side, ms. */
  overlapMs: number;
}

export interface ReplacedEvent {
  reason: ReplaceReason;
  /** Why, in words (e.g. the playlist's "plan_end"). */
  detail?: string | undefined;
  runMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The new run had already taken over when this one ended (an overlapped replacement). */
  handedOver?: boolean;
}

export interface SupervisorStatus {
  state: SupervisorState;
  pid: number | undefined;
  /** Consecutive failures since the last stable run. */
  attempt: number;
  spawns: number;
  restarts: number;
  restartsByReason: Record<ExitReason, number>;
  /** Runs ended on purpose by `replace()`, by reason (not in `restarts`). */
  replacements: Record<ReplaceReason, number>;
  /** Wall-clock ms of the last spawn. */
  lastStartAt: number | null;
  lastExit: ExitedEvent | null;
  nextRetryInMs: number | null;
  bytes: number;
  lastProgress: ProgressReport | null;
  stderrTail: string[];
}

interface Attempt {
  child: ChildProcess;
  spawnedAt: number;
  lastByteAt: number;
  bytes: number;
  stalled: boolean;
  /** Ended by `replace()`: respawn at once, not a failure. */
  replacedBy?: { reason: ReplaceReason; detail?: string | undefined; overlap?: boolean };
  /** Replaced with overlap and its successor has taken over: its data is no longer emitted. */
  handedOver?: boolean;
  spawnError?: Error;
  done: boolean;
  watchdog?: unknown;
  killTimer?: unknown;
  fatalTimer?: unknown;
  /** Its error lines (see ExitedEvent.errorLines). */
  errorLines: string[];
  closed: Promise<void>;
  resolveClosed: () => void;
}

/** stdout and stderr piped, and the `-progress` fd when there is one. */
function stdioFor(progressFd: number | null): SpawnOptions["stdio"] {
  const stdio: SpawnOptions["stdio"] = ["ignore", "pipe", "pipe"];
  if (progressFd !== null) {
    while (stdio.length < progressFd) stdio.push("ignore");
    stdio.push("pipe");
  }
  return stdio;
}

export class FfmpegSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly source: CommandSpec | (() => CommandSpec);
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly spawnFn: SpawnFn;
  private readonly backoff: Backoff;
  private readonly stderr: StderrReader;
  private readonly log: Logger | undefined;
  private readonly opts: Required<
    Pick<FfmpegSupervisorOptions, "stallTimeoutMs" | "killGraceMs" | "stopTimeoutMs" | "fatalExitGraceMs">
  > & { maxRetries: number | null; env?: NodeJS.ProcessEnv };

  private _state: SupervisorState = "idle";
  private attempt: Attempt | undefined;
  /** The run being replaced with overlap: it airs until `attempt` writes its first byte. */
  private retiring: Attempt | undefined;
  private stopping = false;
  private retryTimer: unknown;
  private nextRetryAt: number | null = null;
  private failingSince: number | null = null;
  private restartsSinceUp = 0;
  private spawns = 0;
  private restarts = 0;
  private readonly byReason = Object.fromEntries(EXIT_REASONS.map((r) => [r, 0])) as Record<ExitReason, number>;
  private readonly replaced: Record<ReplaceReason, number> = { manual: 0, planned: 0 };
  private lastStartAt: number | null = null;
  private lastExit: ExitedEvent | null = null;
  private lastProgress: ProgressReport | null = null;
  private bytes = 0;
  private stopPromise: Promise<void> | undefined;
  private readonly abortSignal: AbortSignal | undefined;
  private readonly onAbort = (): void => void this.stop();

  constructor(source: CommandSpec | (() => CommandSpec), options: FfmpegSupervisorOptions = {}) {
    super();
    this.source = source;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? realTimers;
    this.spawnFn = options.spawn ?? defaultSpawn;
    this.backoff = new Backoff({
      minMs: options.backoffMinMs ?? 500,
      maxMs: options.backoffMaxMs ?? 30_000,
      jitter: options.jitter,
      random: options.random,
      stableAfterMs: options.stableAfterMs ?? 60_000,
      clock: this.clock,
    });
    const secrets = options.secrets;
    this.stderr = new StderrReader({ capacity: options.stderrLines ?? 50, redact: (l) => redactString(l, secrets) });
    this.log = options.logger && (options.channel ? options.logger.child({ channel: options.channel }) : options.logger);
    this.opts = {
      stallTimeoutMs: options.stallTimeoutMs ?? 5000,
      killGraceMs: options.killGraceMs ?? 2000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
      fatalExitGraceMs: options.fatalExitGraceMs ?? 3000,
      maxRetries: options.maxRetries === undefined ? null : options.maxRetries,
      env: options.env,
    };
    if (options.signal) {
      if (options.signal.aborted) this.stopping = true;
      else options.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.abortSignal = options.signal;
  }

  get state(): SupervisorState {
    return this._state;
  }

  /** The child's pid while one runs. */
  get pid(): number | undefined {
    return this.attempt && !this.attempt.done ? this.attempt.child.pid : undefined;
  }

  /** Time left before the next restart, while in backoff. */
  get nextRetryInMs(): number | null {
    if (this._state !== "backoff" || this.nextRetryAt === null) return null;
    return Math.max(0, this.nextRetryAt - this.clock.monotonic());
  }

  /** The last stderr lines (redacted), oldest first. */
  stderrTail(n?: number): string[] {
    return this.stderr.ring.lines(n);
  }

  status(): SupervisorStatus {
    return {
      state: this._state,
      pid: this.pid,
      attempt: this.backoff.attempt,
      spawns: this.spawns,
      restarts: this.restarts,
      restartsByReason: { ...this.byReason },
      replacements: { ...this.replaced },
      lastStartAt: this.lastStartAt,
      lastExit: this.lastExit,
      nextRetryInMs: this.nextRetryInMs,
      bytes: this.bytes,
      lastProgress: this.lastProgress,
      stderrTail: this.stderrTail(),
    };
  }

  /** Starts the first attempt. Calling it again is a no-op. */
  start(): void {
    if (this._state !== "idle") return;
    if (this.stopping) {
      this.setState("stopped");
      return;
    }
    this.spawnAttempt();
  }

  /** An overlapped replacement is under way: the old run airs on while the new one starts. */
  get overlapping(): boolean {
    const r = this.retiring;
    return r !== undefined && !r.done && !r.handedOver;
  }

  /**
   * Ends the running FFmpeg on purpose (SIGTERM, SIGKILL after the kill grace) and spawns
   * the next one as soon as it is gone: no backoff, no `exited` event (so no crash alert),
   * counted in `replacements`; a `replaced` event instead. While in backoff, the pending
   * restart happens now. Returns false when stopped or idle.
   */
  replace(reason: ReplaceReason, detail?: string, opts: { overlap?: boolean } = {}): boolean {
    if (this.stopping || this._state === "idle" || this._state === "stopped") return false;
    // an overlapped replacement under way: the new run is coming
    if (this.overlapping) return true;
    const a = this.attempt;
    if (a && !a.done && opts.overlap && this._state === "running" && this.retiring === undefined) {
      // the new run starts beside the old one, which keeps airing until the new one's
      // first byte (no gap, no slate); then the old one is ended
      a.replacedBy = { reason, detail, overlap: true };
      this.retiring = a;
      this.log?.info({ event: "ffmpeg.replacing", reason, detail, overlap: true });
      this.spawnAttempt();
      return true;
    }
    if (a && !a.done) {
      a.replacedBy ??= { reason, detail };
      this.terminate(a, this.opts.killGraceMs);
      return true;
    }
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.replaced[reason]++;
      this.log?.info({ event: "ffmpeg.replaced", reason, detail, runMs: 0 });
      this.spawnAttempt();
      return true;
    }
    return false;
  }

  /**
   * Stops for good: SIGTERM, SIGKILL after `stopTimeoutMs`; resolves once no child is left.
   */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopping = true;
    this.abortSignal?.removeEventListener("abort", this.onAbort);
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.nextRetryAt = null;
    const a = this.attempt;
    const r = this.retiring;
    if (r && !r.done) this.terminate(r, this.opts.stopTimeoutMs);
    const retired = r && !r.done ? r.closed : Promise.resolve();
    if (a && !a.done) {
      this.terminate(a, this.opts.stopTimeoutMs);
      this.stopPromise = Promise.all([a.closed, retired]).then(() => this.finishStop());
    } else if (r && !r.done) {
      this.stopPromise = retired.then(() => this.finishStop());
    } else {
      this.finishStop();
      this.stopPromise = Promise.resolve();
    }
    return this.stopPromise;
  }

  private finishStop(): void {
    if (this._state === "stopped") return;
    this.setState("stopped");
    this.log?.info({ event: "ffmpeg.stopped", restarts: this.restarts });
    this.emit("stopped");
  }

  private setState(s: SupervisorState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit("state", s);
  }

  private spawnAttempt(): void {
    this.retryTimer = undefined;
    this.nextRetryAt = null;
    if (this.stopping) return;
    this.stderr.newAttempt();
    this.spawns++;
    const now = this.clock.monotonic();
    this.lastStartAt = this.clock.now();
    this.setState("starting");

    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const spec = this.commandSpec();
    const progressFd = spec.command !== undefined ? (spec.progressFd ?? null) : null;
    // never throws: a child that could not start (EMFILE, ENOENT, a throw, missing pipes, no
    // command) is a stand-in without pid whose one 'error' ends the attempt as spawn_error
    const child =
      spec.command !== undefined
        ? spawnChild(this.spawnFn, spec.command, spec.args, { stdio: stdioFor(progressFd), detached: false, env: this.opts.env, windowsHide: true })
        : notStartedChild(spec.error);
    const a: Attempt = { child, spawnedAt: now, lastByteAt: now, bytes: 0, stalled: false, done: false, errorLines: [], closed, resolveClosed };
    this.attempt = a;
    this.wire(a, progressFd);

    if (child.pid !== undefined && spec.command !== undefined) {
      this.log?.info({ event: "ffmpeg.started", pid: child.pid, spawn: this.spawns, restarts: this.restarts, argv: [spec.command, ...spec.args] });
      this.emit("started", { pid: child.pid, spawn: this.spawns, restarts: this.restarts });
      this.armWatchdog(a, this.opts.stallTimeoutMs);
    }
  }

  /** The command of the next run; a source that throws (a playlist's graph file out of fds) fails the attempt. */
  private commandSpec(): CommandSpec | { command: undefined; error: Error } {
    try {
      return typeof this.source === "function" ? this.source() : this.source;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return { command: undefined, error: new OnairError("ONAIR_SPAWN_FAILED", `the FFmpeg command could not be prepared: ${msg}`, { stage: "command" }, { cause: e }) };
    }
  }

  /** Listens to an attempt's child: stdout, stderr, -progress, the spawn error and the exit. */
  private wire(a: Attempt, progressFd: number | null): void {
    const child = a.child;
    child.on("error", (err) => {
      if (child.pid === undefined) {
        a.spawnError = err;
        this.finishAttempt(a, null, null);
      } else {
        this.log?.warn({ event: "ffmpeg.child_error", err });
      }
    });
    child.on("close", (code, signal) => this.finishAttempt(a, code, signal));
    child.stdout?.on("data", (chunk: Buffer) => this.onData(a, chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      // a run being replaced with overlap is no longer read: its lines (and a fatal one as it
      // is ended) must not mix into its successor's, which the reader now holds
      if (a.replacedBy?.overlap) return;
      for (const l of this.stderr.push(chunk)) this.onStderrLine(a, l);
    });
    if (progressFd === null) return;
    const parser = new ProgressParser();
    (child.stdio[progressFd] as Readable | null | undefined)?.on("data", (chunk: Buffer) => {
      for (const r of parser.push(chunk)) {
        this.lastProgress = r;
        this.emit("progress", r);
      }
    });
  }

  private onData(a: Attempt, chunk: Buffer): void {
    if (a.done || a.handedOver) return;
    const first = a.bytes === 0;
    a.bytes += chunk.length;
    this.bytes += chunk.length;
    a.lastByteAt = this.clock.monotonic();
    if (first) this.emit("first_data", { startupMs: a.lastByteAt - a.spawnedAt });
    let retired: Attempt | undefined;
    const r = this.retiring;
    if (r && a === this.attempt && !r.handedOver) {
      // the new run of an overlapped replacement is on: the old one's data stops here
      r.handedOver = true;
      retired = r;
      const ev: HandoverEvent = { reason: r.replacedBy!.reason, detail: r.replacedBy!.detail, runMs: a.lastByteAt - r.spawnedAt, overlapMs: a.lastByteAt - a.spawnedAt };
      this.log?.info({ event: "ffmpeg.handover", ...ev, pid: a.child.pid, oldPid: r.child.pid });
      this.emit("handover", ev);
    }
    if (a === this.attempt && this._state === "starting" && !this.stopping) {
      this.setState("running");
      this.backoff.started();
      if (this.failingSince !== null) {
        const ev = { downMs: a.lastByteAt - this.failingSince, restarts: this.restartsSinceUp };
        this.failingSince = null;
        this.restartsSinceUp = 0;
        this.log?.info({ event: "ffmpeg.recovered", ...ev });
        this.emit("recovered", ev);
      }
    }
    this.emit("data", chunk);
    if (retired) this.terminate(retired, this.opts.killGraceMs);
  }

  private onStderrLine(a: Attempt, l: { line: string; class: StderrClass }): void {
    this.emit("stderr", l);
    const lv = l.class.level;
    if (l.class.severity === "fatal" || lv === "error" || lv === "fatal" || lv === "panic") {
      a.errorLines.push(l.line);
      if (a.errorLines.length > 20) a.errorLines.shift();
    }
    if (l.class.severity === "fatal" && l.class.topLevel && a.fatalTimer === undefined && !a.done) {
      // FFmpeg's own last word: it should exit now; make sure it does
      a.fatalTimer = this.timers.setTimeout(() => {
        if (!a.done) this.terminate(a, this.opts.killGraceMs);
      }, this.opts.fatalExitGraceMs);
    }
  }

  private armWatchdog(a: Attempt, ms: number): void {
    a.watchdog = this.timers.setTimeout(() => this.checkStall(a), ms);
  }

  private checkStall(a: Attempt): void {
    a.watchdog = undefined;
    if (a.done || this.stopping || a.stalled) return;
    const silent = this.clock.monotonic() - a.lastByteAt;
    if (silent < this.opts.stallTimeoutMs) {
      this.armWatchdog(a, this.opts.stallTimeoutMs - silent);
      return;
    }
    a.stalled = true;
    const ev: StalledEvent = { pid: a.child.pid, silentMs: silent, neverProduced: a.bytes === 0 };
    this.log?.warn({ event: "ffmpeg.stalled", ...ev });
    this.emit("stalled", ev);
    this.terminate(a, this.opts.killGraceMs);
  }

  /** SIGTERM now, SIGKILL after graceMs unless it is gone. */
  private terminate(a: Attempt, graceMs: number): void {
    if (a.done) return;
    try {
      a.child.kill("SIGTERM");
    } catch {
      /* already gone */
    }
    if (a.killTimer !== undefined) this.timers.clearTimeout(a.killTimer);
    a.killTimer = this.timers.setTimeout(() => {
      if (!a.done) {
        this.log?.warn({ event: "ffmpeg.kill", pid: a.child.pid, afterMs: graceMs });
        try {
          a.child.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }, graceMs);
  }

  private classify(a: Attempt, signal: NodeJS.Signals | null): { reason: ExitReason; error?: Error } {
    if (a.stalled) return { reason: "stall" };
    if (a.spawnError) {
      // ONAIR_SPAWN_FAILED from child.ts; a missing binary is named as such
      const code = spawnErrno(a.spawnError);
      const error =
        code === "ENOENT" || code === "EACCES"
          ? new OnairError("ONAIR_FFMPEG_NOT_FOUND", `FFmpeg could not be started: ${INSTALL_HINT}`, { cause: code }, { cause: a.spawnError })
          : a.spawnError;
      return { reason: "spawn_error", error };
    }
    const fatal = this.stderr.fatal;
    if (fatal?.class.reason) {
      if (fatal.class.reason === "spawn_error") {
        return { reason: "spawn_error", error: new OnairError("ONAIR_FFMPEG_NOT_FOUND", `FFmpeg could not be started: ${INSTALL_HINT}`, { line: fatal.line }) };
      }
      return { reason: fatal.class.reason };
    }
    if (signal) return { reason: "signal" };
    return { reason: "exit_code" };
  }

  private finishAttempt(a: Attempt, code: number | null, signal: NodeJS.Signals | null): void {
    if (a.done) return;
    a.done = true;
    for (const t of [a.watchdog, a.killTimer, a.fatalTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    // (the stderr reader holds the successor's lines when this run was replaced with overlap)
    if (!a.replacedBy?.overlap) for (const l of this.stderr.end()) this.onStderrLine(a, l);
    a.child.stdout?.destroy();
    a.child.stderr?.destroy();
    for (const s of a.child.stdio ?? []) (s as Readable | null)?.destroy?.();
    a.child.removeAllListeners();
    // late 'error' events from a dead child must not become uncaught exceptions
    a.child.on("error", () => undefined);
    if (this.attempt === a) this.attempt = undefined;
    const now = this.clock.monotonic();
    const runMs = now - a.spawnedAt;
    a.resolveClosed();

    if (a === this.retiring) this.retiring = undefined;
    if (this.stopping) {
      this.log?.info({ event: "ffmpeg.exited", reason: "stopped", code, signal, runMs });
      return; // stop() resolves through a.closed
    }

    if (a.replacedBy?.overlap) {
      // the old run of an overlapped replacement: its successor is already spawned
      const r = a.replacedBy;
      this.replaced[r.reason]++;
      const handedOver = a.handedOver === true;
      this.log?.info({ event: "ffmpeg.replaced", reason: r.reason, detail: r.detail, code, signal, runMs, handedOver });
      this.emit("replaced", { reason: r.reason, detail: r.detail, runMs, code, signal, handedOver });
      return;
    }

    const r = this.retiring;
    if (r && !r.handedOver) {
      // the new run of an overlapped replacement died before its first byte; the old one
      // still airs: try again after the backoff, the old one airing meanwhile
      const { reason } = this.classify(a, signal);
      this.byReason[reason]++;
      this.restarts++;
      const delay = Math.round(this.backoff.next());
      this.log?.warn({ event: "ffmpeg.replace_failed", reason, code, signal, runMs, nextRetryInMs: delay, stderrTail: this.stderrTail(5) });
      this.emit("replace_failed", { reason, code, signal, runMs, nextRetryInMs: delay, errorLines: a.errorLines });
      this.retryTimer = this.timers.setTimeout(() => this.spawnAttempt(), delay);
      return;
    }

    if (a.replacedBy) {
      const r = a.replacedBy;
      this.replaced[r.reason]++;
      this.log?.info({ event: "ffmpeg.replaced", reason: r.reason, detail: r.detail, code, signal, runMs });
      this.emit("replaced", { reason: r.reason, detail: r.detail, runMs, code, signal });
      this.setState("starting");
      this.retryTimer = this.timers.setTimeout(() => this.spawnAttempt(), 0);
      return;
    }

    const { reason, error } = this.classify(a, signal);
    this.byReason[reason]++;
    this.failingSince ??= now;
    const fatalLine = this.stderr.fatal?.line;
    const base = { reason, code, signal, stderrTail: this.stderrTail(), errorLines: a.errorLines, runMs, ...(fatalLine ? { fatalLine } : {}), ...(error ? { error } : {}) };

    if (this.opts.maxRetries !== null && this.restartsSinceUp >= this.opts.maxRetries) {
      const ev: ExitedEvent = { ...base, restartNumber: null, nextRetryInMs: null };
      this.lastExit = ev;
      this.log?.error({ event: "ffmpeg.gave_up", reason, code, signal, restarts: this.restarts, stderrTail: ev.stderrTail });
      this.emit("exited", ev);
      this.setState("stopped");
      this.stopping = true;
      this.emit("gave_up", { restarts: this.restarts });
      return;
    }

    const delay = Math.round(this.backoff.next());
    this.restarts++;
    this.restartsSinceUp++;
    this.nextRetryAt = now + delay;
    const ev: ExitedEvent = { ...base, restartNumber: this.restarts, nextRetryInMs: delay };
    this.lastExit = ev;
    this.setState("backoff");
    this.retryTimer = this.timers.setTimeout(() => this.spawnAttempt(), delay);
    this.log?.warn({
      event: "ffmpeg.exited",
      reason,
      code,
      signal,
      runMs,
      restartNumber: ev.restartNumber,
      nextRetryInMs: delay,
      stderrTail: ev.stderrTail.slice(-10),
      ...(error ? { err: error } : {}),
    });
    this.emit("exited", ev);
  }
}
