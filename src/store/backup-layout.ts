/**
 * The layout of a backup directory and of a directory of backups, shared by the backup, its
 * copies (`backup.copyTo`) and restore:
 *
 *   BACKUPS/onair-20250601T033000Z/
 *     onair.db.gz       the store, gzip-compressed (format 2; format 1 held `onair.db` as is)
 *     profiles/*.onair  the sealed profiles (never a clear profile, never the key)
 *     onair.yaml        the global config, when there is one
 *     manifest.json     what is in it: times, schema version, row counts, file sha256
 *
 * A directory with a final name (`onair-STAMP[-N]`) and a manifest is always whole: it is
 * written under `.onair-STAMP.partial` and renamed when complete.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { OnairError } from "../core/errors.js";

export const BACKUP_PREFIX = "onair-";
/** The store in a format-1 backup (uncompressed), and the name it is restored under. */
export const BACKUP_DB = "onair.db";
/** The store in a format-2 backup: gzip. */
export const BACKUP_DB_GZ = "onair.db.gz";
export const BACKUP_CONFIG = "onair.yaml";
export const BACKUP_MANIFEST = "manifest.json";
export const DEFAULT_BACKUP_KEEP = 14;
const NAME_RE = /^onair-(\d{8}T\d{6}(?:\d{3})?Z)(?:-(\d+))?$/;

/** One file of a backup as stored: its path in the backup directory, size and sha256. */
export interface BackupFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  /** 1: the store as `onair.db`; 2: the store gzip-compressed, described by `store` */
  format: 1 | 2;
  createdAt: string;
  createdMs: number;
  source: { store: string; profilesDir?: string | undefined; config?: string | undefined };
  schemaVersion: number;
  integrity: "ok";
  rows: Record<string, number>;
  /** every file as stored (for format 2 the store is `onair.db.gz`, hashed compressed) */
  files: BackupFile[];
  /** format 2: the store file, its compression, and the size and sha256 of the store once decompressed */
  store?: { path: string; compression: "gzip"; bytes: number; sha256: string };
}

/** A UTC time stamp for names: 20250601T033000Z, with milliseconds when they are not zero. */
export function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d{3})Z$/, "$1Z");
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
export async function pruneBackups(destDir: string, keep: number): Promise<string[]> {
  const removed: string[] = [];
  if (keep <= 0) return removed;
  // removed off the event loop (libuv's threads): a backup's files are megabytes
  for (const old of listBackups(destDir).slice(keep)) {
    await rm(old, { recursive: true, force: true });
    removed.push(old);
  }
  try {
    for (const n of readdirSync(destDir)) {
      if (n.startsWith(`.${BACKUP_PREFIX}`) && n.endsWith(".partial")) await rm(join(destDir, n), { recursive: true, force: true });
    }
  } catch {
    // destDir vanished: nothing to clear
  }
  return removed;
}

/** The manifest of a backup directory, checked for a known format; ONAIR_BACKUP_INVALID otherwise. */
export function readManifest(dir: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, BACKUP_MANIFEST), "utf8")) as BackupManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EINVAL";
    throw new OnairError("ONAIR_BACKUP_INVALID", `${dir} is not an onair backup (no readable ${BACKUP_MANIFEST}: ${code})`, { dir });
  }
  const known = manifest.format === 1 || (manifest.format === 2 && manifest.store?.compression === "gzip");
  if (!known || !Array.isArray(manifest.files)) {
    throw new OnairError("ONAIR_BACKUP_INVALID", `${dir}: unknown backup format`, { dir, format: manifest.format });
  }
  return manifest;
}
