/**
 * Backups: an online copy of the store (SQLite's backup API through better-sqlite3, taken
 * while the daemon writes), the sealed profiles (`*.onair`) and the global config, in one
 * directory per backup:
 *
 *   BACKUPS/onair-20250601T033000Z/
 *     onair.db          the store, checked with PRAGMA integrity_check after the copy
 *     profiles/*.onair  the sealed profiles (never a clear profile, never the key)
 *     onair.yaml        the global config, when there is one
 *     manifest.json     what is in it: times, schema version, row counts, file sha256
 *
 * A backup is written under a `.partial` name and renamed when complete, so a directory
 * with the final name is always whole. Retention keeps the newest `keep` backups. Owner
 * only, as the store: directories 0700, files 0600.
 *
 * The key is deliberately not in a backup: a sealed profile next to its key is a clear
 * profile. Keep the key (or its systemd credential) backed up separately.
 *
 * Restore (`onair restore DIR`) copies the store back (the daemon must be stopped), and the
 * profiles and config when asked; see `restoreBackup`.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import type { Store } from "./db.js";
import { settleRestoredRuns } from "./runs.js";

export const BACKUP_PREFIX = "onair-";
export const BACKUP_DB = "onair.db";
export const BACKUP_CONFIG = "onair.yaml";
export const BACKUP_MANIFEST = "manifest.json";
export const DEFAULT_BACKUP_KEEP = 14;
const NAME_RE = /^onair-(\d{8}T\d{6}(?:\d{3})?Z)(?:-(\d+))?$/;

export interface BackupOptions {
  /** the open store (the daemon's connection), or the path of the store file */
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
  /**
   * Pages copied per step of the SQLite backup. The default copies everything in one step:
   * a separate process writing the store between steps would restart the copy (SQLite's
   * rule for writes through another connection), so one step always finishes. The daemon,
   * backing up through its own connection (whose writes do not restart it), may pass a
   * small number to keep its event loop responsive on a large store.
   */
  pagesPerStep?: number;
}

export interface BackupManifest {
  format: 1;
  createdAt: string;
  createdMs: number;
  source: { store: string; profilesDir?: string | undefined; config?: string | undefined };
  schemaVersion: number;
  integrity: "ok";
  rows: Record<string, number>;
  files: { path: string; bytes: number; sha256: string }[];
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  /** backups removed by retention */
  pruned: string[];
}

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.(\d{3})Z$/, "$1Z");
}

function fail(what: string, e: unknown, fields: Record<string, unknown>): OnairError {
  if (e instanceof OnairError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new OnairError("ONAIR_BACKUP_FAILED", `backup: ${what} failed: ${code ?? msg}`, { ...fields, errno: code }, { cause: e });
}

/** `PRAGMA integrity_check` of a SQLite file, read-only: "ok" or the first problems. */
export function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma("integrity_check") as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join("; ");
  } finally {
    db.close();
  }
}

function rowCounts(path: string): { schemaVersion: number; rows: Record<string, number> } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const rows: Record<string, number> = {};
    for (const t of tables) rows[t] = db.prepare(`SELECT count(*) FROM "${t.replace(/"/g, '""')}"`).pluck().get() as number;
    return { schemaVersion: db.pragma("user_version", { simple: true }) as number, rows };
  } finally {
    db.close();
  }
}

/** Backups in `destDir` (complete ones only), newest first. */
export function listBackups(destDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(destDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => NAME_RE.test(n) && existsSync(join(destDir, n, BACKUP_MANIFEST)))
    .sort()
    .reverse()
    .map((n) => join(destDir, n));
}

/** Keeps the newest `keep` backups of `destDir`; returns the removed ones. Also clears stale `.partial` directories. */
export function pruneBackups(destDir: string, keep: number): string[] {
  const removed: string[] = [];
  if (keep <= 0) return removed;
  for (const old of listBackups(destDir).slice(keep)) {
    rmSync(old, { recursive: true, force: true });
    removed.push(old);
  }
  try {
    for (const n of readdirSync(destDir)) {
      if (n.startsWith(`.${BACKUP_PREFIX}`) && n.endsWith(".partial")) rmSync(join(destDir, n), { recursive: true, force: true });
    }
  } catch {
    // destDir vanished: nothing to clear
  }
  return removed;
}

