/**
 * Prometheus metrics (prom-client): the process's default metrics plus onair's own, per
 * channel, named by the Prometheus conventions: `onair_` prefix, counters end in `_total`,
 * base units (seconds, bytes, bits per second), and bounded label sets only — `channel`
 * (configured channels), and extra labels whose values come from fixed lists below
 * (`reason`, `command`, `table`, `indicator`, `mode`, `directory`), and `output` (the
 * configured outputs' names); ops-metrics.ts adds `method`, `route`, `status`, `op`, `cgroup`.
 *
 * How values get in: the components keep cumulative plain-object counters (the injector's
 * `stats`, the supervisor's `restartsByReason`, the carousel's `sectionsSent`…), so nothing
 * here is incremented on the hot path. The daemon registers one snapshot function per
 * channel (`registerChannel(id, () => ChannelSnapshot)`) and one for alerts and the store;
 * at scrape time each metric's prom-client `collect()` reads them. Snapshots are taken once
 * per scrape (memoised until the microtask queue drains, and prom-client runs every
 * `collect()` of one `registry.metrics()` call in the same synchronous pass).
 *
 * Counters from cumulative values: every counter series keeps `last` (the component's value
 * at the previous scrape) and `total` (what we export). A scrape adds `value - last`; when the
 * value went down (the component was rebuilt, e.g. the injector after a channel restart) it
 * adds `value` as a fresh start. So the exported counters never go down while the process
 * lives, and Prometheus sees a reset only when the process restarts. Every label value of the
 * fixed lists is exported from the first scrape (as 0), so `increase()` works from the start.
 */
import { statfs } from "node:fs/promises";
import { cpus, freemem, totalmem } from "node:os";
import { Counter, Gauge, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration } from "prom-client";
import type { CgroupPaths } from "./cgroup.js";
import { createOpsMetrics, type OpsMetrics } from "./ops-metrics.js";

/** Why a channel's pipeline restarted: the supervisor's exit reasons, a restart asked for (API, CLI), anything else. */
export const RESTART_REASONS = ["exit_code", "signal", "stall", "input_unreachable", "codec_error", "spawn_error", "manual", "planned", "other"] as const;
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
export const DEFAULT_METRICS_DROPPED = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"] as const;

/** CPU modes from `os.cpus()`. */
const CPU_MODES = ["user", "nice", "sys", "idle", "irq"] as const;

/**
 * One channel's state at scrape time, filled by the daemon from the channel's parts. Counts
 * are cumulative (the components' own counters); they may restart from 0 when a component is
 * rebuilt (see the file comment). Missing keys of the `Partial` records count as 0.
 */
export interface ChannelSnapshot {
  /** The channel is putting out packets (its outputs received some in the last interval). → onair_channel_up */
  up: boolean;
  /** Pipeline restarts by reason (supervisor `restartsByReason`, plus `manual` (API) and `planned` (playlist runs) replacements). → onair_channel_restarts_total */
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
}

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

export interface MetricsOptions {
  /** Registry to use; default a new one (never prom-client's global). */
  registry?: Registry;
  /** Add prom-client's default process/Node.js metrics (CPU, memory, GC, event loop). */
  defaultMetrics: boolean;
  /** Directories whose free space is exported (onair_directory_free_bytes). */
  directories?: readonly WatchedDirectory[];
  /** Where the cgroup memory files are read (default the real /sys/fs/cgroup, /proc/self/cgroup). */
  cgroup?: CgroupPaths;
}

