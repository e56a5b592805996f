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
import {
  CPU_MODES,
  DEFAULT_METRICS_DROPPED,
  SI_TABLES,
  type AlertsSnapshot,
  type ChannelSnapshot,
  type StoreSnapshot,
  type WatchedDirectory,
} from "./metrics-model.js";
import { CumulativeTotals, ScrapeSources } from "./metrics-sources.js";
import { createOpsMetrics, type OpsMetrics } from "./ops-metrics.js";

export * from "./metrics-model.js";

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

/** Makes counter and gauge families in one registry, read at scrape time. */
interface Families {
  readonly sources: ScrapeSources;
  /** A counter exporting `source`'s totals after `feed` (default: this scrape's snapshots). */
  counter: (cfg: Omit<CounterConfiguration<string>, "registers" | "collect">, source: CumulativeTotals, feed?: () => unknown) => Counter;
  /** A gauge reset and filled by `fill` at every scrape. */
  gauge: (cfg: Omit<GaugeConfiguration<string>, "registers" | "collect">, fill: (g: Gauge) => void | Promise<void>) => Gauge;
}

function families(registry: Registry, sources: ScrapeSources): Families {
  return {
    sources,
    counter: (cfg, source, feed = () => sources.snapshots()) => {
      const c: Counter = new Counter({
        ...cfg,
        registers: [registry],
        collect: () => {
          feed();
          source.writeTo(c);
        },
      });
      return c;
    },
    gauge: (cfg, fill) => {
      const g: Gauge = new Gauge({
        ...cfg,
        registers: [registry],
        collect: () => {
          g.reset();
          return fill(g);
        },
      });
      return g;
    },
  };
}

/** onair_channel_* of the channel's state: up, restarts, rates. */
function channelFamilies({ counter, gauge, sources }: Families): void {
  const { totals } = sources;
  const each = sources.eachChannel.bind(sources);
  gauge({ name: "onair_channel_up", help: "1 while the channel is putting out packets, else 0.", labelNames: ["channel"] }, (g) =>
    each((channel, s) => g.set({ channel }, s.up ? 1 : 0)),
  );
  // a channel whose snapshot failed is reported down rather than missing
  gauge(
    {
      name: "onair_channel_snapshot_failed",
      help: "1 when the channel's metrics could not be read at this scrape.",
      labelNames: ["channel"],
    },
    (g) => {
      for (const [channel, s] of sources.snapshots()) g.set({ channel }, s instanceof Error ? 1 : 0);
    },
  );
  counter(
    { name: "onair_channel_restarts_total", help: "Pipeline (FFmpeg) restarts by reason.", labelNames: ["channel", "reason"] },
    totals.restarts,
  );
  // byte rates (Prometheus base unit; promtool rejects "bits"): multiply by 8 for the bitrate
  gauge(
    {
      name: "onair_channel_input_bytes_per_second",
      help: "Measured rate of the TS coming from FFmpeg, bytes per second (x8 = bitrate).",
      labelNames: ["channel"],
    },
    (g) =>
      each((channel, s) => s.inputBitrateBps !== null && Number.isFinite(s.inputBitrateBps) && g.set({ channel }, s.inputBitrateBps / 8)),
  );
  gauge(
    {
      name: "onair_channel_output_bytes_per_second",
      help: "Measured rate of the TS after the injector, bytes per second (x8 = bitrate).",
      labelNames: ["channel"],
    },
    (g) =>
      each(
        (channel, s) => s.outputBitrateBps !== null && Number.isFinite(s.outputBitrateBps) && g.set({ channel }, s.outputBitrateBps / 8),
      ),
  );
}

/** onair_channel_* of the injector's packets and of the outputs. */
function channelPacketFamilies({ counter, gauge, sources }: Families): void {
  const { totals } = sources;
  const each = sources.eachChannel.bind(sources);
  counter({ name: "onair_channel_input_packets_total", help: "TS packets into the injector.", labelNames: ["channel"] }, totals.packetsIn);
  counter(
    { name: "onair_channel_output_packets_total", help: "TS packets out of the injector.", labelNames: ["channel"] },
    totals.packetsOut,
  );
  counter(
    {
      name: "onair_channel_null_packets_replaced_total",
      help: "Null packets overwritten with SCTE-35 or SI packets.",
      labelNames: ["channel"],
    },
    totals.nulls,
  );
  counter(
    {
      name: "onair_channel_packets_inserted_total",
      help: "Packets inserted because no null packet was in reach.",
      labelNames: ["channel"],
    },
    totals.inserted,
  );
  counter(
    {
      name: "onair_channel_output_errors_total",
      help: "Failed attempts of an output (send, open, write), by output.",
      labelNames: ["channel", "output"],
    },
    totals.outputErrors,
  );
  gauge(
    {
      name: "onair_channel_output_failing",
      help: "1 while an output is failing (it retries on its own), else 0.",
      labelNames: ["channel", "output"],
    },
    (g) =>
      each((channel, s) => {
        for (const o of s.outputs ?? []) g.set({ channel, output: o.name }, o.failing ? 1 : 0);
      }),
  );
  gauge(
    { name: "onair_channel_slate_active", help: "1 while the slate is on air instead of the programme.", labelNames: ["channel"] },
    (g) => each((channel, s) => g.set({ channel }, s.slateActive ? 1 : 0)),
  );
}

