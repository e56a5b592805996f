/**
 * Restart alerts: the daemon's own crashes, reported by the next start (a dead process
 * tells no one), without one message per restart in a crash loop.
 *
 * `start(ends)` gets the previous runs that ended badly and were not reported yet (oldest
 * first, store/runs.ts):
 * - with no crash window open, the first end is sent as `daemon_restarted` ("restarted after
 *   a crash: …" or "… after an unclean exit") and opens a window of `windowMs` (15 min) from
 *   the time it ended;
 * - further ends inside the window are only counted; one `daemon_crash_loop` summary follows
 *   after `stableMs` (10 min) of stable running, or when the window closes: at its end if
 *   this process lives that long, else at the first start after it (then an end past the
 *   window opens a new one).
 * The window (opening time, count, last error) is kept in the store's `alert_state`, per
 * instance, since each crash is a new process. Time comes from the injected clock and
 * timers. A store that fails is logged and skips the bookkeeping; it never stops the start.
 */
import { systemClock, type Clock } from "../core/clock.js";
import { realTimers, type Timers } from "../core/timers.js";
import { silentLogger, type Logger } from "../observe/logger.js";
import type { Store } from "../store/db.js";
import { getAlertState, setAlertState } from "../store/outbox.js";
import { markReported, type RunEnd } from "../store/runs.js";
import type { Alert } from "./messages.js";

export const CRASH_WINDOW_MS = 15 * 60_000;
export const CRASH_STABLE_MS = 10 * 60_000;

interface WindowState {
  openedMs: number;
  counted: number;
  lastError?: string | undefined;
}

export interface RestartReporterOptions {
  store: Store;
  /** the profiles directory served (as in store/runs.ts) */
  instance: string;
  notify: (a: Alert) => void;
  clock?: Clock;
  timers?: Timers;
  windowMs?: number;
  stableMs?: number;
  logger?: Logger;
}

/** What an end's summary line names: the crash's error, else how it ended. */
function describe(end: RunEnd): string {
  return end.outcome === "crash" ? (end.error ?? "crash") : `unclean exit${end.error ? ` (${end.error})` : ""}`;
}

export class RestartReporter {
  private readonly o: RestartReporterOptions;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly windowMs: number;
  private readonly stableMs: number;
  private readonly log: Logger;
  private readonly key: string;
  private timer: unknown;

  constructor(o: RestartReporterOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? realTimers;
    this.windowMs = o.windowMs ?? CRASH_WINDOW_MS;
    this.stableMs = o.stableMs ?? CRASH_STABLE_MS;
    this.log = o.logger ?? silentLogger();
    this.key = `crash_window:${o.instance}`;
  }

  /** Reports `ends` (see the module comment) and arms the summary timer; called once at start. */
  start(ends: readonly RunEnd[]): void {
    try {
      this.report(ends);
    } catch (err) {
      this.log.error({ event: "restart_report_failed", err }, "cannot keep the crash window in the store");
    }
  }

  /** Clears the summary timer (shutdown). */
  close(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private report(ends: readonly RunEnd[]): void {
    const now = this.clock.now();
    let st = this.load();
    if (st && now >= st.openedMs + this.windowMs) st = this.closeWindow(st);
    for (const end of ends) {
      if (st && end.endedMs >= st.openedMs + this.windowMs) st = this.closeWindow(st);
      if (!st) {
        this.o.notify(this.first(end));
        st = { openedMs: end.endedMs, counted: 0 };
      } else {
        st.counted++;
        st.lastError = describe(end);
      }
    }
    this.save(st);
    markReported(
      this.o.store,
      ends.map((e) => e.id),
      now,
    );
    if (st && st.counted > 0) this.arm(st, now);
  }

  private first(end: RunEnd): Alert {
    return {
      kind: "daemon_restarted",
      cause: end.outcome,
      error: end.error,
      endedMs: end.endedMs,
      report: end.report,
      channels: end.channels?.map((c) => `${c.id}: ${c.state}`),
    };
  }

  /** The summary at stable running or at the window's end, whichever comes first. */
  private arm(st: WindowState, now: number): void {
    const untilClose = st.openedMs + this.windowMs - now;
    const stable = this.stableMs < untilClose;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        try {
          if (stable) {
            this.summary(st, this.stableMs);
            this.save({ ...st, counted: 0 });
          } else {
            this.save(this.closeWindow(st));
          }
        } catch (err) {
          this.log.error({ event: "restart_report_failed", err }, "cannot keep the crash window in the store");
        }
      },
      Math.max(0, stable ? this.stableMs : untilClose),
    );
  }

  /** Sends the window's summary if it counted anything; the window is closed (undefined). */
  private closeWindow(st: WindowState): undefined {
    this.summary(st, undefined);
    return undefined;
  }

  private summary(st: WindowState, stableMs: number | undefined): void {
    if (st.counted === 0) return;
    this.o.notify({ kind: "daemon_crash_loop", crashes: st.counted, windowMs: this.windowMs, lastError: st.lastError, stableMs });
  }

  private load(): WindowState | undefined {
    const v = getAlertState(this.o.store, this.key);
    return v ? ((JSON.parse(v) as WindowState | null) ?? undefined) : undefined;
  }

  private save(st: WindowState | undefined): void {
    setAlertState(this.o.store, this.key, JSON.stringify(st ?? null));
  }
}