export interface OnairMetrics {
  readonly registry: Registry;
  /** HTTP, store and cgroup metrics (ops-metrics.ts). */
  readonly ops: OpsMetrics;
  /** Starts exporting a channel; returns a function that removes it (and its series). */
  registerChannel(id: string, snapshot: () => ChannelSnapshot): () => void;
  unregisterChannel(id: string): void;
  /** Alert counters source (one; a later call replaces it). */
  setAlertsSource(fn: () => AlertsSnapshot): void;
  /** Store counters source (one; a later call replaces it). */
  setStoreSource(fn: () => StoreSnapshot): void;
  /** Replaces the watched directories. */
  setDirectories(dirs: readonly WatchedDirectory[]): void;
  /** The exposition text (what GET /metrics returns). */
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** Free and total bytes of the filesystem holding `path` (for unprivileged users: what they can use). */
export async function diskSpace(path: string): Promise<{ freeBytes: number; sizeBytes: number }> {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
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

type Labels = Record<string, string>;

/** Exported totals of counters fed with cumulative values that may restart from 0. */
class CumulativeTotals {
  private readonly series = new Map<string, { labels: Labels; last: number; total: number }>();

  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    const s = this.series.get(key);
    if (!s) {
      this.series.set(key, { labels, last: v, total: v });
      return;
    }
    s.total += v >= s.last ? v - s.last : v;
    s.last = v;
  }

  removeWhere(pred: (labels: Labels) => boolean): void {
    for (const [k, s] of this.series) if (pred(s.labels)) this.series.delete(k);
  }

  writeTo(counter: Counter): void {
    counter.reset();
    for (const s of this.series.values()) counter.inc(s.labels, s.total);
  }
}

function count(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * Creates onair's metric families in a registry. Nothing is sampled until a scrape: call
 * `registerChannel` for each running channel and the `set…Source` functions at wiring time.
 */
export function createMetrics(opts: MetricsOptions): OnairMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client exports these sums as gauges named `_total`, which `promtool check metrics`
    // rejects; the per-type series (nodejs_active_handles{type}…) carry the same information.
    for (const name of DEFAULT_METRICS_DROPPED) registry.removeSingleMetric(name);
  }

  const channels = new Map<string, () => ChannelSnapshot>();
  let alertsSource: (() => AlertsSnapshot) | undefined;
  let storeSource: (() => StoreSnapshot) | undefined;
  let directories: readonly WatchedDirectory[] = opts.directories ?? [];

  // --- snapshot memo: one snapshot per channel per scrape -------------------------------
  let memo: Map<string, ChannelSnapshot | Error> | undefined;
  const totals = {
    restarts: new CumulativeTotals(),
    packetsIn: new CumulativeTotals(),
    packetsOut: new CumulativeTotals(),
    nulls: new CumulativeTotals(),
    inserted: new CumulativeTotals(),
    cuesSent: new CumulativeTotals(),
    cuesRepeated: new CumulativeTotals(),
    cuesLate: new CumulativeTotals(),
    breaksDue: new CumulativeTotals(),
    mediaMissing: new CumulativeTotals(),
    mediaFailed: new CumulativeTotals(),
    outputErrors: new CumulativeTotals(),
    sections: new CumulativeTotals(),
    monitor: new CumulativeTotals(),
    alertsSent: new CumulativeTotals(),
    alertsFailed: new CumulativeTotals(),
    storeErrors: new CumulativeTotals(),
  };
  let snapshotErrors = 0;
  let alertsMemo: AlertsSnapshot | undefined;

  function snapshots(): Map<string, ChannelSnapshot | Error> {
    if (memo) return memo;
    const m = new Map<string, ChannelSnapshot | Error>();
    for (const [id, fn] of channels) {
      try {
        const s = fn();
        m.set(id, s);
        feedCounters(id, s);
      } catch (e) {
        snapshotErrors++;
        m.set(id, e instanceof Error ? e : new Error(String(e)));
      }
    }
    alertsMemo = undefined;
    if (alertsSource) {
      try {
        alertsMemo = alertsSource();
        totals.alertsSent.observe({}, alertsMemo.sent);
        totals.alertsFailed.observe({}, alertsMemo.failed);
      } catch {
        snapshotErrors++;
      }
    }
    if (storeSource) {
      try {
        totals.storeErrors.observe({}, storeSource().errors);
      } catch {
        snapshotErrors++;
      }
    }
    memo = m;
    queueMicrotask(() => {
      memo = undefined;
    });
    return m;
  }

