/**
 * The one timer seam. Every part that waits takes a `Timers` (default `realTimers`), so unit
 * tests drive time by hand with the one `ManualTimers` in `tests/helpers/manual-timers.ts`.
 *
 * Handles are opaque: a part only hands back to `clear*` what `set*` gave it.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

type NodeTimer = ReturnType<typeof setTimeout>;

/** Node's timers; a pending one keeps the process alive. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeTimer),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeTimer),
};

/** Node's timers, unref'd: for background work (backups, housekeeping) that must not hold the process open. */
export const backgroundTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeTimer),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeTimer),
};
