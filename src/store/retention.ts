/**
 * Retention (issue #23): the store stays bounded on a box that runs for years.
 *
 * What is kept (global config `retention`):
 * - as-run rows (`asrun`), cues (`cues`) and closed cue requests (`cue_requests` aired or
 *   missed) for `asRunDays` (default 400) after they happened;
 * - schedule items (with their item breaks) and standalone breaks until `itemDays` (default
 *   30, at least 2) after they ended. An item that has not ended, or ended less than 2 days
 *   ago, is never pruned: it may still be in the EIT (p/f, schedule) and holds its event_id
 *   (event-ids.ts);
 * - splice_event_id leases (`splice_event_ids`) until they expire.
 * A pending cue request is never pruned, however old: it is live.
 *
 * The `Pruner` deletes in batches of at most `batchRows` (500) rows, one short IMMEDIATE
 * transaction per batch committed without fsync (`Store.relaxedTransaction`: a delete lost
 * at a power cut is redone by the next run), and yields to the event loop (setImmediate)
 * between batches, so
 * pruning never holds the loop (which paces the streams) for long: each batch is timed and
 * the longest is reported. It runs `startDelayMs` (10 min) after `start()` and then every
 * `periodMs` (1 day), through the injected `Timers` (default `backgroundTimers`: the
 * schedule does not hold the process open). `close()` stops the schedule and waits for a run
 * in progress to stop after its current batch.
 */
import { performance } from "node:perf_hooks";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { Store } from "./db.js";
import { EVENT_ID_REUSE_AFTER_MS } from "./event-ids.js";

export const DEFAULT_AS_RUN_DAYS = 400;
export const DEFAULT_ITEM_DAYS = 30;
/** Items are kept at least this long after they end (EVENT_ID_REUSE_AFTER_MS: out of the EIT, id free). */
export const MIN_ITEM_DAYS = EVENT_ID_REUSE_AFTER_MS / 86_400_000;
export const PRUNE_BATCH_ROWS = 500;
export const PRUNE_START_DELAY_MS = 600_000;
export const PRUNE_PERIOD_MS = 86_400_000;
const DAY_MS = 86_400_000;

export interface Retention {
  /** Days as-run rows, cues and closed cue requests are kept. */
  asRunDays: number;
  /** Days schedule items and standalone breaks are kept after they ended (≥ MIN_ITEM_DAYS). */
  itemDays: number;
}

export const PRUNED_TABLES = ["asrun", "cues", "cue_requests", "schedule_items", "breaks", "splice_event_ids"] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];

export interface PruneResult {
  /** The store clock's time of the run. */
  atMs: number;
  /** Rows deleted per table (item breaks go with their items and are not counted). */
  removed: Record<PrunedTable, number>;
  batches: number;
  /** The longest batch (wall time): how long the event loop was held at most. */
  longestBatchMs: number;
  /** The process CPU time of the batch that used most: what pruning costs itself, a busy machine's waits aside. */
  longestBatchCpuMs: number;
  /** The run stopped early (close()). */
  stopped: boolean;
}

/** One batch: deletes at most `limit` rows older than `cutoff`; returns how many. */
const BATCH_SQL: Record<PrunedTable, string> = {
  asrun: "DELETE FROM asrun WHERE id IN (SELECT id FROM asrun WHERE actual_ms < :cutoff LIMIT :limit)",
  cues: "DELETE FROM cues WHERE id IN (SELECT id FROM cues WHERE created_ms < :cutoff LIMIT :limit)",
  cue_requests: `DELETE FROM cue_requests WHERE (channel, splice_event_id) IN
    (SELECT channel, splice_event_id FROM cue_requests WHERE state <> 'pending' AND done_ms < :cutoff LIMIT :limit)`,
  schedule_items: `DELETE FROM schedule_items WHERE id IN
    (SELECT id FROM schedule_items WHERE start_ms < :cutoff AND start_ms + duration_ms <= :cutoff LIMIT :limit)`,
  breaks:
    "DELETE FROM breaks WHERE id IN (SELECT id FROM breaks WHERE start_ms < :cutoff AND start_ms + duration_ms <= :cutoff LIMIT :limit)",
  splice_event_ids: `DELETE FROM splice_event_ids WHERE (channel, splice_event_id) IN
    (SELECT channel, splice_event_id FROM splice_event_ids WHERE busy_until_ms <= :cutoff LIMIT :limit)`,
};

