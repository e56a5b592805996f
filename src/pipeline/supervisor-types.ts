/**
 * The FfmpegSupervisor's vocabulary: why a run ended, its states, the command it runs, the
 * events it emits and the status it reports (re-exported by supervisor.ts).
 */
import type { Logger } from "pino";
import type { SecretSet } from "../config/redact.js";
import type { JitterKind } from "../core/backoff.js";
import type { Clock } from "../core/clock.js";
import type { Timers } from "../core/timers.js";
import { OnairError } from "../core/errors.js";
import { spawnErrno, type SpawnFn } from "./child.js";
import { INSTALL_HINT } from "./ffmpeg-args.js";
import type { ProgressReport } from "./progress.js";
import type { StderrClass } from "./stderr.js";

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

/** What an ended attempt tells about why it ended. */
export interface AttemptEnd {
  /** The stall watchdog ended it. */
  stalled: boolean;
  /** It never started (ONAIR_SPAWN_FAILED from child.ts). */
  spawnError: Error | undefined;
  /** The fatal stderr line that named a reason, if any. */
  fatal: { line: string; class: StderrClass } | undefined;
  signal: NodeJS.Signals | null;
}

/** Why an attempt ended, first that applies (see supervisor.ts); a missing binary is ONAIR_FFMPEG_NOT_FOUND. */
export function classifyExit({ stalled, spawnError, fatal, signal }: AttemptEnd): { reason: ExitReason; error?: Error } {
  if (stalled) return { reason: "stall" };
  if (spawnError) {
    const code = spawnErrno(spawnError);
    const notFound = code === "ENOENT" || code === "EACCES";
    const error = notFound
      ? new OnairError("ONAIR_FFMPEG_NOT_FOUND", `FFmpeg could not be started: ${INSTALL_HINT}`, { cause: code }, { cause: spawnError })
      : spawnError;
    return { reason: "spawn_error", error };
  }
  if (fatal?.class.reason === "spawn_error") {
    return {
      reason: "spawn_error",
      error: new OnairError("ONAIR_FFMPEG_NOT_FOUND", `FFmpeg could not be started: ${INSTALL_HINT}`, { line: fatal.line }),
    };
  }
  if (fatal?.class.reason) return { reason: fatal.class.reason };
  return { reason: signal ? "signal" : "exit_code" };
}
