/**
 * Store writes that must not stop playout (as-run rows, cue records): a write that fails
 * (full disk → SQLITE_FULL, I/O error, a busy store) is kept in memory and retried, in
 * order, every `retryMs` until the store takes it again.
 *
 * - Order: while rows wait, a new write queues behind them (the as-run log stays in time
 *   order); a retry round stops at the first row that still fails.
 * - Bound: at most `max` rows wait; when full the oldest is dropped and counted (a
 *   week-long outage must not eat the daemon's memory).
 * - Outage: the first failure after a healthy period calls `onOutage` once; the retry that
 *   empties the queue calls `onRecovered` once, with how long it lasted and what was
 *   written and dropped. Every failed attempt calls `onError` (the daemon counts them as
 *   `onair_store_errors_total`).
 * - Writes that cannot wait in the queue (a splice_event_id must be in the store before it
 *   is used, so its caller is refused) report their failure with `noteFailure()`: it counts
 *   and starts an outage like a queued row. While an outage lasts with no row waiting, each
 *   retry round runs `probe` (one small real write) instead; the outage ends when it works.
 * - `health()` says, in O(1), whether an outage is on and what failed first (for /readyz).
 * - `close()` stops the retries and makes one last attempt; it returns what is still lost.
 *
 * Each row is a closure over values fixed when the event happened (actual time, PTS), so a
 * row written late still says when it aired.
 */
import { systemClock, type Clock } from "../core/clock.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { Store } from "./db.js";
import { setAlertState } from "./outbox.js";

export interface StoreWriteOptions {
  store: Store;
  /** rows kept while the store fails (default 10 000) */
  max?: number;
  /** retry period while rows wait (default 2 s) */
  retryMs?: number;
  clock?: Clock;
  /** the retry period's timer (default `backgroundTimers`: waiting rows never hold the process open) */
  timers?: Timers;
  /** every failed attempt (first try or retry) */
  onError?: (err: unknown, w: { what: string; channel?: string | undefined; queued: number }) => void;
  /** once per outage: the first failure after everything had been written */
  onOutage?: (err: unknown, w: { what: string; channel?: string | undefined }) => void;
  /** once per outage: every waiting row is written (or dropped) again */
  onRecovered?: (r: { outageMs: number; written: number; dropped: number }) => void;
  /** a row dropped because the queue was full */
  onDropped?: (w: { what: string; channel?: string | undefined }) => void;
  /**
   * One small real write, run by a retry round while an outage lasts and no row waits (an
   * outage started by `noteFailure`); throwing means the store still fails. Without it such
   * an outage ends at the next retry round.
   */
  probe?: (store: Store) => void;
}

/** The store's write health, for readiness checks. */
export interface StoreHealth {
  /** false from the first failed write until writes work again */
  ok: boolean;
  /** while failing: wall ms of the first failure of this outage */
  since?: number;
  /** while failing: what failed first (`splice_event_id allocation`, `as-run item`…) */
  what?: string;
  channel?: string;
  /** while failing: the last error */
  error?: unknown;
}

interface Pending {
  what: string;
  channel?: string | undefined;
  run: (store: Store) => void;
}

export interface StoreWriteStats {
  /** rows waiting for a retry */
  queued: number;
  /** failed attempts */
  failures: number;
  /** rows written by a retry (after having failed) */
  retried: number;
  /** rows given up because the queue was full */
  dropped: number;
  /** outages seen (first failure after a healthy period) */
  outages: number;
}

export class StoreWriteQueue {
  private readonly pending: Pending[] = [];
  private readonly clock: Clock;
  private readonly max: number;
  private readonly timers: Timers;
  private timer: unknown;
  private outageSince: number | undefined;
  private writtenInOutage = 0;
  private droppedInOutage = 0;
  private closed = false;
  private outageFirst: { what: string; channel?: string | undefined } | undefined;
  private lastError: unknown;
  private readonly counters = { failures: 0, retried: 0, dropped: 0, outages: 0 };

