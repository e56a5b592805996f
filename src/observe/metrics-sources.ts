/**
 * The scrape side of metrics.ts: one snapshot per channel per scrape (memoised until the
 * microtask queue drains; prom-client runs every `collect()` of one `registry.metrics()` in the
 * same synchronous pass), and the counters' exported totals fed from the components'
 * cumulative values (`CumulativeTotals`: a value that went down is a fresh start, so exported
 * counters never go down while the process lives).
 */
import type { Counter } from "prom-client";
import {
  RESTART_REASONS,
  SCTE35_COMMANDS,
  SI_TABLES,
  TR101290_INDICATORS,
  TR101290_INDICATOR_NAMES,
  type AlertsSnapshot,
  type ChannelSnapshot,
  type StoreSnapshot,
} from "./metrics-model.js";

type Labels = Record<string, string>;

/** Exported totals of counters fed with cumulative values that may restart from 0. */
export class CumulativeTotals {
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

/** The totals of every counter family fed from snapshots. */
function newTotals() {
  return {
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
    hlsSegments: new CumulativeTotals(),
    hlsWriteErrors: new CumulativeTotals(),
    hlsLongSegments: new CumulativeTotals(),
    sections: new CumulativeTotals(),
    monitor: new CumulativeTotals(),
    alertsSent: new CumulativeTotals(),
    alertsFailed: new CumulativeTotals(),
    storeErrors: new CumulativeTotals(),
  };
}

export type SnapshotTotals = ReturnType<typeof newTotals>;

/** The registered snapshot functions, read once per scrape. */
export class ScrapeSources {
  readonly channels = new Map<string, () => ChannelSnapshot>();
  readonly totals: SnapshotTotals = newTotals();
  alertsSource: (() => AlertsSnapshot) | undefined;
  storeSource: (() => StoreSnapshot) | undefined;
  /** snapshot callbacks that threw (cumulative) */
  snapshotErrors = 0;
  /** the alerter's snapshot of this scrape, if it answered */
  alertsMemo: AlertsSnapshot | undefined;
  private memo: Map<string, ChannelSnapshot | Error> | undefined;

  /** This scrape's snapshots (a channel whose callback threw has its Error); feeds the counters once per scrape. */
  snapshots(): Map<string, ChannelSnapshot | Error> {
    if (this.memo) return this.memo;
    const m = new Map<string, ChannelSnapshot | Error>();
    for (const [id, fn] of this.channels) {
      try {
        const s = fn();
        m.set(id, s);
        this.feedCounters(id, s);
      } catch (e) {
        this.snapshotErrors++;
        m.set(id, e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.readBoxSources();
    this.memo = m;
    queueMicrotask(() => {
      this.memo = undefined;
    });
    return m;
  }

  /** Calls `fn` for every channel whose snapshot was read at this scrape. */
  eachChannel(fn: (id: string, s: ChannelSnapshot) => void): void {
    for (const [id, s] of this.snapshots()) if (!(s instanceof Error)) fn(id, s);
  }

  /** Forgets a channel and its counter series. */
  remove(id: string): void {
    this.channels.delete(id);
    for (const t of Object.values(this.totals)) t.removeWhere((l) => l.channel === id);
    this.memo = undefined;
  }

  private readBoxSources(): void {
    this.alertsMemo = undefined;
    if (this.alertsSource) {
      try {
        this.alertsMemo = this.alertsSource();
        this.totals.alertsSent.observe({}, this.alertsMemo.sent);
        this.totals.alertsFailed.observe({}, this.alertsMemo.failed);
      } catch {
        this.snapshotErrors++;
      }
    }
    if (this.storeSource) {
      try {
        this.totals.storeErrors.observe({}, this.storeSource().errors);
      } catch {
        this.snapshotErrors++;
      }
    }
  }

  private feedCounters(channel: string, s: ChannelSnapshot): void {
    const totals = this.totals;
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
    if (s.hls) {
      totals.hlsSegments.observe({ channel }, count(s.hls.segments));
      totals.hlsWriteErrors.observe({ channel }, count(s.hls.writeErrors));
      totals.hlsLongSegments.observe({ channel }, count(s.hls.longSegments));
    }
    for (const table of SI_TABLES) totals.sections.observe({ channel, table }, count(s.sectionsSent[table]));
    for (const indicator of TR101290_INDICATOR_NAMES) {
      const priority = String(TR101290_INDICATORS[indicator]);
      totals.monitor.observe({ channel, indicator, priority }, count(s.monitorErrors[indicator]));
    }
  }
}
