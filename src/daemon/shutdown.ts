/**
 * Shutdown as an ordered list of named closers under one deadline:
 * - the closers run one after the other, in the list's order, each awaited;
 * - a closer that throws (or rejects) is reported to `onFailed` and the next one runs;
 * - when the deadline passes, `onDeadline` is told which closer is still running; that one is
 *   abandoned, and every closer after it is still called, in order, with `late: true`, but not
 *   waited for (what it does synchronously happens: a store closed, a logger flushed);
 * - the deadline timer is cleared when the list is done.
 * It never throws; it resolves with what happened.
 */
import { backgroundTimers, type Timers } from "../core/timers.js";

export interface Closer {
  readonly name: string;
  /** `late`: the deadline has passed and this closer is not waited for */
  close(step: { late: boolean }): void | Promise<void>;
}

export interface ShutdownOptions {
  deadlineMs: number;
  /** the deadline timer (default: unref'd, it does not hold the process open) */
  timers?: Timers | undefined;
  onFailed?: (name: string, err: unknown) => void;
  /** the deadline passed (while `name` was running, or between two closers) */
  onDeadline?: (name: string | undefined) => void;
}

export interface ShutdownReport {
  /** closers that threw or rejected, in order */
  failed: string[];
  /** the deadline passed */
  late: boolean;
  /** the closer still running at the deadline */
  abandoned?: string;
}

/** Runs `closers` in order under `deadlineMs` (see the file comment). */
export async function runClosers(closers: readonly Closer[], o: ShutdownOptions): Promise<ShutdownReport> {
  const timers = o.timers ?? backgroundTimers;
  const report: ShutdownReport = { failed: [], late: false };
  const fail = (name: string, err: unknown): void => {
    report.failed.push(name);
    o.onFailed?.(name, err);
  };
  let running: string | undefined;
  let expire!: () => void;
  const deadline = new Promise<"late">((resolve) => (expire = () => resolve("late")));
  const timer = timers.setTimeout(() => {
    report.late = true;
    if (running !== undefined) report.abandoned = running;
    o.onDeadline?.(running);
    expire();
  }, o.deadlineMs);
  try {
    for (const c of closers) {
      const late = report.late;
      if (!late) running = c.name;
      let done: Promise<unknown>;
      try {
        done = Promise.resolve(c.close({ late })).catch((err: unknown) => fail(c.name, err));
      } catch (err) {
        fail(c.name, err);
        continue;
      }
      if (late) continue;
      await Promise.race([done, deadline]);
      if (!report.late) running = undefined;
    }
  } finally {
    timers.clearTimeout(timer);
  }
  return report;
}