/** The cutoff of each table at `nowMs`: rows older than it go. */
export function pruneCutoffs(r: Retention, nowMs: number): Record<PrunedTable, number> {
  const asRun = nowMs - r.asRunDays * DAY_MS;
  const items = nowMs - Math.max(r.itemDays, MIN_ITEM_DAYS) * DAY_MS;
  return { asrun: asRun, cues: asRun, cue_requests: asRun, schedule_items: items, breaks: items, splice_event_ids: nowMs };
}

export interface PrunerOptions {
  store: Store;
  retention: Retention;
  timers?: Timers;
  batchRows?: number;
  startDelayMs?: number;
  periodMs?: number;
  /** A run finished (also a run stopped by close()). */
  onPruned?: (r: PruneResult) => void;
  /** A scheduled run failed (a store error); the next one comes at its time. */
  onError?: (err: unknown) => void;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Pruner {
  private readonly timers: Timers;
  private handles: { timeout?: unknown; interval?: unknown } = {};
  private running: Promise<PruneResult> | undefined;
  private closed = false;

  constructor(private readonly o: PrunerOptions) {
    this.timers = o.timers ?? backgroundTimers;
  }

  /** Schedules the runs: `startDelayMs` from now, then every `periodMs`. */
  start(): void {
    if (this.closed || this.handles.timeout !== undefined) return;
    this.handles.timeout = this.timers.setTimeout(() => {
      this.handles.interval = this.timers.setInterval(() => this.scheduled(), this.o.periodMs ?? PRUNE_PERIOD_MS);
      this.scheduled();
    }, this.o.startDelayMs ?? PRUNE_START_DELAY_MS);
  }

  /** Prunes now (a run already in progress is joined); rejects on a store error. */
  pruneNow(): Promise<PruneResult> {
    if (!this.running) {
      this.running = this.run().finally(() => (this.running = undefined));
      // after `running` is cleared: onPruned may start the next run
      this.running.then(
        (r) => this.o.onPruned?.(r),
        () => undefined,
      );
    }
    return this.running;
  }

  /** Stops the schedule and waits for a run in progress to stop after its current batch. */
  async close(): Promise<void> {
    this.closed = true;
    this.timers.clearTimeout(this.handles.timeout);
    this.timers.clearInterval(this.handles.interval);
    await this.running?.catch(() => undefined);
  }

  private scheduled(): void {
    if (this.closed) return;
    this.pruneNow().catch((err: unknown) => this.o.onError?.(err));
  }

  private async run(): Promise<PruneResult> {
    const { store } = this.o;
    const limit = this.o.batchRows ?? PRUNE_BATCH_ROWS;
    const atMs = store.clock.now();
    const cutoffs = pruneCutoffs(this.o.retention, atMs);
    const r: PruneResult = {
      atMs,
      removed: { asrun: 0, cues: 0, cue_requests: 0, schedule_items: 0, breaks: 0, splice_event_ids: 0 },
      batches: 0,
      longestBatchMs: 0,
      longestBatchCpuMs: 0,
      stopped: false,
    };
    for (const table of PRUNED_TABLES) {
      const stmt = store.prepared(BATCH_SQL[table]);
      for (let changes = limit; changes === limit;) {
        if (this.closed) {
          r.stopped = true;
          break;
        }
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        changes = store.relaxedTransaction(`prune ${table}`, () => stmt.run({ cutoff: cutoffs[table], limit }).changes);
        const cpu = process.cpuUsage(cpu0);
        r.longestBatchMs = Math.max(r.longestBatchMs, performance.now() - t0);
        r.longestBatchCpuMs = Math.max(r.longestBatchCpuMs, (cpu.user + cpu.system) / 1000);
        r.batches++;
        r.removed[table] += changes;
        await yieldToLoop();
      }
    }
    return r;
  }
}
