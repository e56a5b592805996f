import { ManualClock } from "../../src/core/clock.js";
import type { Timers } from "../../src/core/timers.js";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  /** repeat period for intervals */
  every?: number;
}

/**
 * The one hand-driven `Timers` for tests. Time is the given `ManualClock`'s monotonic time;
 * firing a timer moves the clock (wall and monotonic) to the timer's due time first.
 */
export class ManualTimers implements Timers {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private waiters: (() => void)[] = [];

  constructor(readonly clock: ManualClock = new ManualClock()) {}

  setTimeout(fn: () => void, ms: number): unknown {
    return this.add(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    return this.add(fn, ms, Math.max(1, ms));
  }
  clearInterval(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** How many timers are pending. */
  get size(): number {
    return this.pending.size;
  }
  /** The delays (ms from now) of the pending timers, soonest first. */
  delays(): number[] {
    const now = this.clock.monotonic();
    return [...this.pending.values()].sort((a, b) => a.at - b.at || a.id - b.id).map((p) => p.at - now);
  }
  /** Resolves once a timer is pending (the code under test is waiting for time to pass). */
  whenPending(): Promise<void> {
    if (this.pending.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** Moves the clock to the earliest timer and fires it; returns its delay, or undefined when none is pending. */
  fireNext(): number | undefined {
    const next = this.earliest(Infinity);
    if (!next) return undefined;
    const delay = next.at - this.clock.monotonic();
    this.fire(next);
    return delay;
  }
  /** Moves time forward by `ms`, firing due timers in order (intervals as often as they fall due). */
  advance(ms: number): void {
    const end = this.clock.monotonic() + ms;
    for (let next = this.earliest(end); next; next = this.earliest(end)) this.fire(next);
    this.clock.advance(end - this.clock.monotonic());
  }

  private add(fn: () => void, ms: number, every?: number): number {
    const id = ++this.seq;
    this.pending.set(id, { id, at: this.clock.monotonic() + Math.max(0, ms), fn, every });
    for (const w of this.waiters.splice(0)) w();
    return id;
  }
  private earliest(limit: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending.values()) {
      if (p.at > limit) continue;
      if (!best || p.at < best.at || (p.at === best.at && p.id < best.id)) best = p;
    }
    return best;
  }
  private fire(p: Pending): void {
    this.clock.advance(Math.max(0, p.at - this.clock.monotonic()));
    if (p.every === undefined) this.pending.delete(p.id);
    else p.at += p.every;
    p.fn();
  }
}
