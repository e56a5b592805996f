/**
 * The daemon's store wiring: the channels' as-run and cue rows go through a retry queue (a
 * failed write is held in memory and retried, playout goes on; one `store_write_failed` alert
 * per outage, `store_recovered` when the held-back rows are in), store errors are counted for
 * onair_store_errors_total, /readyz asks `readiness()`; and the daily backup (03:30 UTC, and
 * `backup.catchUpDelayMs` after start when the last one is more than a day old) as a part.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Alert } from "../alerts/index.js";
import type { ResolvedConfig } from "../config/global.js";
import type { Timers } from "../core/timers.js";
import type { OnairLogger } from "../observe/logger.js";
import type { OnairMetrics } from "../observe/metrics.js";
import type { CheckResult } from "../observe/readiness.js";
import { Pruner } from "../store/retention.js";
import { BackupScheduler, createBackup, listBackups, type BackupResult, type CopyFailure } from "../store/backup.js";
import type { Store } from "../store/db.js";
import { StoreWriteQueue, probeWrite, type StoreHealth } from "../store/write-queue.js";
import { part, type Part } from "./parts.js";

export interface StoreWiringOptions {
  store: Store;
  cfg: ResolvedConfig;
  log: OnairLogger;
  metrics: OnairMetrics;
  notify: (a: Alert) => void;
  /** the write queue's retry timer (default: unref'd Node timers) */
  timers?: Timers | undefined;
}

/** The alert fields of a store error: its ONAIR_ code (else ONAIR_STORE_FAILED) and SQLite code. */
export function storeErrorFields(err: unknown): { code: string; sqliteCode?: string; message: string } {
  const e = err as { code?: unknown; fields?: { sqliteCode?: unknown }; message?: unknown };
  const sqliteCode =
    typeof e?.fields?.sqliteCode === "string"
      ? e.fields.sqliteCode
      : typeof e?.code === "string" && e.code.startsWith("SQLITE_")
        ? e.code
        : undefined;
  return {
    code: typeof e?.code === "string" && e.code.startsWith("ONAIR_") ? e.code : "ONAIR_STORE_FAILED",
    ...(sqliteCode ? { sqliteCode } : {}),
    message: err instanceof Error ? err.message : String(err),
  };
}

