/**
 * Capped exponential backoff with jitter, reset after a stable period. Pure: no timers,
 * time comes from an injected Clock (monotonic) and randomness from an injected source,
 * so tests drive both.
 *
 * Jitter (AWS "Exponential Backoff and Jitter"):
 * - `decorrelated` (default): delay = min(max, uniform(min, 3 × previous delay)); the first
 *   delay after a reset is uniform(min, 1.5 × min). Every delay is in [min, max], grows about
 *   ×3 per failure on average and spreads channels that failed together (a shared input
 *   going down) without ever retrying sooner than `min`. The first retry stays close to
 *   `min` because most crashes of a channel that ran well are one-offs: the output is back
 *   soonest (the slate covers the gap), and repeated failures still spread out fast.
 * - `full`: delay = max(min, uniform(0, min(max, min × 2^attempt))). Widest spread, but
 *   half the retries come early, so `min` is kept as a floor.
 * - `none`: min × 2^attempt, capped (deterministic; for tests and tools).
 *
 * Reset: `started()` marks the start of a run; `next()` after a run that lasted at least
 * `stableAfterMs` starts again from the first delay (the previous failure was long ago and
 * says nothing about this one).
 */
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";

/** Decorrelated jitter: the first delay after a reset is drawn in [min, min × this]. */
const FIRST_SPREAD = 1.5;

export type JitterKind = "decorrelated" | "full" | "none";

export interface BackoffOptions {
  /** First (and smallest) delay, ms. Default 500. */
  minMs?: number;
  /** Largest delay, ms. Default 30 000. */
  maxMs?: number;
  /** Default `decorrelated`. */
  jitter?: JitterKind;
  /** A run this long (from `started()`) resets the backoff. Default 60 000 ms. */
  stableAfterMs?: number;
  /** Uniform [0, 1). Default Math.random. */
  random?: () => number;
  clock?: Clock;
}

export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: JitterKind;
  readonly stableAfterMs: number;
  private readonly random: () => number;
  private readonly clock: Clock;
  /** Failures since the last reset (the number of delays handed out). */
  private failures = 0;
  private previous: number;
  private runStartedAt: number | undefined;
  /** Times the backoff was reset by a stable run. */
  resets = 0;

  constructor(opts: BackoffOptions = {}) {
    this.minMs = opts.minMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    if (!(this.minMs > 0) || !(this.maxMs >= this.minMs)) {
      throw new RangeError(`backoff needs 0 < minMs <= maxMs (got ${this.minMs}, ${this.maxMs})`);
    }
    this.jitter = opts.jitter ?? "decorrelated";
    this.stableAfterMs = opts.stableAfterMs ?? 60_000;
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.previous = this.minMs;
  }

  /** Consecutive failures counted so far (0 after a reset). */
  get attempt(): number {
    return this.failures;
  }

  /** Marks the start of a run (a child spawned, a connection made). */
  started(): void {
    this.runStartedAt = this.clock.monotonic();
  }

  /** True when the current run has lasted long enough to reset the backoff. */
  isStable(): boolean {
    return this.runStartedAt !== undefined && this.clock.monotonic() - this.runStartedAt >= this.stableAfterMs;
  }

  /** Forgets past failures. */
  reset(): void {
    this.failures = 0;
    this.previous = this.minMs;
  }

  /** The delay before the next try, after a failure. Resets first if the run was stable. */
  next(): number {
    if (this.isStable()) {
      this.reset();
      this.resets++;
    }
    this.runStartedAt = undefined;
    const delay = this.compute();
    this.failures++;
    this.previous = delay;
    return delay;
  }

  /** The largest delay the next failure can get (for status displays and tests). */
  upperBound(): number {
    switch (this.jitter) {
      case "decorrelated":
        return Math.min(this.maxMs, this.failures === 0 ? this.minMs * FIRST_SPREAD : this.previous * 3);
      case "full":
      case "none":
        return this.exponential(this.failures);
    }
  }

  private exponential(n: number): number {
    // 2^n overflows to Infinity for large n, which min() caps
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(n, 1024));
  }

  private compute(): number {
    const r = Math.min(Math.max(this.random(), 0), 1);
    switch (this.jitter) {
      case "decorrelated": {
        const hi = this.failures === 0 ? this.minMs * FIRST_SPREAD : Math.max(this.minMs, this.previous * 3);
        return Math.min(this.maxMs, this.minMs + r * (hi - this.minMs));
      }
      case "full":
        return Math.max(this.minMs, r * this.exponential(this.failures));
      case "none":
        return this.exponential(this.failures);
    }
  }
}
