/**
 * Daemon runs (migration 5): one row per daemon process, so the next start can tell how the
 * last one ended.
 *
 * - `beginRun` inserts the process's row (outcome NULL: the "running" marker). In the same
 *   transaction, rows of the same instance still open are closed as `unclean`: that process
 *   ended without a clean shutdown and without a crash record (out of memory, the watchdog's
 *   SIGABRT, kill -9, power loss). It returns every crash or unclean end of the instance not
 *   yet reported, oldest first.
 * - `recordCrash` closes the row as `crash` with the error, its stack and the channel states.
 * - `endRun` closes it as `clean` (a shutdown that completed); it never overwrites a crash.
 * - `markReported` marks ends the restart alert has taken into account.
 * - `settleRestoredRuns`: a restored store's runs are history, not news (see there).
 *
 * The instance is the profiles directory served: units sharing one store (onair@A,
 * onair@B) each see only their own runs.
 */
import Database from "better-sqlite3";
import type { Store } from "./db.js";

export interface ChannelState {
  id: string;
  state: string;
  source: string;
}

/** How a previous run of the instance ended badly. */
export interface RunEnd {
  id: number;
  pid: number;
  startedMs: number;
  endedMs: number;
  outcome: "crash" | "unclean";
  /** crash: "Name: message"; unclean: the Node report's event, when there is a report */
  error?: string | undefined;
  stack?: string | undefined;
  channels?: ChannelState[] | undefined;
  /** unclean: the diagnostic report file Node wrote for it */
  report?: string | undefined;
}

export interface CrashRecord {
  atMs: number;
  error: string;
  stack?: string | undefined;
  channels: ChannelState[];
}

/** A diagnostic report Node wrote for a process that died (see daemon-crash.ts). */
export interface ReportInfo {
  file: string;
  /** the report's header.event, e.g. "Allocation failed - JavaScript heap out of memory" */
  event?: string | undefined;
}

interface Row {
  id: number;
  pid: number;
  started_ms: number;
  ended_ms: number;
  outcome: "crash" | "unclean";
  error: string | null;
  stack: string | null;
  channels: string | null;
  report: string | null;
}

function toEnd(r: Row): RunEnd {
  return {
    id: r.id,
    pid: r.pid,
    startedMs: r.started_ms,
    endedMs: r.ended_ms,
    outcome: r.outcome,
    error: r.error ?? undefined,
    stack: r.stack ?? undefined,
    channels: r.channels ? (JSON.parse(r.channels) as ChannelState[]) : undefined,
    report: r.report ?? undefined,
  };
}

export interface BeginRun {
  instance: string;
  pid: number;
  nowMs: number;
  /** the report Node wrote for a dead process of this pid since it started, if any */
  findReport?: (pid: number, startedMs: number) => ReportInfo | undefined;
}

/** Starts this process's run; returns its id and the bad ends not yet reported (see the module comment). */
export function beginRun(store: Store, o: BeginRun): { id: number; ended: RunEnd[] } {
  const db = store.raw;
  return store.transaction("daemon run start", () => {
    const open = db.prepare("SELECT id, pid, started_ms FROM daemon_runs WHERE instance = ? AND outcome IS NULL").all(o.instance) as Array<{
      id: number;
      pid: number;
      started_ms: number;
    }>;
    const close = db.prepare("UPDATE daemon_runs SET outcome = 'unclean', ended_ms = ?, report = ?, error = ? WHERE id = ?");
    for (const r of open) {
      const rep = o.findReport?.(r.pid, r.started_ms);
      close.run(o.nowMs, rep?.file ?? null, rep?.event ?? null, r.id);
    }
    const id = Number(
      db.prepare("INSERT INTO daemon_runs (instance, pid, started_ms) VALUES (?, ?, ?)").run(o.instance, o.pid, o.nowMs).lastInsertRowid,
    );
    const rows = db
      .prepare(
        "SELECT * FROM daemon_runs WHERE instance = ? AND outcome IN ('crash', 'unclean') AND reported_ms IS NULL ORDER BY ended_ms, id",
      )
      .all(o.instance) as Row[];
    return { id, ended: rows.map(toEnd) };
  });
}

/** Closes the run as a crash (only a run still open). */
export function recordCrash(store: Store, id: number, c: CrashRecord): void {
  store.raw
    .prepare("UPDATE daemon_runs SET outcome = 'crash', ended_ms = ?, error = ?, stack = ?, channels = ? WHERE id = ? AND outcome IS NULL")
    .run(c.atMs, c.error, c.stack ?? null, JSON.stringify(c.channels), id);
}

/** Closes the run as clean (only a run still open: a crash record stays). */
export function endRun(store: Store, id: number, nowMs: number): void {
  store.raw.prepare("UPDATE daemon_runs SET outcome = 'clean', ended_ms = ? WHERE id = ? AND outcome IS NULL").run(nowMs, id);
}

/** The restart alert has taken these ends into account. */
export function markReported(store: Store, ids: readonly number[], nowMs: number): void {
  const st = store.raw.prepare("UPDATE daemon_runs SET reported_ms = ? WHERE id = ?");
  store.transaction("daemon runs reported", () => {
    for (const id of ids) st.run(nowMs, id);
  });
}

/**
 * Marks every run of a restored store file as reported and drops its crash windows, so the
 * first start after a restore reports nothing from the backup: the run that was on air when
 * the backup was taken is still open in it and would look like an unclean exit. A store
 * older than migration 5 has nothing to settle.
 */
export function settleRestoredRuns(path: string, nowMs: number): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    const has = (name: string): boolean =>
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (has("daemon_runs")) db.prepare("UPDATE daemon_runs SET reported_ms = ? WHERE reported_ms IS NULL").run(nowMs);
    if (has("alert_state")) db.prepare("DELETE FROM alert_state WHERE key LIKE 'crash\\_window:%' ESCAPE '\\'").run();
  } finally {
    db.close();
  }
}
