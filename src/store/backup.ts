/**
 * Backups: an online copy of the store (SQLite's backup API through better-sqlite3, taken
 * while the daemon writes), gzip-compressed, the sealed profiles (`*.onair`) and the global
 * config, in one directory per backup (layout and retention: backup-layout.ts):
 *
 *   BACKUPS/onair-20250601T033000Z/
 *     onair.db.gz       the store, checked with PRAGMA integrity_check after the copy
 *     profiles/*.onair  the sealed profiles (never a clear profile, never the key)
 *     onair.yaml        the global config, when there is one
 *     manifest.json     what is in it: times, schema version, row counts, file sha256
 *
 * A backup is written under a `.partial` name and renamed when complete, so a directory
 * with the final name is always whole. Retention keeps the newest `keep` backups. Owner
 * only, as the store: directories 0700, files 0600. Then it is copied to the `copyTo`
 * targets (backup-copy.ts).
 *
 * Off the event loop: the SQLite copy (through a connection of its own, in one step: a
 * consistent snapshot while the daemon writes), the integrity check, row counts,
 * compression and hashing run in a worker thread (backup-thread.ts, backup-jobs.ts); files
 * are copied with the libuv thread pool. Nothing holds the daemon's event loop for long.
 *
 * The key is deliberately not in a backup: a sealed profile next to its key is a clear
 * profile. Keep the key (or its systemd credential) backed up separately.
 *
 * Restore (`onair restore DIR`): restore.ts, which reads compressed and older uncompressed backups.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import { copyBackup, type CopyFailure, type CopyOutcome, type CopyTarget } from "./backup-copy.js";
import {
  BACKUP_CONFIG,
  BACKUP_DB,
  BACKUP_DB_GZ,
  BACKUP_MANIFEST,
  BACKUP_PREFIX,
  DEFAULT_BACKUP_KEEP,
  pruneBackups,
  stamp,
  type BackupManifest,
} from "./backup-layout.js";
import { BackupThread } from "./backup-thread.js";
import type { Store } from "./db.js";

export { integrityCheck } from "./backup-jobs.js";
export { MOUNT_MARKER, checkMounted, type CopyFailure, type CopyOutcome, type CopyTarget } from "./backup-copy.js";
export * from "./backup-layout.js";
export { checkBackup, restoreBackup, type RestoreOptions, type RestoreResult } from "./restore.js";

export interface BackupOptions {
  /** the open store (the daemon's; read through a connection of its own), or the path of the store file (not ":memory:") */
  store: Store | string;
  /** the directory that holds the backups (each backup is a subdirectory) */
  destDir: string;
  /** directory of the sealed profiles (`*.onair` are copied) */
  profilesDir?: string | undefined;
  /** the global config file, when there is one */
  configPath?: string | null | undefined;
  /** backups kept after this one (newest first); 0 = no pruning. Default 14. */
  keep?: number;
  clock?: Clock;
  /** directories the finished backup is copied to (backup-copy.ts); a failed copy does not fail the backup */
  copyTo?: readonly CopyTarget[] | undefined;
  /** called for each failed copy (the daemon alerts `backup_copy_failed`) */
  onCopyFailed?: ((f: CopyFailure) => void) | undefined;
  /** cancels the backup (shutdown): it rejects at once, its partial directory removed, no copy reported failed */
  signal?: AbortSignal | undefined;
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  /** backups removed by retention */
  pruned: string[];
  /** one per `copyTo` target, in order */
  copies: CopyOutcome[];
}