/** Takes one backup (see the module comment). */
export async function createBackup(o: BackupOptions): Promise<BackupResult> {
  const clock = o.clock ?? systemClock;
  const now = clock.now();
  const storePath = typeof o.store === "string" ? o.store : o.store.path;
  const fields = { destDir: o.destDir, store: storePath };
  try {
    mkdirSync(o.destDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fail(`creating ${o.destDir}`, e, fields);
  }
  let name = `${BACKUP_PREFIX}${stamp(now)}`;
  for (let i = 2; existsSync(join(o.destDir, name)); i++) name = `${BACKUP_PREFIX}${stamp(now)}-${i}`;
  const partial = join(o.destDir, `.${name}.partial`);
  const final = join(o.destDir, name);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { mode: 0o700 });
  try {
    const dbCopy = join(partial, BACKUP_DB);
    const step = Math.max(1, Math.min(0x7fffffff, Math.floor(o.pagesPerStep ?? 0x7fffffff)));
    const own = typeof o.store === "string" ? new Database(o.store, { readonly: true, fileMustExist: true }) : undefined;
    try {
      if (own) own.pragma("busy_timeout = 5000");
      const db = own ?? (o.store as Store).raw;
      await db.backup(dbCopy, { progress: () => step });
      // a self-contained file: out of WAL mode (no -wal/-shm beside it), owner only as the store
      const copy = new Database(dbCopy);
      try {
        copy.pragma("journal_mode = DELETE");
      } finally {
        copy.close();
      }
      chmodSync(dbCopy, 0o600);
    } catch (e) {
      throw fail(`copying the store ${storePath}`, e, fields);
    } finally {
      own?.close();
    }
    const integrity = integrityCheck(dbCopy);
    if (integrity !== "ok") {
      throw new OnairError("ONAIR_BACKUP_CORRUPT", `backup of ${storePath} fails PRAGMA integrity_check: ${integrity.slice(0, 200)}`, fields);
    }
    const counts = rowCounts(dbCopy);

    const copied: string[] = [BACKUP_DB];
    if (o.profilesDir && existsSync(o.profilesDir)) {
      const sealed = readdirSync(o.profilesDir).filter((f) => f.endsWith(".onair") && !f.startsWith(".")).sort();
      if (sealed.length > 0) mkdirSync(join(partial, "profiles"), { mode: 0o700 });
      for (const f of sealed) {
        const src = join(o.profilesDir, f);
        if (!statSync(src).isFile()) continue;
        copyFileSync(src, join(partial, "profiles", f));
        chmodSync(join(partial, "profiles", f), 0o600);
        copied.push(join("profiles", f));
      }
    }
    if (o.configPath && existsSync(o.configPath)) {
      copyFileSync(o.configPath, join(partial, BACKUP_CONFIG));
      chmodSync(join(partial, BACKUP_CONFIG), 0o600);
      copied.push(BACKUP_CONFIG);
    }
    const manifest: BackupManifest = {
      format: 1,
      createdAt: new Date(now).toISOString(),
      createdMs: now,
      source: { store: storePath, profilesDir: o.profilesDir, config: o.configPath ?? undefined },
      schemaVersion: counts.schemaVersion,
      integrity: "ok",
      rows: counts.rows,
      files: copied.map((p) => ({ path: p, bytes: statSync(join(partial, p)).size, sha256: sha256(join(partial, p)) })),
    };
    writeFileSync(join(partial, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    renameSync(partial, final);
    const pruned = pruneBackups(o.destDir, o.keep ?? DEFAULT_BACKUP_KEEP);
    return { dir: final, manifest, pruned };
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw fail("writing the backup", e, fields);
  }
}

/** Reads and checks a backup directory: manifest present, every file's sha256 matches, the store passes integrity_check. */
export function checkBackup(dir: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, BACKUP_MANIFEST), "utf8")) as BackupManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EINVAL";
    throw new OnairError("ONAIR_BACKUP_INVALID", `${dir} is not an onair backup (no readable ${BACKUP_MANIFEST}: ${code})`, { dir });
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.files)) {
    throw new OnairError("ONAIR_BACKUP_INVALID", `${dir}: unknown backup format`, { dir });
  }
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    if (!existsSync(p) || sha256(p) !== f.sha256) {
      throw new OnairError("ONAIR_BACKUP_INVALID", `${dir}: ${f.path} is missing or changed since the backup`, { dir, file: f.path });
    }
  }
  const integrity = integrityCheck(join(dir, BACKUP_DB));
  if (integrity !== "ok") throw new OnairError("ONAIR_BACKUP_CORRUPT", `${dir}: the store fails PRAGMA integrity_check`, { dir });
  return manifest;
}

export interface RestoreOptions {
  /** a backup directory (or a directory of backups: the newest is used) */
  from: string;
  /** where the store goes */
  storePath: string;
  /** restore the sealed profiles into this directory */
  profilesDir?: string | undefined;
  /** restore the global config to this file */
  configPath?: string | undefined;
  /** replace an existing store / profile / config (the old store is kept as `*.before-restore-STAMP`) */
  force?: boolean;
  clock?: Clock;
}

export interface RestoreResult {
  backup: string;
  store: string;
  /** the previous store, moved aside */
  keptStore?: string | undefined;
  profiles: string[];
  config?: string | undefined;
}