  function feedCounters(channel: string, s: ChannelSnapshot): void {
    for (const reason of RESTART_REASONS) totals.restarts.observe({ channel, reason }, count(s.restartsByReason[reason]));
    totals.packetsIn.observe({ channel }, count(s.packetsIn));
    totals.packetsOut.observe({ channel }, count(s.packetsOut));
    totals.nulls.observe({ channel }, count(s.nullsReplaced));
    totals.inserted.observe({ channel }, count(s.packetsInserted));
    for (const command of SCTE35_COMMANDS) {
      totals.cuesSent.observe({ channel, command }, count(s.cuesSent[command]));
      totals.cuesRepeated.observe({ channel, command }, count(s.cuesRepeated[command]));
      totals.cuesLate.observe({ channel, command }, count(s.cuesLate[command]));
    }
    totals.breaksDue.observe({ channel }, count(s.breaksDue));
    if (s.playlistMediaMissing !== undefined) totals.mediaMissing.observe({ channel }, count(s.playlistMediaMissing));
    if (s.playlistMediaFailed !== undefined) totals.mediaFailed.observe({ channel }, count(s.playlistMediaFailed));
    for (const o of s.outputs ?? []) totals.outputErrors.observe({ channel, output: o.name }, count(o.errors));
    for (const table of SI_TABLES) totals.sections.observe({ channel, table }, count(s.sectionsSent[table]));
    for (const indicator of TR101290_INDICATOR_NAMES) {
      const priority = String(TR101290_INDICATORS[indicator]);
      totals.monitor.observe({ channel, indicator, priority }, count(s.monitorErrors[indicator]));
    }
  }

  function eachChannel(fn: (id: string, s: ChannelSnapshot) => void): void {
    for (const [id, s] of snapshots()) if (!(s instanceof Error)) fn(id, s);
  }

  function counter(cfg: Omit<CounterConfiguration<string>, "registers" | "collect">, source: CumulativeTotals, feed: () => unknown = snapshots): Counter {
    const c: Counter = new Counter({
      ...cfg,
      registers: [registry],
      collect: () => {
        feed();
        source.writeTo(c);
      },
    });
    return c;
  }

  function gauge(cfg: Omit<GaugeConfiguration<string>, "registers" | "collect">, fill: (g: Gauge) => void | Promise<void>): Gauge {
    const g: Gauge = new Gauge({
      ...cfg,
      registers: [registry],
      collect: () => {
        g.reset();
        return fill(g);
      },
    });
    return g;
  }

