/**
 * Starting a child process so that no way of failing throws: the one spawn path of every
 * child the pipeline runs (the live and slate FFmpeg, the SRT sender, the slate encoder).
 *
 * `spawnChild()` never throws and returns one of two things:
 * - a child that runs: it has a pid and every pipe its `stdio` option asks for, so
 *   `child.stdio[fd]` is there for each `"pipe"`;
 * - a stand-in for a child that did not start: no pid, `stdin`/`stdout`/`stderr` null,
 *   `stdio` all null, `kill()` does nothing; it emits exactly one `'error'` on a later tick
 *   (never synchronously, never `'exit'` or `'close'`).
 *
 * The stand-in's `'error'` is always ONAIR_SPAWN_FAILED, with the errno (when there is
 * one) in `fields.errno` and the original error as `cause`. It covers:
 * - spawn threw (E2BIG, EINVAL, a bad option);
 * - Node could not start it (EMFILE/ENFILE out of file descriptors, EAGAIN, ENOENT,
 *   EACCES): Node returns a child without a pid (out of descriptors without any stdio at
 *   all) and emits the errno error on its next tick;
 * - it started without a pipe it was asked for: it is SIGKILLed.
 * Callers take that `'error'` (with `pid === undefined`) as a failed attempt, exactly as
 * Node's own spawn errors: back off, count, alert; the daemon goes on.
 *
 * `runChild()` / `ChildRun` is the one lifecycle on top of it (spawn → closed → SIGTERM →
 * SIGKILL after a grace), shared by FfmpegSupervisor and the SRT output.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { EventEmitter } from "node:events";
import { OnairError } from "../core/errors.js";
import { realTimers, type Timers } from "../core/timers.js";

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const defaultSpawn: SpawnFn = (command, args, options) => nodeSpawn(command, args, options);

/** The stand-in for a child that did not start (see the module comment). */
class NotStarted extends EventEmitter {
  readonly pid = undefined;
  readonly stdin = null;
  readonly stdout = null;
  readonly stderr = null;
  readonly stdio: null[];
  readonly exitCode = null;
  readonly signalCode = null;
  readonly killed = false;

  constructor(fds: number) {
    super();
    this.stdio = new Array<null>(Math.max(3, fds)).fill(null);
  }

  kill(): boolean {
    return false;
  }
}

/** The fds `stdio` asks to be pipes. */
export function pipedFds(stdio: SpawnOptions["stdio"]): number[] {
  if (stdio === undefined || stdio === "pipe" || stdio === "overlapped") return [0, 1, 2];
  if (!Array.isArray(stdio)) return [];
  const fds: number[] = [];
  stdio.forEach((s, fd) => {
    if (s === "pipe" || s === "overlapped") fds.push(fd);
  });
  return fds;
}

/** Pipes a child was asked for and does not have (Node's stdio, or its stdin/stdout/stderr). */
function missingPipes(child: ChildProcess, fds: number[]): number[] {
  const named = [child.stdin, child.stdout, child.stderr];
  const stdio = (child.stdio as readonly unknown[] | null | undefined) ?? [];
  return fds.filter((fd) => (fd < 3 ? named[fd] : stdio[fd]) == null);
}

/** Makes a child that did not start harmless: no late 'error' throws, its pipes are closed. */
function discard(child: ChildProcess, kill: boolean): void {
  child.removeAllListeners();
  child.on("error", () => undefined);
  for (const s of (child.stdio as readonly unknown[] | null | undefined) ?? []) (s as { destroy?: () => void } | null)?.destroy?.();
  if (!kill) return;
  try {
    child.kill("SIGKILL");
  } catch {
    /* already gone */
  }
}

const ERRNO_HINTS: Record<string, string> = {
  EMFILE: "out of file descriptors",
  ENFILE: "out of file descriptors (system-wide)",
  EAGAIN: "out of processes",
  ENOMEM: "out of memory",
  ENOENT: "not found",
  EACCES: "not executable",
  E2BIG: "argument list too long",
};

/** The errno of a spawn failure (EMFILE, ENOENT…), also inside an ONAIR_SPAWN_FAILED. */
export function spawnErrno(e: unknown): string | undefined {
  if (e instanceof OnairError) return typeof e.fields.errno === "string" ? e.fields.errno : undefined;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** ONAIR_SPAWN_FAILED for `command`, naming the errno and what it means. */
export function spawnFailed(command: string, cause: unknown): OnairError {
  if (cause instanceof OnairError && cause.code === "ONAIR_SPAWN_FAILED") return cause;
  const errno = spawnErrno(cause);
  const why = errno
    ? `${errno}${ERRNO_HINTS[errno] ? ` (${ERRNO_HINTS[errno]})` : ""}`
    : cause instanceof Error
      ? cause.message
      : String(cause);
  return new OnairError("ONAIR_SPAWN_FAILED", `${command} could not be started: ${why}`, { command, errno }, { cause });
}

function notStarted(command: string, fds: number, error: Promise<unknown>): ChildProcess {
  const stub = new NotStarted(fds);
  // a tick later in any case, so the caller has attached its listeners
  void error.then((e) => process.nextTick(() => stub.emit("error", spawnFailed(command, e))));
  return stub as unknown as ChildProcess;
}

/** A stand-in child that emits `error` (as is) on a later tick: for a run that has no command. */
export function notStartedChild(error: Error): ChildProcess {
  const stub = new NotStarted(3);
  process.nextTick(() => stub.emit("error", error));
  return stub as unknown as ChildProcess;
}

/** Spawns through `spawnFn`; never throws (see the module comment). */
export function spawnChild(spawnFn: SpawnFn, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const fds = pipedFds(options.stdio);
  const width = Array.isArray(options.stdio) ? options.stdio.length : 3;
  let child: ChildProcess;
  try {
    child = spawnFn(command, args, options);
  } catch (e) {
    return notStarted(command, width, Promise.resolve(e));
  }
  if (child.pid === undefined) {
    // Node emits the errno error on its next tick; a spawn that never does still fails
    const error = new Promise<unknown>((resolve) => {
      child.on("error", resolve);
      setImmediate(() => resolve(new Error("no pid and no error from spawn")));
    });
    void error.then(() => discard(child, false));
    return notStarted(command, width, error);
  }
  const missing = missingPipes(child, fds);
  if (missing.length === 0) return child;
  discard(child, true);
  const message = `${command} started without its pipes (fd ${missing.join(", ")})`;
  const error = new OnairError("ONAIR_SPAWN_FAILED", message, { command, missingFds: missing });
  return notStarted(command, width, Promise.resolve(error));
}

/** How a child run ended: its exit status, or the error that kept it from starting. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the child never started (ONAIR_SPAWN_FAILED, or the `notStartedChild` error). */
  spawnError?: Error;
}

