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
import type { SpawnOptions } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { redactString } from "../config/redact.js";
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import { realTimers, type Timers } from "../core/timers.js";
import { ChildRun, defaultSpawn, notStartedChild, runChild, stdioFor, type ChildExit, type ChildRunHooks, type SpawnFn } from "./child.js";
import { ProgressParser, type ProgressReport } from "./progress.js";
import { StderrReader, type StderrClass } from "./stderr.js";
import {
  classifyExit,
  EXIT_REASONS,
  type CommandSpec,
  type ExitedEvent,
  type ExitReason,
  type FfmpegSupervisorOptions,
  type HandoverEvent,
  type ReplaceReason,
  type StalledEvent,
  type SupervisorEvents,
  type SupervisorState,
  type SupervisorStatus,
} from "./supervisor-types.js";

export * from "./supervisor-types.js";

export type { SpawnFn } from "./child.js";

interface Attempt {
  run: ChildRun;
  spawnedAt: number;
  lastByteAt: number;
  bytes: number;
  stalled: boolean;
  /** Ended by `replace()`: respawn at once, not a failure. */
  replacedBy?: { reason: ReplaceReason; detail?: string | undefined; overlap?: boolean };
  /** Replaced with overlap and its successor has taken over: its data is no longer emitted. */
  handedOver?: boolean;
  spawnError?: Error;
  watchdog?: unknown;
  fatalTimer?: unknown;
  /** Its error lines (see ExitedEvent.errorLines). */
  errorLines: string[];
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
    return this.attempt?.run.pid;
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
    return r !== undefined && !r.run.done && !r.handedOver;
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
    if (a && !a.run.done && opts.overlap && this._state === "running" && this.retiring === undefined) {
      // the new run starts beside the old one, which keeps airing until the new one's
      // first byte (no gap, no slate); then the old one is ended
      a.replacedBy = { reason, detail, overlap: true };
      this.retiring = a;
      this.log?.info({ event: "ffmpeg.replacing", reason, detail, overlap: true });
      this.spawnAttempt();
      return true;
    }
    if (a && !a.run.done) {
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
    if (r && !r.run.done) this.terminate(r, this.opts.stopTimeoutMs);
    const retired = r && !r.run.done ? r.run.closed : Promise.resolve();
    if (a && !a.run.done) {
      this.terminate(a, this.opts.stopTimeoutMs);
      this.stopPromise = Promise.all([a.run.closed, retired]).then(() => this.finishStop());
    } else if (r && !r.run.done) {
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

    const spec = this.commandSpec();
    const progressFd = spec.command !== undefined ? (spec.progressFd ?? null) : null;
    const hooks: ChildRunHooks = {
      timers: this.timers,
      onExit: (exit) => this.finishAttempt(a, exit),
      onError: (err) => this.log?.warn({ event: "ffmpeg.child_error", err }),
    };
    // never throws: a child that could not start (EMFILE, ENOENT, a throw, missing pipes, no
    // command) is a stand-in without pid whose one 'error' ends the attempt as spawn_error
    const options: SpawnOptions = { stdio: stdioFor(progressFd), detached: false, env: this.opts.env, windowsHide: true };
    const run =
      spec.command !== undefined
        ? runChild(this.spawnFn, spec.command, spec.args, options, hooks)
        : new ChildRun(notStartedChild(spec.error), hooks);
    const a: Attempt = { run, spawnedAt: now, lastByteAt: now, bytes: 0, stalled: false, errorLines: [] };
    this.attempt = a;
    this.wire(a, progressFd);

    const pid = run.pid;
    if (pid !== undefined && spec.command !== undefined) {
      this.log?.info({ event: "ffmpeg.started", pid, spawn: this.spawns, restarts: this.restarts, argv: [spec.command, ...spec.args] });
      this.emit("started", { pid, spawn: this.spawns, restarts: this.restarts });
      this.armWatchdog(a, this.opts.stallTimeoutMs);
    }
  }

  /** The command of the next run; a source that throws (a playlist's graph file out of fds) fails the attempt. */
  private commandSpec(): CommandSpec | { command: undefined; error: Error } {
    try {
      return typeof this.source === "function" ? this.source() : this.source;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const error = new OnairError(
        "ONAIR_SPAWN_FAILED",
        `the FFmpeg command could not be prepared: ${msg}`,
        { stage: "command" },
        { cause: e },
      );
      return { command: undefined, error };
    }
  }

  /** Listens to an attempt's child: stdout, stderr, -progress (its end comes through ChildRun). */
  private wire(a: Attempt, progressFd: number | null): void {
    const child = a.run.child;
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
    if (a.run.done || a.handedOver) return;
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
      const { reason, detail } = r.replacedBy!;
      const ev: HandoverEvent = { reason, detail, runMs: a.lastByteAt - r.spawnedAt, overlapMs: a.lastByteAt - a.spawnedAt };
      this.log?.info({ event: "ffmpeg.handover", ...ev, pid: a.run.child.pid, oldPid: r.run.child.pid });
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
    if (l.class.severity === "fatal" && l.class.topLevel && a.fatalTimer === undefined && !a.run.done) {
      // FFmpeg's own last word: it should exit now; make sure it does
      a.fatalTimer = this.timers.setTimeout(() => this.terminate(a, this.opts.killGraceMs), this.opts.fatalExitGraceMs);
    }
  }

  private armWatchdog(a: Attempt, ms: number): void {
    a.watchdog = this.timers.setTimeout(() => this.checkStall(a), ms);
  }

  private checkStall(a: Attempt): void {
    a.watchdog = undefined;
    if (a.run.done || this.stopping || a.stalled) return;
    const silent = this.clock.monotonic() - a.lastByteAt;
    if (silent < this.opts.stallTimeoutMs) {
      this.armWatchdog(a, this.opts.stallTimeoutMs - silent);
      return;
    }
    a.stalled = true;
    const ev: StalledEvent = { pid: a.run.pid, silentMs: silent, neverProduced: a.bytes === 0 };
    this.log?.warn({ event: "ffmpeg.stalled", ...ev });
    this.emit("stalled", ev);
    this.terminate(a, this.opts.killGraceMs);
  }

  /** SIGTERM now, SIGKILL after graceMs unless it is gone (ChildRun). */
  private terminate(a: Attempt, graceMs: number): void {
    a.run.terminate(graceMs, () => this.log?.warn({ event: "ffmpeg.kill", pid: a.run.pid, afterMs: graceMs }));
  }

  private classify(a: Attempt, signal: NodeJS.Signals | null): { reason: ExitReason; error?: Error } {
    return classifyExit({ stalled: a.stalled, spawnError: a.spawnError, fatal: this.stderr.fatal, signal });
  }

  /** The attempt's child is gone (ChildRun closed its pipes): say why, and what comes next. */
  private finishAttempt(a: Attempt, exit: ChildExit): void {
    a.spawnError = exit.spawnError;
    for (const t of [a.watchdog, a.fatalTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    // (the stderr reader holds the successor's lines when this run was replaced with overlap)
    if (!a.replacedBy?.overlap) for (const l of this.stderr.end()) this.onStderrLine(a, l);
    if (this.attempt === a) this.attempt = undefined;
    const now = this.clock.monotonic();
    const runMs = now - a.spawnedAt;
    if (a === this.retiring) this.retiring = undefined;
    if (this.stopping) {
      this.log?.info({ event: "ffmpeg.exited", reason: "stopped", code: exit.code, signal: exit.signal, runMs });
      return; // stop() resolves through a.run.closed
    }
    const r = this.retiring;
    if (a.replacedBy?.overlap) this.endReplaced(a, exit, runMs);
    else if (r && !r.handedOver) this.replaceFailed(a, exit, runMs);
    else if (a.replacedBy) this.endReplaced(a, exit, runMs);
    else this.failed(a, exit, runMs, now);
  }

  /**
   * A run ended by `replace()`. With overlap its successor is already spawned (and may have
   * taken over); without, the next run is spawned at once.
   */
  private endReplaced(a: Attempt, { code, signal }: ChildExit, runMs: number): void {
    const { reason, detail, overlap } = a.replacedBy!;
    this.replaced[reason]++;
    if (overlap) {
      const handedOver = a.handedOver === true;
      this.log?.info({ event: "ffmpeg.replaced", reason, detail, code, signal, runMs, handedOver });
      this.emit("replaced", { reason, detail, runMs, code, signal, handedOver });
      return;
    }
    this.log?.info({ event: "ffmpeg.replaced", reason, detail, code, signal, runMs });
    this.emit("replaced", { reason, detail, runMs, code, signal });
    this.setState("starting");
    this.retryTimer = this.timers.setTimeout(() => this.spawnAttempt(), 0);
  }

  /**
   * The new run of an overlapped replacement died before its first byte; the old one still
   * airs: try again after the backoff, the old one airing meanwhile.
   */
  private replaceFailed(a: Attempt, { code, signal }: ChildExit, runMs: number): void {
    const { reason } = this.classify(a, signal);
    this.byReason[reason]++;
    this.restarts++;
    const delay = Math.round(this.backoff.next());
    this.log?.warn({ event: "ffmpeg.replace_failed", reason, code, signal, runMs, nextRetryInMs: delay, stderrTail: this.stderrTail(5) });
    this.emit("replace_failed", { reason, code, signal, runMs, nextRetryInMs: delay, errorLines: a.errorLines });
    this.retryTimer = this.timers.setTimeout(() => this.spawnAttempt(), delay);
  }

  /** A failed run: restart after the backoff, or give up after `maxRetries`. */
  private failed(a: Attempt, { code, signal }: ChildExit, runMs: number, now: number): void {
    const { reason, error } = this.classify(a, signal);
    this.byReason[reason]++;
    this.failingSince ??= now;
    const fatalLine = this.stderr.fatal?.line;
    const extra = { ...(fatalLine ? { fatalLine } : {}), ...(error ? { error } : {}) };
    const base = { reason, code, signal, stderrTail: this.stderrTail(), errorLines: a.errorLines, runMs, ...extra };

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
    const { restartNumber } = ev;
    const err = error ? { err: error } : {};
    this.log?.warn({
      event: "ffmpeg.exited",
      reason,
      code,
      signal,
      runMs,
      restartNumber,
      nextRetryInMs: delay,
      stderrTail: ev.stderrTail.slice(-10),
      ...err,
    });
    this.emit("exited", ev);
  }
}
