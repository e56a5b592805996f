/**
 * What the metrics are made of: the fixed label lists (restart reasons, SCTE-35 commands, SI
 * tables, TR 101 290 indicators) and the snapshots the daemon hands over at scrape time. Pure:
 * no prom-client, no I/O. metrics.ts re-exports everything here.
 */
import type { HlsOutputSnapshot } from "../pipeline/outputs/hls.js";

/** Why a channel's pipeline restarted: the supervisor's exit reasons, a restart asked for (API, CLI), anything else. */
export const RESTART_REASONS = [
  "exit_code",
  "signal",
  "stall",
  "input_unreachable",
  "codec_error",
  "spawn_error",
  "manual",
  "planned",
  "other",
] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

/** SCTE-35 splice commands we send. */
export const SCTE35_COMMANDS = ["splice_insert", "time_signal", "splice_null"] as const;
export type Scte35Command = (typeof SCTE35_COMMANDS)[number];

/** DVB SI tables we carry (EIT schedule sub-tables 0x50… are summed into `eit_schedule`). */
export const SI_TABLES = ["sdt", "eit_pf", "eit_schedule", "tdt", "tot"] as const;
export type SiTable = (typeof SI_TABLES)[number];

/** ETSI TR 101 290 indicators (priority 1 and 2), snake_case of the document's names. */
export const TR101290_INDICATORS = {
  ts_sync_loss: 1,
  sync_byte_error: 1,
  pat_error: 1,
  continuity_count_error: 1,
  pmt_error: 1,
  pid_error: 1,
  transport_error: 2,
  crc_error: 2,
  pcr_repetition_error: 2,
  pcr_discontinuity_indicator_error: 2,
  pcr_accuracy_error: 2,
  pts_error: 2,
  cat_error: 2,
} as const satisfies Record<string, 1 | 2>;
export type Tr101290Indicator = keyof typeof TR101290_INDICATORS;
export const TR101290_INDICATOR_NAMES = Object.keys(TR101290_INDICATORS) as Tr101290Indicator[];

/** prom-client default metrics that break the naming conventions (gauges ending in `_total`). */
export const DEFAULT_METRICS_DROPPED = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

/** CPU modes from `os.cpus()`. */
export const CPU_MODES = ["user", "nice", "sys", "idle", "irq"] as const;

/**
 * One channel's state at scrape time, filled by the daemon from the channel's parts. Counts
 * are cumulative (the components' own counters); they may restart from 0 when a component is
 * rebuilt (see the file comment). Missing keys of the `Partial` records count as 0.
 */
