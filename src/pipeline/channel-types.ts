/** A channel's public shapes: its states, events, options and status. */
import type { Logger } from "pino";
import type { ChannelProfile } from "../config/profile-schema.js";
import type { Clock } from "../core/clock.js";
import type { Timers } from "../core/timers.js";
import type { InjectorCounters } from "../inject/injector.js";
import type { SiFillerStats } from "../inject/si-filler.js";
import type { Tr101290Counters } from "../monitor/index.js";
import type { HlsOutputSnapshot } from "./outputs/hls.js";
import type { Store } from "../store/db.js";
import type { StoreWriteQueue } from "../store/write-queue.js";
import type { SpawnFn } from "./child.js";
import type { OutputStats } from "./outputs/index.js";
import type { PlaylistCounters } from "./playlist.js";
import type { ExitedEvent, StartedEvent, SupervisorStatus } from "./supervisor.js";
import type { SwitcherSource } from "./switcher.js";

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
  /**
   * Its timers (default: `backgroundTimers` for the packet ticker, the break lookups, the
   * stable-run wait and the playlist's watch; `realTimers` for a deferred slate's retry).
   */
  timers?: Timers;
}

export interface ChannelStatus {
  /** the hls output's counters (metrics), if the channel has one */
  hls?: HlsOutputSnapshot | undefined;
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