/**
 * Restores a backup. The daemon must be stopped (`systemctl stop onair`): the store file is
 * replaced under it otherwise. Checks the backup first (checksums, integrity_check); copies
 * the store to a temp name beside the target and renames it over; stale `-wal`/`-shm` files
 * of the old store are moved aside with it.
 */
export function restoreBackup(o: RestoreOptions): RestoreResult {
  const clock = o.clock ?? systemClock;
  let dir = o.from;
  if (!existsSync(join(dir, BACKUP_MANIFEST))) {
    const newest = listBackups(dir)[0];
    if (!newest) throw new OnairError("ONAIR_BACKUP_INVALID", `${dir} is not an onair backup and holds none`, { dir });
    dir = newest;
  }
  const manifest = checkBackup(dir);
  const res: RestoreResult = { backup: dir, store: o.storePath, profiles: [] };
  const profileFiles = manifest.files.filter((f) => f.path.startsWith("profiles/")).map((f) => basename(f.path));
  const hasConfig = manifest.files.some((f) => f.path === BACKUP_CONFIG);

  // refuse before changing anything
  if (!o.force) {
    if (existsSync(o.storePath)) {
      throw new OnairError("ONAIR_RESTORE_EXISTS", `${o.storePath} exists; stop the daemon and give --force to replace it (it is kept beside)`, {
        path: o.storePath,
      });
    }
    if (o.profilesDir) {
      for (const f of profileFiles) {
        const t = join(o.profilesDir, f);
        if (existsSync(t) && sha256(t) !== sha256(join(dir, "profiles", f))) {
          throw new OnairError("ONAIR_RESTORE_EXISTS", `${t} exists and differs; give --force to replace it`, { path: t });
        }
      }
    }
    if (o.configPath && hasConfig && existsSync(o.configPath) && sha256(o.configPath) !== sha256(join(dir, BACKUP_CONFIG))) {
      throw new OnairError("ONAIR_RESTORE_EXISTS", `${o.configPath} exists and differs; give --force to replace it`, { path: o.configPath });
    }
  }

  try {
    mkdirSync(dirname(o.storePath), { recursive: true });
    const tmp = `${o.storePath}.restore-${process.pid}`;
    copyFileSync(join(dir, BACKUP_DB), tmp);
    settleRestoredRuns(tmp, clock.now());
    if (existsSync(o.storePath)) {
      const aside = `${o.storePath}.before-restore-${stamp(clock.now())}`;
      renameSync(o.storePath, aside);
      res.keptStore = aside;
      for (const sfx of ["-wal", "-shm"]) if (existsSync(o.storePath + sfx)) renameSync(o.storePath + sfx, aside + sfx);
    } else {
      for (const sfx of ["-wal", "-shm"]) rmSync(o.storePath + sfx, { force: true });
    }
    renameSync(tmp, o.storePath);
    if (o.profilesDir) {
      mkdirSync(o.profilesDir, { recursive: true });
      for (const f of profileFiles) {
        const t = join(o.profilesDir, f);
        copyFileSync(join(dir, "profiles", f), `${t}.restore-${process.pid}`);
        renameSync(`${t}.restore-${process.pid}`, t);
        res.profiles.push(t);
      }
    }
    if (o.configPath && hasConfig) {
      mkdirSync(dirname(o.configPath), { recursive: true });
      copyFileSync(join(dir, BACKUP_CONFIG), `${o.configPath}.restore-${process.pid}`);
      renameSync(`${o.configPath}.restore-${process.pid}`, o.configPath);
      res.config = o.configPath;
    }
  } catch (e) {
    if (e instanceof OnairError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_RESTORE_FAILED", `restore from ${dir} failed (${code})`, { dir, errno: code }, { cause: e });
  }
  return res;
}

// ---------------------------------------------------------------- daily backup in the daemon

export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BackupSchedulerOptions {
  /** takes one backup (the daemon: `() => createBackup({ store, destDir, profilesDir, configPath, keep, pagesPerStep: 256 })`) */
  run: () => Promise<unknown>;
  clock?: Clock;
  timers?: SchedulerTimers;
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
 * skips that one. Clock and timers are injected; `stop()` cancels the next run (a running
 * backup finishes; `stop()` resolves when it has).
 */
export class BackupScheduler {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly clock: Clock;
  private readonly timers: SchedulerTimers;
  private readonly at: number;
  /** completed runs */
  runs = 0;
  failures = 0;
  lastRunMs: number | undefined;

  constructor(private readonly o: BackupSchedulerOptions) {
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? realTimers;
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
    await this.running;
  }

  /** Takes a backup now (unless one is running). */
  async runNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const r = await this.o.run();
        this.runs++;
        this.lastRunMs = this.clock.now();
        this.o.onDone?.(r);
      } catch (e) {
        this.failures++;
        this.o.onError?.(e);
      } finally {
        this.running = undefined;
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
