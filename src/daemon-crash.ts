/**
 * The daemon's own death, process side (the alert side is alerts/restarts.ts):
 * - `enableFatalReports`: Node writes a diagnostic report into DATA_DIR/reports/ on a fatal
 *   error (out of memory, a V8 abort), the one trace such an exit leaves; the newest
 *   `REPORTS_KEPT` are kept, and `scrubReports` drops their environment block (a secret
 *   passed as `env:NAME` would be in it; Node 20 cannot leave it out) at the next start;
 * - `findReport`: the report of a dead process (by pid, written after its start), read at
 *   the next start to name it in the "unclean exit" alert;
 * - `installCrashHandlers`: `uncaughtException` and `unhandledRejection` end the daemon
 *   through `crash` (record, ordered stop), then every child left is SIGKILLed and the
 *   process exits 1; a second fatal error while stopping exits at once the same way;
 * - `killChildren`: SIGKILL to every process whose parent is this one (read from /proc;
 *   Linux, where the daemon runs; elsewhere nothing);
 * - `RunRecord`: this process's row in daemon_runs (store/runs.ts) for the daemon, whose
 *   store failures are logged and never thrown (bookkeeping must not stop playout).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isOnairError } from "./core/errors.js";
import type { Logger } from "./observe/logger.js";
import type { Store } from "./store/db.js";
import { beginRun, endRun, recordCrash, type ChannelState, type ReportInfo, type RunEnd } from "./store/runs.js";

export const REPORTS_KEPT = 10;

/** Node's default report file name: report.YYYYMMDD.HHMMSS.PID.THREAD.SEQ.json */
const REPORT_RE = /^report\.\d{8}\.\d{6}\.(\d+)\.\d+\.\d+\.json$/;

function reportFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => REPORT_RE.test(f))
      .sort();
  } catch {
    return [];
  }
}

/** Removes `environmentVariables` from every report in `dir` that still has it; returns how many were rewritten. */
export function scrubReports(dir: string): number {
  let n = 0;
  for (const f of reportFiles(dir)) {
    const file = join(dir, f);
    try {
      const text = readFileSync(file, "utf8");
      if (!text.includes('"environmentVariables"')) continue;
      const report = JSON.parse(text) as Record<string, unknown>;
      delete report.environmentVariables;
      writeFileSync(`${file}.tmp`, JSON.stringify(report, null, 2), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      n++;
    } catch {
      // a torn report (the process died while writing it): no secret can be read back, leave it
    }
  }
  return n;
}

/** Turns on Node's report on fatal errors into `dir` (made if missing); prunes and scrubs old reports. */
export function enableFatalReports(dir: string, log: Logger): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = reportFiles(dir);
    for (const f of files.slice(0, Math.max(0, files.length - REPORTS_KEPT))) rmSync(join(dir, f), { force: true });
    scrubReports(dir);
    process.report.directory = dir;
    process.report.reportOnFatalError = true;
  } catch (err) {
    log.warn({ event: "fatal_reports_off", dir, err }, "cannot write diagnostic reports on fatal errors");
  }
}

/** The newest report in `dir` of process `pid` written at or after `sinceMs`, with its header.event. */
export function findReport(dir: string, pid: number, sinceMs: number): ReportInfo | undefined {
  const mine = reportFiles(dir).filter((f) => Number(REPORT_RE.exec(f)?.[1]) === pid);
  for (const f of mine.reverse()) {
    const file = join(dir, f);
    try {
      if (statSync(file).mtimeMs < sinceMs) continue;
      const header = (JSON.parse(readFileSync(file, "utf8")) as { header?: { event?: unknown } }).header;
      return { file, event: typeof header?.event === "string" ? header.event : undefined };
    } catch {
      return { file };
    }
  }
  return undefined;
}

/** SIGKILL to every child process of this one still alive (see the module comment). */
export function killChildren(): number {
  let killed = 0;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so parse after the last ")"
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid) {
        process.kill(Number(p), "SIGKILL");
        killed++;
      }
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/** "CODE: message" of an OnairError, "Name: message" of another Error (anything can be thrown). */
export function errorLine(err: unknown): string {
  if (isOnairError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-error thrown: ${typeof err === "string" ? err : (JSON.stringify(err) ?? String(err))}`;
}

/**
 * Handles the process's fatal errors with `crash` (which records and stops; it returns
 * undefined while the daemon is not up, which exits at once), then exits 1. Returns the
 * uninstaller.
 */
export function installCrashHandlers(crash: (err: unknown, origin: string) => Promise<void> | undefined): () => void {
  let crashing = false;
  const exit = (): never => {
    killChildren();
    process.exit(1);
  };
  const onFatal = (err: unknown, origin: string): void => {
    let stopped: Promise<void> | undefined;
    if (!crashing) {
      crashing = true;
      try {
        stopped = crash(err, origin);
      } catch {
        stopped = undefined;
      }
    }
    if (!stopped) {
      process.stderr.write(
        `onair: fatal ${origin} (daemon not up, or stopping after a crash): ${err instanceof Error ? err.stack : errorLine(err)}\n`,
      );
      exit();
      return;
    }
    void stopped.finally(exit);
  };
  const onException = (err: Error, origin: string): void => onFatal(err, origin);
  const onRejection = (reason: unknown): void => onFatal(reason, "unhandledRejection");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}

/** Each channel's state for a crash record (a channel whose status throws is still named). */
export function channelStates(channels: Iterable<{ id: string; state: string; status(): { source: string } }>): ChannelState[] {
  return [...channels].map((c) => {
    try {
      return { id: c.id, state: c.state, source: c.status().source };
    } catch {
      return { id: c.id, state: c.state, source: "?" };
    }
  });
}

/** This process's run in the store (see the module comment). */
export class RunRecord {
  /** earlier runs of the instance that ended badly, not reported yet (oldest first) */
  readonly ended: RunEnd[] = [];
  private readonly id: number | undefined;

  constructor(
    private readonly store: Store,
    instance: string,
    reportDir: string,
    private readonly log: Logger,
  ) {
    this.id = this.attempt("daemon run start", () => {
      const r = beginRun(store, {
        instance,
        pid: process.pid,
        nowMs: Date.now(),
        findReport: (pid, startedMs) => findReport(reportDir, pid, startedMs),
      });
      this.ended.push(...r.ended);
      return r.id;
    });
  }

  /** The crash record: error, stack, channel states. */
  crashed(err: unknown, channels: ChannelState[]): void {
    const id = this.id;
    if (id === undefined) return;
    const stack = err instanceof Error ? err.stack : undefined;
    this.attempt("crash record", () => recordCrash(this.store, id, { atMs: Date.now(), error: errorLine(err), stack, channels }));
  }

  /** A clean end (a crash record stays). */
  clean(): void {
    const id = this.id;
    if (id !== undefined) this.attempt("daemon run end", () => endRun(this.store, id, Date.now()));
  }

  private attempt<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.log.error({ event: "store_error", what, err });
      return undefined;
    }
  }
}