  constructor(private readonly o: StoreWriteOptions) {
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? backgroundTimers;
    this.max = Math.max(1, Math.floor(o.max ?? 10_000));
  }

  /**
   * Writes now when nothing waits, else queues behind the waiting rows. Never throws.
   * Returns true when the row is in the store.
   */
  write(what: string, channel: string | undefined, run: (store: Store) => void): boolean {
    const w: Pending = { what, channel, run };
    if (this.pending.length === 0 && !this.closed) {
      try {
        run(this.o.store);
        return true;
      } catch (err) {
        this.failed(err, w);
      }
    }
    this.enqueue(w);
    return false;
  }

  /**
   * A write made outside the queue failed (its caller could not wait and was refused):
   * counted and an outage like a failed row; the retry rounds probe the store until it works.
   */
  noteFailure(err: unknown, what: string, channel?: string): void {
    this.failed(err, { what, channel, run: () => undefined });
    this.arm();
  }

  /** O(1): whether store writes work, and since when and what failed if not. */
  health(): StoreHealth {
    if (this.outageSince === undefined) return { ok: true };
    return { ok: false, since: this.outageSince, what: this.outageFirst?.what, channel: this.outageFirst?.channel, error: this.lastError };
  }

  /** Retries the waiting rows in order; stops at the first that still fails. */
  flush(): void {
    if (this.pending.length === 0 && this.outageSince !== undefined && this.o.probe && !this.probed()) return;
    while (this.pending.length > 0) {
      const w = this.pending[0];
      try {
        w.run(this.o.store);
      } catch (err) {
        this.failed(err, w);
        return;
      }
      this.pending.shift();
      this.counters.retried++;
      this.writtenInOutage++;
    }
    this.disarm();
    if (this.outageSince !== undefined) {
      const r = { outageMs: this.clock.now() - this.outageSince, written: this.writtenInOutage, dropped: this.droppedInOutage };
      this.outageSince = undefined;
      this.outageFirst = undefined;
      this.lastError = undefined;
      this.writtenInOutage = 0;
      this.droppedInOutage = 0;
      this.o.onRecovered?.(r);
    }
  }

  /** Stops retrying after one last attempt; returns how many rows could not be written. */
  close(): number {
    this.flush();
    this.closed = true;
    this.disarm();
    return this.pending.length;
  }

  stats(): StoreWriteStats {
    return { queued: this.pending.length, ...this.counters };
  }

  /** Runs the probe write; false (and counted) when it fails. */
  private probed(): boolean {
    try {
      this.o.probe?.(this.o.store);
      return true;
    } catch (err) {
      this.failed(err, { what: "write probe", run: () => undefined });
      return false;
    }
  }

  private failed(err: unknown, w: Pending): void {
    this.lastError = err;
    this.counters.failures++;
    this.o.onError?.(err, { what: w.what, channel: w.channel, queued: this.pending.length });
    if (this.outageSince === undefined) {
      this.outageSince = this.clock.now();
      this.outageFirst = { what: w.what, channel: w.channel };
      this.counters.outages++;
      this.o.onOutage?.(err, { what: w.what, channel: w.channel });
    }
  }

  private enqueue(w: Pending): void {
    if (this.pending.length >= this.max) {
      const lost = this.pending.shift() as Pending;
      this.counters.dropped++;
      this.droppedInOutage++;
      this.o.onDropped?.({ what: lost.what, channel: lost.channel });
    }
    this.pending.push(w);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.timers.setInterval(() => this.flush(), this.o.retryMs ?? 2000);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The daemon's probe: one row of `alert_state` (key `store.write_probe`, the time) written,
 * the smallest real write the schema has room for (a full disk or a read-only store fails it).
 */
export function probeWrite(store: Store): void {
  setAlertState(store, "store.write_probe", String(store.clock.now()));
}
