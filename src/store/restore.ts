/**
 * Checking and restoring a backup (`onair restore DIR`), of either layout: format 2 (the
 * store gzip-compressed as `onair.db.gz`) and format 1 (the store as `onair.db`, written
 * before compression). The daemon must be stopped: the store file is replaced under it
 * otherwise.
 *
 * Contracts: nothing is changed before the backup is checked (every file's sha256, the
 * decompressed store's sha256, PRAGMA integrity_check of the store as it will be put back)
 * and the refusals (an existing store or a differing profile/config without `force`) are
 * decided; the store is written to a temp name beside the target and renamed over; the
 * previous store and its `-wal`/`-shm` are kept beside as `*.before-restore-STAMP`.
 * Hashing, decompression and the integrity check run in the backup worker thread.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import { BACKUP_CONFIG, BACKUP_DB, BACKUP_MANIFEST, listBackups, readManifest, stamp, type BackupManifest } from "./backup-layout.js";
import { withBackupThread, type BackupThread } from "./backup-thread.js";
import { settleRestoredRuns } from "./runs.js";

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

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

/**
 * Checks a backup and writes its store, decompressed, to `storeOut`: every file's sha256
 * against the manifest, the decompressed store's sha256 (format 2), integrity_check.
 */
async function extractStore(dir: string, storeOut: string, thread: BackupThread): Promise<BackupManifest> {
  const manifest = readManifest(dir);
  const sums = await thread.run({ op: "hash", paths: manifest.files.map((f) => join(dir, f.path)) }).catch(() => undefined);
  const bad = sums
    ? manifest.files.find((f, i) => sums[i].sha256 !== f.sha256)
    : manifest.files.find((f) => !existsSync(join(dir, f.path)));
  if (bad || !sums) {
    const file = bad?.path ?? "a file";
    throw new OnairError("ONAIR_BACKUP_INVALID", `${dir}: ${file} is missing or changed since the backup`, { dir, file });
  }
  if (manifest.store) {
    const out = await thread.run({ op: "gunzip", src: join(dir, manifest.store.path), dest: storeOut });
    if (out.sha256 !== manifest.store.sha256) {
      throw new OnairError("ONAIR_BACKUP_INVALID", `${dir}: the store decompressed from ${manifest.store.path} differs from the backup`, {
        dir,
      });
    }
  } else {
    await copyFile(join(dir, BACKUP_DB), storeOut);
  }
  const check = await thread.run({ op: "check", path: storeOut });
  if (check.integrity !== "ok") throw new OnairError("ONAIR_BACKUP_CORRUPT", `${dir}: the store fails PRAGMA integrity_check`, { dir });
  return manifest;
}

/** Reads and checks a backup directory (either format): manifest, checksums, the store's integrity_check. */
export async function checkBackup(dir: string): Promise<BackupManifest> {
  const tmp = mkdtempSync(join(tmpdir(), "onair-check-"));
  try {
    return await withBackupThread((t) => extractStore(dir, join(tmp, BACKUP_DB), t));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Throws ONAIR_RESTORE_EXISTS for what would be replaced without `force`. */
function refuseReplacing(o: RestoreOptions, dir: string, profileFiles: string[], hasConfig: boolean): void {
  if (existsSync(o.storePath)) {
    throw new OnairError(
      "ONAIR_RESTORE_EXISTS",
      `${o.storePath} exists; stop the daemon and give --force to replace it (it is kept beside)`,
      {
        path: o.storePath,
      },
    );
  }
  if (o.profilesDir) {
    for (const f of profileFiles) {
      const t = join(o.profilesDir, f);
      const src = join(dir, "profiles", f);
      // a backup missing its own file is refused by the check that follows (ONAIR_BACKUP_INVALID)
      if (existsSync(t) && existsSync(src) && sha256(t) !== sha256(src)) {
        throw new OnairError("ONAIR_RESTORE_EXISTS", `${t} exists and differs; give --force to replace it`, { path: t });
      }
    }
  }
  const config = join(dir, BACKUP_CONFIG);
  if (o.configPath && hasConfig && existsSync(o.configPath) && existsSync(config) && sha256(o.configPath) !== sha256(config)) {
    throw new OnairError("ONAIR_RESTORE_EXISTS", `${o.configPath} exists and differs; give --force to replace it`, { path: o.configPath });
  }
}

/** Puts the checked store `tmp` in place of `storePath`, moving an existing one (and its -wal/-shm) aside. */
function putStore(tmp: string, storePath: string, nowMs: number): string | undefined {
  let aside: string | undefined;
  if (existsSync(storePath)) {
    aside = `${storePath}.before-restore-${stamp(nowMs)}`;
    renameSync(storePath, aside);
    for (const sfx of ["-wal", "-shm"]) if (existsSync(storePath + sfx)) renameSync(storePath + sfx, aside + sfx);
  } else {
    for (const sfx of ["-wal", "-shm"]) rmSync(storePath + sfx, { force: true });
  }
  renameSync(tmp, storePath);
  return aside;
}

/** Copies `src` to `dest` through a temp name beside it. */
function putFile(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(src, `${dest}.restore-${process.pid}`);
  renameSync(`${dest}.restore-${process.pid}`, dest);
}

/** Restores a backup (see the module comment). */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const clock = o.clock ?? systemClock;
  let dir = o.from;
  if (!existsSync(join(dir, BACKUP_MANIFEST))) {
    const newest = listBackups(dir)[0];
    if (!newest) throw new OnairError("ONAIR_BACKUP_INVALID", `${dir} is not an onair backup and holds none`, { dir });
    dir = newest;
  }
  const tmp = `${o.storePath}.restore-${process.pid}`;
  const res: RestoreResult = { backup: dir, store: o.storePath, profiles: [] };
  const manifest = readManifest(dir);
  const profileFiles = manifest.files.filter((f) => f.path.startsWith("profiles/")).map((f) => basename(f.path));
  const hasConfig = manifest.files.some((f) => f.path === BACKUP_CONFIG);
  // refuse before changing anything
  if (!o.force) refuseReplacing(o, dir, profileFiles, hasConfig);
  try {
    mkdirSync(dirname(o.storePath), { recursive: true });
    await withBackupThread((t) => extractStore(dir, tmp, t));
    settleRestoredRuns(tmp, clock.now());
    res.keptStore = putStore(tmp, o.storePath, clock.now());
    if (o.profilesDir) {
      for (const f of profileFiles) {
        putFile(join(dir, "profiles", f), join(o.profilesDir, f));
        res.profiles.push(join(o.profilesDir, f));
      }
    }
    if (o.configPath && hasConfig) {
      putFile(join(dir, BACKUP_CONFIG), o.configPath);
      res.config = o.configPath;
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof OnairError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_RESTORE_FAILED", `restore from ${dir} failed (${code})`, { dir, errno: code }, { cause: e });
  }
  return res;
}