/** onair_hls_* of a channel's hls output (issue #21). */
function hlsFamilies({ counter, gauge, sources }: Families): void {
  const { totals } = sources;
  const each = sources.eachChannel.bind(sources);
  const c = (name: string, help: string, source: CumulativeTotals): Counter => counter({ name, help, labelNames: ["channel"] }, source);
  c("onair_hls_segments_written_total", "HLS segments written and listed.", totals.hlsSegments);
  c("onair_hls_write_errors_total", "Failed HLS segment, playlist or state writes.", totals.hlsWriteErrors);
  c(
    "onair_hls_long_segments_total",
    "HLS segments longer than the target duration (a GOP longer than segmentSeconds).",
    totals.hlsLongSegments,
  );
  gauge(
    { name: "onair_hls_playlist_age_seconds", help: "Seconds since the HLS media playlist was last written.", labelNames: ["channel"] },
    (g) => each((channel, s) => s.hls?.playlistAgeSeconds != null && g.set({ channel }, s.hls.playlistAgeSeconds)),
  );
  gauge({ name: "onair_hls_target_duration_seconds", help: "The HLS playlist's EXT-X-TARGETDURATION.", labelNames: ["channel"] }, (g) =>
    each((channel, s) => s.hls && g.set({ channel }, s.hls.targetDurationSeconds)),
  );
  gauge(
    { name: "onair_hls_disk_bytes", help: "Bytes of HLS segments on disk (listed or waiting for deletion).", labelNames: ["channel"] },
    (g) => each((channel, s) => s.hls && g.set({ channel }, s.hls.bytesOnDisk)),
  );
}

/** onair_scte35_* and the playlist's media counters. */
function scte35Families({ counter, gauge, sources }: Families): void {
  const { totals } = sources;
  counter(
    {
      name: "onair_scte35_cues_sent_total",
      help: "SCTE-35 sections sent, repeats included, by splice command.",
      labelNames: ["channel", "command"],
    },
    totals.cuesSent,
  );
  counter(
    {
      name: "onair_scte35_cues_repeated_total",
      help: "SCTE-35 sections that repeated an already sent cue.",
      labelNames: ["channel", "command"],
    },
    totals.cuesRepeated,
  );
  counter(
    {
      name: "onair_scte35_cues_late_total",
      help: "SCTE-35 cues sent late or dropped because the splice point was too close.",
      labelNames: ["channel", "command"],
    },
    totals.cuesLate,
  );
  counter(
    {
      name: "onair_playlist_media_missing_total",
      help: "Playlist items planned as filler because their media file is missing or unreadable (counted per run planned).",
      labelNames: ["channel"],
    },
    totals.mediaMissing,
  );
  counter(
    {
      name: "onair_playlist_media_failed_total",
      help: "Playlist files set aside (aired as filler until they change, retried after 10 min) because an FFmpeg run failed on them.",
      labelNames: ["channel"],
    },
    totals.mediaFailed,
  );
  counter(
    { name: "onair_scte35_breaks_due_total", help: "Planned breaks whose splice time has come.", labelNames: ["channel"] },
    totals.breaksDue,
  );
  gauge(
    {
      name: "onair_scte35_seconds_to_next_splice",
      help: "Seconds until the next planned splice point (absent when none is planned).",
      labelNames: ["channel"],
    },
    (g) =>
      sources.eachChannel((channel, s) => {
        if (s.secondsToNextSplice !== null && Number.isFinite(s.secondsToNextSplice)) g.set({ channel }, s.secondsToNextSplice);
      }),
  );
}

