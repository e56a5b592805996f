/**
 * A channel's outages, as its alerts and state see them.
 *
 * - **An outage starts** when the live FFmpeg exits or the switcher goes to the slate (the
 *   first of them gives the outage's start), **and ends** ("recovered") once live has been
 *   back on air for the profile's `restart.stableAfterSeconds`: a channel that comes back for
 *   a moment and fails again is flapping, not recovered, and its outage goes on.
 * - **The input is lost** once per outage: FFmpeg could not reach it (`input_unreachable`),
 *   or a network input's FFmpeg went quiet or stalled (`silent`); **restored** when live airs
 *   again.
 * - **Quiet slate** (`QuietSlate`): a run ended on purpose (playlist replan, API restart)
 *   leaves a gap the slate covers for up to `QUIET_REPLACE_MS`; that slate is expected and is
 *   not reported (no slate alert, no outage). If the new run is not back in time, or the run
 *   crashes, the slate is reported after all, as any other.
 */
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { SwitcherSource } from "./switcher.js";

/** How long the slate of a run ended on purpose may last before it counts as an outage. */
export const QUIET_REPLACE_MS = 10_000;

/** The slate of a run replaced on purpose: expected for a while, not an outage (see the module comment). */
export class QuietSlate {
  /** wall ms until which a switch to the slate is expected */
  private until = 0;
  /** the slate now on air is such an expected one */
  private on = false;

  constructor(private readonly windowMs = QUIET_REPLACE_MS) {}

  /** The live run was ended on purpose at `nowMs`. */
  replaced(nowMs: number): void {
    this.until = nowMs + this.windowMs;
  }

  /** Whether this switch is quiet (expected, not to be reported); call on every switch. */
  switched(to: SwitcherSource, nowMs: number): boolean {
    const quiet = to === "slate" ? nowMs < this.until : this.on;
    if (quiet) {
      this.on = to === "slate";
      if (to === "live") this.until = 0;
    }
    return quiet;
  }

  /** A quiet slate still on air after its window: it is an outage now. */
  overdue(nowMs: number): boolean {
    return this.on && nowMs >= this.until;
  }

  /** Ends the quiet window; true when a quiet slate was on air (it must be reported now). */
  end(): boolean {
    this.until = 0;
    const was = this.on;
    this.on = false;
    return was;
  }
}

export type InputLostReason = "input_unreachable" | "silent";

export interface OutageEvents {
  slate(e: { on: boolean; gapMs: number; reason: string }): void;
  inputLost(e: { reason: InputLostReason; detail?: string | undefined }): void;
  inputRestored(e: { downMs: number }): void;
  recovered(e: { outageMs: number; restarts: number }): void;
  /**
   * `on_air`: live is on air; `off_air`: the switcher went to the slate (a channel still
   * starting stays starting); `slate`: a quiet slate turned into an outage.
   */
  state(s: "on_air" | "off_air" | "slate"): void;
}

export interface OutageTrackerOptions {
  clock: Clock;
  log: Logger;
  /** live must stay on air this long before the outage ends (restart.stableAfterSeconds) */
  stableAfterMs: number;
  /** a network input: live going quiet means the input went silent */
  networkInput: boolean;
  /** the live supervisor's restart count, for `recovered` */
  restarts: () => number;
  on: OutageEvents;
  /** for the stable-run wait (default `backgroundTimers`) */
  timers?: Timers | undefined;
  quietWindowMs?: number | undefined;
}

export class OutageTracker {
  private readonly o: OutageTrackerOptions;
  private readonly timers: Timers;
  private readonly quiet: QuietSlate;
  /** wall ms the outage began, null while none */
  private failedAt: number | null = null;
  /** wall ms the input was lost, until live is on air again */
  private inputLostAt: number | null = null;
  private recoverTimer: unknown;

  constructor(o: OutageTrackerOptions) {
    this.o = o;
    this.timers = o.timers ?? backgroundTimers;
    this.quiet = new QuietSlate(o.quietWindowMs);
  }

  /** The live run was ended on purpose (a replacement without handover). */
  liveReplaced(): void {
    this.quiet.replaced(this.o.clock.now());
  }

  /** The live FFmpeg exited: an outage (if none is running), and no quiet slate any more. */
  liveExited(): void {
    this.reportQuietSlate("live_exited");
    this.cancelRecovery();
    this.failedAt ??= this.o.clock.now();
  }

  /** The input is gone (once per outage). */
  inputLost(reason: InputLostReason, detail?: string): void {
    if (this.inputLostAt !== null) return;
    this.inputLostAt = this.o.clock.now();
    this.o.log.warn({ event: "input_lost", reason, ...(detail ? { detail } : {}) });
    this.o.on.inputLost({ reason, detail });
  }

  /** The switcher changed source. */
  switched(to: SwitcherSource, info: { gapMs: number; reason: string }): void {
    const now = this.o.clock.now();
    const quiet = this.quiet.switched(to, now);
    const event = to === "slate" ? "slate_on" : "slate_off";
    this.o.log.info({ event, gapMs: Math.round(info.gapMs), reason: info.reason, ...(quiet ? { planned: true } : {}) });
    if (quiet) return; // the planned gap of a replaced run: not an outage
    this.o.on.slate({ on: to === "slate", gapMs: info.gapMs, reason: info.reason });
    if (to === "slate") {
      // a network input whose FFmpeg goes quiet: the input went silent (an exit says why itself)
      if (info.reason === "live silent" && this.o.networkInput) this.inputLost("silent");
      this.failedAt ??= now;
      this.o.on.state("off_air");
      return;
    }
    if (this.inputLostAt !== null) {
      this.o.on.inputRestored({ downMs: now - this.inputLostAt });
      this.inputLostAt = null;
    }
    this.awaitStableRun(now);
    this.o.on.state("on_air");
  }

  /** Called often (100 ms): a quiet slate past its window is reported. */
  tick(): void {
    if (this.quiet.overdue(this.o.clock.now())) this.reportQuietSlate("replaced_run_not_back");
  }

  stop(): void {
    this.cancelRecovery();
  }

  /** "recovered" once the live run has been stable for stableAfterMs (once per outage). */
  private awaitStableRun(backAt: number): void {
    if (this.failedAt === null || this.recoverTimer !== undefined) return;
    const failedAt = this.failedAt;
    this.recoverTimer = this.timers.setTimeout(() => {
      this.recoverTimer = undefined;
      this.failedAt = null;
      this.o.on.recovered({ outageMs: backAt - failedAt, restarts: this.o.restarts() });
    }, this.o.stableAfterMs);
  }

  private cancelRecovery(): void {
    if (this.recoverTimer === undefined) return;
    this.timers.clearTimeout(this.recoverTimer);
    this.recoverTimer = undefined;
  }

  /** The slate of a replaced run turned into an outage: reported as any other. */
  private reportQuietSlate(reason: string): void {
    if (!this.quiet.end()) return;
    this.o.log.warn({ event: "slate_on", reason, message: "the replaced FFmpeg run is not back" });
    this.o.on.slate({ on: true, gapMs: 0, reason });
    this.failedAt ??= this.o.clock.now();
    this.o.on.state("slate");
  }
}