/** /readyz store check: writes work (no outage of the write queue) and a query answers. */
export function storeReadiness(h: StoreHealth, store: Store): CheckResult {
  if (!h.ok) {
    const e = h.error as { code?: unknown; fields?: { sqliteCode?: unknown } } | undefined;
    const code = typeof e?.code === "string" ? e.code : "ONAIR_STORE_FAILED";
    const sqliteCode = typeof e?.fields?.sqliteCode === "string" ? e.fields.sqliteCode : undefined;
    const since = new Date(h.since ?? Date.now()).toISOString();
    const what = h.channel ? `${h.what} of ${h.channel}` : h.what;
    const reason = `store writes failing since ${since} (${code}${sqliteCode ? ` ${sqliteCode}` : ""}, first: ${what})`;
    return { ok: false, reason, since, code, sqliteCode, what };
  }
  try {
    store.prepared("SELECT 1").get();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `store does not answer: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The write queue of the channels' rows and the store error count. */
export class StoreWiring {
  readonly writes: StoreWriteQueue;
  private errors = 0;

  constructor(private readonly o: StoreWiringOptions) {
    const { store, log, notify } = o;
    this.writes = new StoreWriteQueue({
      store,
      retryMs: o.cfg.file.store.writeRetryMs,
      ...(o.timers ? { timers: o.timers } : {}),
      probe: probeWrite,
      onError: (err, w) => {
        this.errors++;
        log.error({ event: "store_write_failed", channel: w.channel, what: w.what, queued: w.queued, err });
      },
      onOutage: (err, w) => {
        log.error({
          event: "store_outage",
          channel: w.channel,
          what: w.what,
          message: "store writes fail; playout goes on, rows are held in memory and retried",
        });
        notify({
          kind: "store_write_failed",
          path: store.path,
          what: w.channel ? `${w.what} of ${w.channel}` : w.what,
          ...storeErrorFields(err),
        });
      },
      onRecovered: (r) => {
        log.info({ event: "store_recovered", outageMs: r.outageMs, written: r.written, dropped: r.dropped });
        notify({ kind: "store_recovered", path: store.path, outageMs: r.outageMs, written: r.written, dropped: r.dropped });
      },
      onDropped: (w) =>
        log.error({
          event: "store_write_dropped",
          channel: w.channel,
          what: w.what,
          message: "retry queue full: the oldest held-back row is lost",
        }),
    });
    o.metrics.setStoreSource(() => ({ errors: this.errors }));
    o.metrics.ops.watchStore(store, () => this.writes.stats().queued);
  }

  /** A failed store read or write outside the queue: counted and logged (`store_error`). */
  failed(err: unknown, channel?: string, what?: string): void {
    this.errors++;
    this.o.log.error({ event: "store_error", ...(channel !== undefined ? { channel, what } : {}), err });
  }

  /** A channel's `onStoreError`. */
  channelErrors(channel: string): (err: unknown, what: string) => void {
    return (err, what) => this.failed(err, channel, what);
  }

  readiness(): CheckResult {
    return storeReadiness(this.writes.health(), this.o.store);
  }

  /** Closes the queue; rows still held back are lost (logged). */
  close(): void {
    const lost = this.writes.close();
    if (lost > 0)
      this.o.log.error({ event: "store_writes_lost", rows: lost, message: "held-back as-run/cue rows could not be written before exit" });
  }
}

/** When the newest backup in `dir` was made (its manifest's createdMs), if any. */
function lastBackupMs(dir: string): number | undefined {
  const newest = listBackups(dir)[0];
  if (!newest) return undefined;
  try {
    return (JSON.parse(readFileSync(join(newest, "manifest.json"), "utf8")) as { createdMs?: number }).createdMs;
  } catch {
    return undefined;
  }
}

/** The daily backup into DATA_DIR/backups as a part. */
export function backupPart({ store, cfg, log, notify }: Omit<StoreWiringOptions, "metrics">): Part {
  const backupDir = join(cfg.dataDir, "backups");
  const onCopyFailed = (f: CopyFailure): void => {
    log.error({ event: "backup_copy_failed", dir: f.target, backup: f.backup, code: f.code, err: f.error });
    notify({ kind: "backup_copy_failed", path: f.target, backup: f.backup, code: f.code, message: f.message });
  };
  const backups = new BackupScheduler({
    run: (signal) => {
      const copyTo = cfg.file.backup.copyTo;
      return createBackup({
        store,
        destDir: backupDir,
        profilesDir: cfg.profilesDir,
        configPath: cfg.configPath,
        copyTo,
        onCopyFailed,
        signal,
      });
    },
    lastBackupMs: lastBackupMs(backupDir),
    catchUpDelayMs: cfg.file.backup.catchUpDelayMs,
    onDone: (r) => {
      const b = r as BackupResult;
      const copiedTo = b.copies.filter((c) => c.ok).map((c) => c.dir);
      log.info({ event: "backup_done", dir: b.dir, rows: b.manifest.rows, pruned: b.pruned.length, copiedTo });
    },
    onError: (err) => {
      log.error({ event: "backup_failed", dir: backupDir, err });
      const code = (err as { code?: unknown }).code;
      const onairCode = typeof code === "string" && code.startsWith("ONAIR_") ? code : "ONAIR_BACKUP_FAILED";
      notify({ kind: "backup_failed", path: backupDir, code: onairCode, message: err instanceof Error ? err.message : String(err) });
    },
  });
  return part(
    "backups",
    () => backups.start(),
    () => backups.stop(),
  );
}

/** Retention (store/retention.ts) as a part: 10 min after start, then daily, in small batches. */
export function prunePart({ store, cfg, log, metrics, wiring }: Omit<StoreWiringOptions, "notify"> & { wiring: StoreWiring }): Part {
  const pruner = new Pruner({
    store,
    retention: cfg.file.retention,
    onPruned: (r) => {
      log.info({ event: "store_pruned", removed: r.removed, batches: r.batches, longestBatchMs: Math.round(r.longestBatchMs * 10) / 10 });
      metrics.ops.notePrune(r.removed, r.atMs);
    },
    onError: (err) => wiring.failed(err, undefined, "retention prune"),
  });
  return part(
    "retention",
    () => pruner.start(),
    () => pruner.close(),
  );
}