/** onair_si_* and onair_ts_monitor_errors_total. */
function siAndMonitorFamilies({ counter, gauge, sources }: Families): void {
  gauge({ name: "onair_si_table_version", help: "version_number of the SI table on air.", labelNames: ["channel", "table"] }, (g) =>
    sources.eachChannel((channel, s) => {
      for (const table of SI_TABLES) {
        const v = s.tableVersions[table];
        if (v !== undefined && Number.isFinite(v)) g.set({ channel, table }, v);
      }
    }),
  );
  counter(
    { name: "onair_si_sections_sent_total", help: "SI sections sent, by table.", labelNames: ["channel", "table"] },
    sources.totals.sections,
  );
  counter(
    {
      name: "onair_ts_monitor_errors_total",
      help: "TR 101 290 errors seen on the channel's output, by indicator and priority.",
      labelNames: ["channel", "indicator", "priority"],
    },
    sources.totals.monitor,
  );
}

/** onair_alerts_*, onair_store_errors_total and onair_metrics_snapshot_errors_total. */
function alertAndStoreFamilies(registry: Registry, { counter, gauge, sources }: Families): void {
  const { totals } = sources;
  counter({ name: "onair_alerts_sent_total", help: "Alert messages delivered." }, totals.alertsSent);
  counter({ name: "onair_alerts_failed_total", help: "Alert deliveries that failed." }, totals.alertsFailed);
  gauge({ name: "onair_alerts_outbox_depth", help: "Alert messages waiting in the outbox." }, (g) => {
    sources.snapshots();
    if (sources.alertsMemo) g.set(sources.alertsMemo.outboxDepth);
  });
  counter({ name: "onair_store_errors_total", help: "Store (SQLite) operations that failed." }, totals.storeErrors);
  const snapshotErrorsCounter: Counter = new Counter({
    name: "onair_metrics_snapshot_errors_total",
    help: "Snapshot callbacks that threw during a scrape.",
    registers: [registry],
    collect: () => {
      sources.snapshots();
      snapshotErrorsCounter.reset();
      snapshotErrorsCounter.inc(sources.snapshotErrors);
    },
  });
}

/** onair_system_* (host CPU and memory) and onair_directory_* (free space of the watched directories). */
function systemFamilies({ counter, gauge }: Families, directories: () => readonly WatchedDirectory[]): void {
  const cpuTotals = new CumulativeTotals();
  counter(
    { name: "onair_system_cpu_seconds_total", help: "Host CPU time summed over all CPUs, by mode.", labelNames: ["mode"] },
    cpuTotals,
    () => {
      const sums: Record<string, number> = { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
      for (const c of cpus()) for (const mode of CPU_MODES) sums[mode] += c.times[mode] / 1000;
      for (const mode of CPU_MODES) cpuTotals.observe({ mode }, sums[mode]);
    },
  );
  gauge({ name: "onair_system_cpus", help: "Number of logical CPUs of the host." }, (g) => g.set(cpus().length));
  gauge({ name: "onair_system_memory_free_bytes", help: "Free memory of the host." }, (g) => g.set(freemem()));
  gauge({ name: "onair_system_memory_total_bytes", help: "Total memory of the host." }, (g) => g.set(totalmem()));
  // a directory that cannot be measured (missing) has no series: /readyz reports it
  const directoryGauge = (name: string, help: string, field: "freeBytes" | "sizeBytes"): void => {
    gauge({ name, help, labelNames: ["directory", "path"] }, async (g) => {
      await Promise.all(
        directories().map(async (d) => {
          try {
            g.set({ directory: d.name, path: d.path }, (await diskSpace(d.path))[field]);
          } catch {
            // no series
          }
        }),
      );
    });
  };
  directoryGauge("onair_directory_free_bytes", "Bytes available to onair on the filesystem of a watched directory.", "freeBytes");
  directoryGauge("onair_directory_size_bytes", "Size of the filesystem of a watched directory.", "sizeBytes");
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
  const sources = new ScrapeSources();
  let directories: readonly WatchedDirectory[] = opts.directories ?? [];
  // the families in exposition order
  const f = families(registry, sources);
  channelFamilies(f);
  channelPacketFamilies(f);
  scte35Families(f);
  siAndMonitorFamilies(f);
  hlsFamilies(f);
  alertAndStoreFamilies(registry, f);
  systemFamilies(f, () => directories);

  const metrics: OnairMetrics = {
    registry,
    ops: createOpsMetrics(registry, opts.cgroup),
    get contentType() {
      return registry.contentType;
    },
    registerChannel(id, snapshot) {
      sources.channels.set(id, snapshot);
      return () => {
        if (sources.channels.get(id) === snapshot) metrics.unregisterChannel(id);
      };
    },
    unregisterChannel: (id) => sources.remove(id),
    setAlertsSource(fn: () => AlertsSnapshot) {
      sources.alertsSource = fn;
    },
    setStoreSource(fn: () => StoreSnapshot) {
      sources.storeSource = fn;
    },
    setDirectories(dirs) {
      directories = [...dirs];
    },
    scrape: () => registry.metrics(),
  };
  return metrics;
}
