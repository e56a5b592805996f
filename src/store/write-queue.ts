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
 * - `close()` stops the retries and makes one last attempt; it returns what is still lost.
 *
 * Each row is a closure over values fixed when the event happened (actual time, PTS), so a
 * row written late still says when it aired.
 */
import { systemClock, type Clock } from "../core/clock.js";
import type { Store } from "./db.js";

export interface StoreWriteOptions {
  store: Store;
  /** rows kept while the store fails (default 10 000) */
  max?: number;
  /** retry period while rows wait (default 2 s) */
  retryMs?: number;
  clock?: Clock;
  /** every failed attempt (first try or retry) */
  onError?: (err: unknown, w: { what: string; channel?: string | undefined; queued: number }) => void;
  /** once per outage: the first failure after everything had been written */
  onOutage?: (err: unknown, w: { what: string; channel?: string | undefined }) => void;
  /** once per outage: every waiting row is written (or dropped) again */
  onRecovered?: (r: { outageMs: number; written: number; dropped: number }) => void;
  /** a row dropped because the queue was full */
  onDropped?: (w: { what: string; channel?: string | undefined }) => void;
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
  private timer: NodeJS.Timeout | undefined;
  private outageSince: number | undefined;
  private writtenInOutage = 0;
  private droppedInOutage = 0;
  private closed = false;
  private readonly counters = { failures: 0, retried: 0, dropped: 0, outages: 0 };

  constructor(private readonly o: StoreWriteOptions) {
    this.clock = o.clock ?? systemClock;
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

  /** Retries the waiting rows in order; stops at the first that still fails. */
  flush(): void {
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

  private failed(err: unknown, w: Pending): void {
    this.counters.failures++;
    this.o.onError?.(err, { what: w.what, channel: w.channel, queued: this.pending.length });
    if (this.outageSince === undefined) {
      this.outageSince = this.clock.now();
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
    this.timer = setInterval(() => this.flush(), this.o.retryMs ?? 2000);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