  // --- channel families ------------------------------------------------------------------
  gauge({ name: "onair_channel_up", help: "1 while the channel is putting out packets, else 0.", labelNames: ["channel"] }, (g) =>
    eachChannel((channel, s) => g.set({ channel }, s.up ? 1 : 0)),
  );
  // a channel whose snapshot failed is reported down rather than missing
  gauge(
    { name: "onair_channel_snapshot_failed", help: "1 when the channel's metrics could not be read at this scrape.", labelNames: ["channel"] },
    (g) => {
      for (const [channel, s] of snapshots()) g.set({ channel }, s instanceof Error ? 1 : 0);
    },
  );
  counter(
    { name: "onair_channel_restarts_total", help: "Pipeline (FFmpeg) restarts by reason.", labelNames: ["channel", "reason"] },
    totals.restarts,
  );
  // byte rates (Prometheus base unit; promtool rejects "bits"): multiply by 8 for the bitrate
  gauge(
    { name: "onair_channel_input_bytes_per_second", help: "Measured rate of the TS coming from FFmpeg, bytes per second (x8 = bitrate).", labelNames: ["channel"] },
    (g) => eachChannel((channel, s) => s.inputBitrateBps !== null && Number.isFinite(s.inputBitrateBps) && g.set({ channel }, s.inputBitrateBps / 8)),
  );
  gauge(
    { name: "onair_channel_output_bytes_per_second", help: "Measured rate of the TS after the injector, bytes per second (x8 = bitrate).", labelNames: ["channel"] },
    (g) => eachChannel((channel, s) => s.outputBitrateBps !== null && Number.isFinite(s.outputBitrateBps) && g.set({ channel }, s.outputBitrateBps / 8)),
  );
  counter({ name: "onair_channel_input_packets_total", help: "TS packets into the injector.", labelNames: ["channel"] }, totals.packetsIn);
  counter({ name: "onair_channel_output_packets_total", help: "TS packets out of the injector.", labelNames: ["channel"] }, totals.packetsOut);
  counter(
    { name: "onair_channel_null_packets_replaced_total", help: "Null packets overwritten with SCTE-35 or SI packets.", labelNames: ["channel"] },
    totals.nulls,
  );
  counter(
    { name: "onair_channel_packets_inserted_total", help: "Packets inserted because no null packet was in reach.", labelNames: ["channel"] },
    totals.inserted,
  );
  counter(
    { name: "onair_channel_output_errors_total", help: "Failed attempts of an output (send, open, write), by output.", labelNames: ["channel", "output"] },
    totals.outputErrors,
  );
  gauge({ name: "onair_channel_output_failing", help: "1 while an output is failing (it retries on its own), else 0.", labelNames: ["channel", "output"] }, (g) =>
    eachChannel((channel, s) => {
      for (const o of s.outputs ?? []) g.set({ channel, output: o.name }, o.failing ? 1 : 0);
    }),
  );
  gauge({ name: "onair_channel_slate_active", help: "1 while the slate is on air instead of the programme.", labelNames: ["channel"] }, (g) =>
    eachChannel((channel, s) => g.set({ channel }, s.slateActive ? 1 : 0)),
  );

  // --- SCTE-35 ---------------------------------------------------------------------------
  counter(
    { name: "onair_scte35_cues_sent_total", help: "SCTE-35 sections sent, repeats included, by splice command.", labelNames: ["channel", "command"] },
    totals.cuesSent,
  );
  counter(
    { name: "onair_scte35_cues_repeated_total", help: "SCTE-35 sections that repeated an already sent cue.", labelNames: ["channel", "command"] },
    totals.cuesRepeated,
  );
  counter(
    { name: "onair_scte35_cues_late_total", help: "SCTE-35 cues sent late or dropped because the splice point was too close.", labelNames: ["channel", "command"] },
    totals.cuesLate,
  );
  counter({ name: "onair_playlist_media_missing_total", help: "Playlist items planned as filler because their media file is missing or unreadable (counted per run planned).", labelNames: ["channel"] }, totals.mediaMissing);
  counter({ name: "onair_playlist_media_failed_total", help: "Playlist files set aside (aired as filler until they change, retried after 10 min) because an FFmpeg run failed on them.", labelNames: ["channel"] }, totals.mediaFailed);
  counter({ name: "onair_scte35_breaks_due_total", help: "Planned breaks whose splice time has come.", labelNames: ["channel"] }, totals.breaksDue);
  gauge(
    { name: "onair_scte35_seconds_to_next_splice", help: "Seconds until the next planned splice point (absent when none is planned).", labelNames: ["channel"] },
    (g) =>
      eachChannel((channel, s) => {
        if (s.secondsToNextSplice !== null && Number.isFinite(s.secondsToNextSplice)) g.set({ channel }, s.secondsToNextSplice);
      }),
  );

  // --- DVB SI ----------------------------------------------------------------------------
  gauge({ name: "onair_si_table_version", help: "version_number of the SI table on air.", labelNames: ["channel", "table"] }, (g) =>
    eachChannel((channel, s) => {
      for (const table of SI_TABLES) {
        const v = s.tableVersions[table];
        if (v !== undefined && Number.isFinite(v)) g.set({ channel, table }, v);
      }
    }),
  );
  counter({ name: "onair_si_sections_sent_total", help: "SI sections sent, by table.", labelNames: ["channel", "table"] }, totals.sections);