function fail(what: string, e: unknown, fields: Record<string, unknown>): OnairError {
  if (e instanceof OnairError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new OnairError("ONAIR_BACKUP_FAILED", `backup: ${what} failed: ${code ?? msg}`, { ...fields, errno: code }, { cause: e });
}

/** Makes `destDir` and picks a free name for a backup taken at `nowMs`. */
function newBackupDir(destDir: string, nowMs: number, fields: Record<string, unknown>): { partial: string; final: string } {
  try {
    mkdirSync(destDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fail(`creating ${destDir}`, e, fields);
  }
  let name = `${BACKUP_PREFIX}${stamp(nowMs)}`;
  for (let i = 2; existsSync(join(destDir, name)); i++) name = `${BACKUP_PREFIX}${stamp(nowMs)}-${i}`;
  const partial = join(destDir, `.${name}.partial`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { mode: 0o700 });
  return { partial, final: join(destDir, name) };
}

/** Copies the sealed profiles and the config into the backup; returns their paths in it. */
async function copyExtras(partial: string, profilesDir: string | undefined, configPath: string | null | undefined): Promise<string[]> {
  const copied: string[] = [];
  const put = async (src: string, rel: string): Promise<void> => {
    await copyFile(src, join(partial, rel));
    await chmod(join(partial, rel), 0o600);
    copied.push(rel);
  };
  if (profilesDir && existsSync(profilesDir)) {
    const sealed = readdirSync(profilesDir).filter(
      (f) => f.endsWith(".onair") && !f.startsWith(".") && statSync(join(profilesDir, f)).isFile(),
    );
    if (sealed.length > 0) await mkdir(join(partial, "profiles"), { mode: 0o700 });
    for (const f of sealed.sort()) await put(join(profilesDir, f), join("profiles", f));
  }
  if (configPath && existsSync(configPath)) await put(configPath, BACKUP_CONFIG);
  return copied;
}

/** Takes one backup, then copies it to `copyTo` (see the module comment). */
export async function createBackup(o: BackupOptions): Promise<BackupResult> {
  const now = (o.clock ?? systemClock).now();
  const storePath = typeof o.store === "string" ? o.store : o.store.path;
  const fields = { destDir: o.destDir, store: storePath };
  const { partial, final } = newBackupDir(o.destDir, now, fields);
  const thread = new BackupThread();
  const cancel = (): void => thread.abandon(new OnairError("ONAIR_BACKUP_FAILED", `backup of ${storePath} cancelled (shutdown)`, fields));
  o.signal?.addEventListener("abort", cancel, { once: true });
  try {
    let manifest: BackupManifest;
    try {
      const raw = join(partial, BACKUP_DB);
      await thread
        .run({ op: "copy", src: storePath, dest: raw })
        .catch((e: unknown) => Promise.reject(fail(`copying the store ${storePath}`, e, fields)));
      const check = await thread.run({ op: "check", path: raw });
      if (check.integrity !== "ok") {
        throw new OnairError(
          "ONAIR_BACKUP_CORRUPT",
          `backup of ${storePath} fails PRAGMA integrity_check: ${check.integrity.slice(0, 200)}`,
          fields,
        );
      }
      const db = await thread.run({ op: "gzip", src: raw, dest: join(partial, BACKUP_DB_GZ) });
      await rm(raw);
      const extras = await copyExtras(partial, o.profilesDir, o.configPath);
      const sums = await thread.run({ op: "hash", paths: extras.map((p) => join(partial, p)) });
      manifest = {
        format: 2,
        createdAt: new Date(now).toISOString(),
        createdMs: now,
        source: { store: storePath, profilesDir: o.profilesDir, config: o.configPath ?? undefined },
        schemaVersion: check.schemaVersion,
        integrity: "ok",
        rows: check.rows,
        files: [{ path: BACKUP_DB_GZ, ...db.gz }, ...extras.map((p, i) => ({ path: p, ...sums[i] }))],
        store: { path: BACKUP_DB_GZ, compression: "gzip", ...db.raw },
      };
      await writeFile(join(partial, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      await rename(partial, final);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      throw fail("writing the backup", e, fields);
    }
    const pruned = await pruneBackups(o.destDir, o.keep ?? DEFAULT_BACKUP_KEEP);
    const copies = await copyBackup(final, manifest, o.copyTo ?? [], { thread, onFailed: o.onCopyFailed, signal: o.signal });
    return { dir: final, manifest, pruned, copies };
  } finally {
    o.signal?.removeEventListener("abort", cancel);
    await thread.close();
  }
}

// ---------------------------------------------------------------- daily backup in the daemon

export interface BackupSchedulerOptions {
  /**
   * takes one backup (the daemon: `(signal) => createBackup({ store, destDir, …, copyTo, onCopyFailed, signal })`);
   * `signal` aborts when `stop()` cancels the run
   */
  run: (signal: AbortSignal) => Promise<unknown>;
  clock?: Clock;
  /** default `backgroundTimers` (unref'd: a pending backup never holds the process open) */
  timers?: Timers;
  /** minute of the UTC day the backup runs at (default 3:30 UTC = 210) */
  atMinuteUtc?: number;
  /** when the last backup was taken (e.g. from `listBackups`); one overdue by a day runs soon after start */
  lastBackupMs?: number | undefined;
  /** delay of a catch-up backup after start (default 5 min: let the channels settle first) */
  catchUpDelayMs?: number;
  onDone?: (result: unknown) => void;
  onError?: (err: unknown) => void;
}

const DAY_MS = 24 * 3600_000;

/**
 * Runs a backup once a day at a fixed UTC minute, and once soon after start when the last
 * one is more than a day old. One at a time: a run still going when the next falls due
 * skips that one. Clock and timers are injected; `stop()` cancels the next run and aborts a
 * running one (its signal), and resolves when it has ended; a run ended so is counted in
 * `cancelled`, not reported to `onError`.
 */
export class BackupScheduler {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly at: number;
  /** completed runs */
  runs = 0;
  failures = 0;
  /** runs aborted by `stop()` */
  cancelled = 0;
  lastRunMs: number | undefined;

  constructor(private readonly o: BackupSchedulerOptions) {
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? backgroundTimers;
    this.at = Math.max(0, Math.min(1439, Math.floor(o.atMinuteUtc ?? 210)));
    this.lastRunMs = o.lastBackupMs;
  }

  /** The wall time of the next daily run after `fromMs`. */
  nextDailyMs(fromMs: number): number {
    const dayStart = Math.floor(fromMs / DAY_MS) * DAY_MS;
    let t = dayStart + this.at * 60_000;
    if (t <= fromMs) t += DAY_MS;
    return t;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const now = this.clock.now();
    const overdue = this.lastRunMs === undefined || now - this.lastRunMs > DAY_MS;
    const daily = this.nextDailyMs(now);
    const catchUp = now + (this.o.catchUpDelayMs ?? 300_000);
    this.arm(overdue && catchUp < daily ? catchUp : daily);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.running;
  }

  /** Takes a backup now (unless one is running). */
  async runNow(): Promise<void> {
    if (this.running) return this.running;
    const abort = (this.abort = new AbortController());
    this.running = (async () => {
      try {
        const r = await this.o.run(abort.signal);
        this.runs++;
        this.lastRunMs = this.clock.now();
        this.o.onDone?.(r);
      } catch (e) {
        if (abort.signal.aborted) this.cancelled++;
        else {
          this.failures++;
          this.o.onError?.(e);
        }
      } finally {
        this.running = undefined;
        this.abort = undefined;
      }
    })();
    return this.running;
  }

  private arm(atMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, atMs - this.clock.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.runNow().then(() => this.arm(this.nextDailyMs(this.clock.now())));
    }, delay);
  }
}