export interface ChannelSnapshot {
  /** The channel is putting out packets (its outputs received some in the last interval). → onair_channel_up */
  up: boolean;
  /**
   * Pipeline restarts by reason (supervisor `restartsByReason`, plus `manual` (API) and `planned`
   * (playlist runs) replacements). → onair_channel_restarts_total
   */
  restartsByReason: Partial<Record<RestartReason, number>>;
  /** Measured bitrate of what FFmpeg hands the injector, bit/s; null when unknown. → onair_channel_input_bytes_per_second (÷ 8) */
  inputBitrateBps: number | null;
  /** Measured bitrate after the injector, bit/s; null when unknown. → onair_channel_output_bytes_per_second (÷ 8) */
  outputBitrateBps: number | null;
  /** TS packets into the injector (injector `packetsIn`). → onair_channel_input_packets_total */
  packetsIn: number;
  /** TS packets out of the injector (injector `packetsOut`). → onair_channel_output_packets_total */
  packetsOut: number;
  /** Null packets overwritten with our SCTE-35/SI packets. → onair_channel_null_packets_replaced_total */
  nullsReplaced: number;
  /** Packets inserted for lack of a null packet in reach (VBR input). → onair_channel_packets_inserted_total */
  packetsInserted: number;
  /** SCTE-35 sections sent, repeats included, by command (planner `cuesSent`). → onair_scte35_cues_sent_total */
  cuesSent: Partial<Record<Scte35Command, number>>;
  /** Of those, repeats of an already sent cue (same splice_event_id). → onair_scte35_cues_repeated_total */
  cuesRepeated: Partial<Record<Scte35Command, number>>;
  /** Cues sent after their latest send time, or dropped because the splice point was too close. → onair_scte35_cues_late_total */
  cuesLate: Partial<Record<Scte35Command, number>>;
  /** Breaks whose splice time has come (each counted once, whether or not a cue went out). → onair_scte35_breaks_due_total */
  breaksDue: number;
  /** Seconds until the next planned splice point; null when none is planned (no series then). → onair_scte35_seconds_to_next_splice */
  secondsToNextSplice: number | null;
  /** version_number of each SI table currently carried (see `siFromCarousel`). → onair_si_table_version */
  tableVersions: Partial<Record<SiTable, number>>;
  /** Sections sent per table (carousel `sectionsSent`). → onair_si_sections_sent_total */
  sectionsSent: Partial<Record<SiTable, number>>;
  /** The slate is on air instead of the programme. → onair_channel_slate_active */
  slateActive: boolean;
  /** TR 101 290 error counts of the output monitor. → onair_ts_monitor_errors_total */
  monitorErrors: Partial<Record<Tr101290Indicator, number>>;
  /** Playlist inputs only: schedule items planned as filler because their media is missing. → onair_playlist_media_missing_total */
  playlistMediaMissing?: number | undefined;
  /** Playlist inputs only: files set aside because an FFmpeg run failed on them. → onair_playlist_media_failed_total */
  playlistMediaFailed?: number | undefined;
  /**
   * The channel's outputs by name (`udp://host:port`, `file:PATH`, `srt://host:port`,
   * `stdout`): failed attempts (send, open, write) → onair_channel_output_errors_total, and
   * whether it is failing now → onair_channel_output_failing.
   */
  outputs?: readonly { name: string; errors: number; failing: boolean }[] | undefined;
  /** The channel's hls output, if it has one. → onair_hls_* */
  hls?: HlsSnapshot | undefined;
}

/** An hls output's counters (cumulative) and gauges: the output's own snapshot. */
export type HlsSnapshot = HlsOutputSnapshot;

/** Alerter counters (cumulative). */
export interface AlertsSnapshot {
  sent: number;
  failed: number;
  /** Messages waiting in the outbox now. */
  outboxDepth: number;
}

/** Store counters (cumulative). */
export interface StoreSnapshot {
  errors: number;
}

/** A directory whose free space is exported and checked by /readyz. */
export interface WatchedDirectory {
  /** Label value, e.g. "data", "recordings" (keep the set small and fixed). */
  name: string;
  path: string;
}

/** Maps carousel table keys (`sdt`, `eit-pf`, `eit-0x50`…, `tdt`, `tot`) to the bounded `table` label. */
export function siTableForKey(key: string): SiTable | undefined {
  if (key === "sdt" || key === "tdt" || key === "tot") return key;
  if (key === "eit-pf") return "eit_pf";
  if (/^eit-0x[56][0-9a-f]$/i.test(key)) return "eit_schedule";
  return undefined;
}

/**
 * Folds the carousel's per-table stats into the snapshot's `tableVersions`/`sectionsSent`:
 * sections of all EIT schedule sub-tables are summed; the version shown for `eit_schedule` is
 * that of its first sub-table.
 */
export function siFromCarousel(tables: readonly { key: string; versionNumber: number | undefined; sectionsSent: number }[]): {
  tableVersions: Partial<Record<SiTable, number>>;
  sectionsSent: Partial<Record<SiTable, number>>;
} {
  const tableVersions: Partial<Record<SiTable, number>> = {};
  const sectionsSent: Partial<Record<SiTable, number>> = {};
  const sorted = [...tables].sort((a, b) => a.key.localeCompare(b.key));
  for (const t of sorted) {
    const table = siTableForKey(t.key);
    if (!table) continue;
    sectionsSent[table] = (sectionsSent[table] ?? 0) + t.sectionsSent;
    if (t.versionNumber !== undefined && tableVersions[table] === undefined) tableVersions[table] = t.versionNumber;
  }
  return { tableVersions, sectionsSent };
}

/** Restart reason of a supervisor exit reason; unknown ones become `other`. */
export function restartReason(reason: string): RestartReason {
  return (RESTART_REASONS as readonly string[]).includes(reason) ? (reason as RestartReason) : "other";
}