export interface ChildRunHooks {
  /** Timers for the SIGKILL grace (default realTimers). */
  timers?: Timers;
  /** Called once when the run is over (see ChildRun), after its pipes are closed. */
  onExit?: (exit: ChildExit) => void;
  /** An 'error' of a child that runs (a failed kill or pipe); it does not end the run. */
  onError?: (err: Error) => void;
}

/**
 * One run of a child process, the one lifecycle every child of the pipeline goes through
 * (the live and slate FFmpeg under FfmpegSupervisor, the SRT sender):
 * spawn (never throws: spawnChild) → closed → SIGTERM → SIGKILL after the grace.
 *
 * - The run is over exactly once: at the child's 'close' (it exited and its pipes are
 *   drained), or at the one 'error' of a child that did not start. Then the SIGKILL timer is
 *   cleared, every pipe is destroyed, the child's listeners are removed (a late 'error' is
 *   swallowed, never an uncaught exception), `done` is true, `closed` resolves and
 *   `onExit` is called.
 * - `terminate(graceMs)`: SIGTERM now and SIGKILL after `graceMs` unless the run is over by
 *   then; calling it again restarts the grace from now. `onKill` is told before the SIGKILL.
 */
export class ChildRun {
  private _done = false;
  private killTimer: unknown;
  private readonly timers: Timers;
  private resolveClosed!: (exit: ChildExit) => void;
  /** Resolves once, when the run is over. */
  readonly closed = new Promise<ChildExit>((r) => (this.resolveClosed = r));

  constructor(
    readonly child: ChildProcess,
    private readonly hooks: ChildRunHooks = {},
  ) {
    this.timers = hooks.timers ?? realTimers;
    child.on("error", (err) => {
      if (child.pid === undefined) this.finish({ code: null, signal: null, spawnError: err });
      else hooks.onError?.(err);
    });
    child.on("close", (code, signal) => this.finish({ code, signal }));
  }

  /** True once the run is over. */
  get done(): boolean {
    return this._done;
  }

  /** The pid while the child runs. */
  get pid(): number | undefined {
    return this._done ? undefined : this.child.pid;
  }

  /** Sends `signal` unless the run is over; a child already gone is not an error. */
  kill(signal: NodeJS.Signals): void {
    if (this._done) return;
    try {
      this.child.kill(signal);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM now, SIGKILL after `graceMs` unless the run is over by then. */
  terminate(graceMs: number, onKill?: () => void): void {
    if (this._done) return;
    this.kill("SIGTERM");
    if (this.killTimer !== undefined) this.timers.clearTimeout(this.killTimer);
    this.killTimer = this.timers.setTimeout(() => {
      this.killTimer = undefined;
      if (this._done) return;
      onKill?.();
      this.kill("SIGKILL");
    }, graceMs);
  }

  private finish(exit: ChildExit): void {
    if (this._done) return;
    this._done = true;
    if (this.killTimer !== undefined) this.timers.clearTimeout(this.killTimer);
    const child = this.child;
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
    for (const s of (child.stdio as readonly unknown[] | null | undefined) ?? []) (s as { destroy?: () => void } | null)?.destroy?.();
    child.removeAllListeners();
    // late 'error' events from a dead child must not become uncaught exceptions
    child.on("error", () => undefined);
    // resolved first: `closed` settles even if onExit throws (its callbacks still run after it)
    this.resolveClosed(exit);
    this.hooks.onExit?.(exit);
  }
}

/** Spawns through `spawnFn` (never throws, see spawnChild) and follows the run (see ChildRun). */
export function runChild(
  spawnFn: SpawnFn,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  hooks?: ChildRunHooks,
): ChildRun {
  return new ChildRun(spawnChild(spawnFn, command, args, options), hooks);
}

/** stdout and stderr piped, and the `-progress` fd when there is one. */
export function stdioFor(progressFd: number | null): SpawnOptions["stdio"] {
  const stdio: SpawnOptions["stdio"] = ["ignore", "pipe", "pipe"];
  if (progressFd !== null) {
    while (stdio.length < progressFd) stdio.push("ignore");
    stdio.push("pipe");
  }
  return stdio;
}
