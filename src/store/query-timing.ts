/**
 * Timing of the store's queries for onair_store_query_duration_seconds. The store's helpers
 * (`Store.st`, `Store.transaction`) call these; the observer is optional and set once at
 * wiring time (`Store.onQuery`). Cost per query: two `performance.now()` calls and one
 * histogram observe. `iterate()` (lazy) is not timed.
 */
import type Database from "better-sqlite3";

export type QueryObserver = (op: "statement" | "transaction", seconds: number) => void;

/** Runs `fn`, reporting its duration to `observe` (if any) whether it returns or throws. */
export function timed<T>(observe: QueryObserver | undefined, op: "statement" | "transaction", fn: () => T): T {
  if (!observe) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    observe(op, (performance.now() - t0) / 1000);
  }
}

/** Makes the statement's run/get/all report their durations (own properties over the prototype's). */
export function timeStatement(s: Database.Statement, observer: () => QueryObserver | undefined): Database.Statement {
  const proto = Object.getPrototypeOf(s) as Record<"run" | "get" | "all", (...a: unknown[]) => unknown>;
  for (const m of ["run", "get", "all"] as const) {
    const orig = proto[m];
    Object.defineProperty(s, m, { value: (...a: unknown[]) => timed(observer(), "statement", () => orig.apply(s, a)), configurable: true });
  }
  return s;
}