  // --- TS monitor ------------------------------------------------------------------------
  counter(
    {
      name: "onair_ts_monitor_errors_total",
      help: "TR 101 290 errors seen on the channel's output, by indicator and priority.",
      labelNames: ["channel", "indicator", "priority"],
    },
    totals.monitor,
  );

  // --- alerts and store --------------------------------------------------------------------
  counter({ name: "onair_alerts_sent_total", help: "Alert messages delivered." }, totals.alertsSent);
  counter({ name: "onair_alerts_failed_total", help: "Alert deliveries that failed." }, totals.alertsFailed);
  gauge({ name: "onair_alerts_outbox_depth", help: "Alert messages waiting in the outbox." }, (g) => {
    snapshots();
    if (alertsMemo) g.set(alertsMemo.outboxDepth);
  });
  counter({ name: "onair_store_errors_total", help: "Store (SQLite) operations that failed." }, totals.storeErrors);
  const snapshotErrorsCounter: Counter = new Counter({
    name: "onair_metrics_snapshot_errors_total",
    help: "Snapshot callbacks that threw during a scrape.",
    registers: [registry],
    collect: () => {
      snapshots();
      snapshotErrorsCounter.reset();
      snapshotErrorsCounter.inc(snapshotErrors);
    },
  });

  // --- system ------------------------------------------------------------------------------
  const cpuTotals = new CumulativeTotals();
  counter({ name: "onair_system_cpu_seconds_total", help: "Host CPU time summed over all CPUs, by mode.", labelNames: ["mode"] }, cpuTotals, () => {
    const sums: Record<string, number> = { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
    for (const c of cpus()) for (const mode of CPU_MODES) sums[mode] += c.times[mode] / 1000;
    for (const mode of CPU_MODES) cpuTotals.observe({ mode }, sums[mode]);
  });
  gauge({ name: "onair_system_cpus", help: "Number of logical CPUs of the host." }, (g) => g.set(cpus().length));
  gauge({ name: "onair_system_memory_free_bytes", help: "Free memory of the host." }, (g) => g.set(freemem()));
  gauge({ name: "onair_system_memory_total_bytes", help: "Total memory of the host." }, (g) => g.set(totalmem()));
  gauge(
    { name: "onair_directory_free_bytes", help: "Bytes available to onair on the filesystem of a watched directory.", labelNames: ["directory", "path"] },
    async (g) => {
      await Promise.all(
        directories.map(async (d) => {
          try {
            g.set({ directory: d.name, path: d.path }, (await diskSpace(d.path)).freeBytes);
          } catch {
            // missing directory: no series (readyz reports it)
          }
        }),
      );
    },
  );
  gauge(
    { name: "onair_directory_size_bytes", help: "Size of the filesystem of a watched directory.", labelNames: ["directory", "path"] },
    async (g) => {
      await Promise.all(
        directories.map(async (d) => {
          try {
            g.set({ directory: d.name, path: d.path }, (await diskSpace(d.path)).sizeBytes);
          } catch {
            // as above
          }
        }),
      );
    },
  );

  const metrics: OnairMetrics = {
    registry,
    ops: createOpsMetrics(registry, opts.cgroup),
    get contentType() {
      return registry.contentType;
    },
    registerChannel(id, snapshot) {
      channels.set(id, snapshot);
      return () => {
        if (channels.get(id) === snapshot) metrics.unregisterChannel(id);
      };
    },
    unregisterChannel(id) {
      channels.delete(id);
      for (const t of Object.values(totals)) t.removeWhere((l) => l.channel === id);
      memo = undefined;
    },
    setAlertsSource(fn) {
      alertsSource = fn;
    },
    setStoreSource(fn) {
      storeSource = fn;
    },
    setDirectories(dirs) {
      directories = [...dirs];
    },
    scrape: () => registry.metrics(),
  };
  return metrics;
}
