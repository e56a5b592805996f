/**
 * Copies of a finished backup off the box (`backup.copyTo` in the global config): after each
 * backup, its directory is copied into every target directory, each with its own retention.
 *
 * Contracts:
 * - A copy is written under `.onair-STAMP.partial` in the target, checked file by file
 *   against the manifest's sha256 (in the backup worker thread), then renamed: a directory
 *   with a backup's final name in a target is always whole.
 * - A target with `mount: true` must be a mount: it holds the marker file
 *   `.onair-backup-target`, or its device differs from its parent's. Otherwise the copy is
 *   refused (ONAIR_BACKUP_TARGET_NOT_MOUNTED), so that a copy never lands on the root disk
 *   under an unmounted mount point. Such a target is never created; others are (0700).
 * - A failed copy (refused, ENOSPC, a file where the directory should be, a checksum that
 *   differs) is reported in the result and to `onFailed`, never thrown: the local backup
 *   stands. Other targets are still tried.
 * - File copies use the libuv thread pool and hashing the worker thread: the event loop is
 *   not blocked.
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { OnairError } from "../core/errors.js";
import { BACKUP_MANIFEST, DEFAULT_BACKUP_KEEP, pruneBackups, type BackupManifest } from "./backup-layout.js";
import type { BackupThread } from "./backup-thread.js";

/** The marker file that tells a `mount: true` target is the mounted filesystem, not the empty mount point. */
export const MOUNT_MARKER = ".onair-backup-target";

export interface CopyTarget {
  /** absolute directory the backups are copied into */
  dir: string;
  /** copies kept there, newest first (0 = all; default 14) */
  keep?: number | undefined;
  /** the directory must be a mount (marker file or a device unlike its parent's) */
  mount?: boolean | undefined;
}

export type CopyOutcome =
  | { target: string; ok: true; dir: string; pruned: string[] }
  | { target: string; ok: false; backup: string; code: string; message: string; error: unknown };

export type CopyFailure = Extract<CopyOutcome, { ok: false }>;

/** Throws ONAIR_BACKUP_TARGET_NOT_MOUNTED unless `dir` is a directory that is a mount (marker or device). */
export function checkMounted(dir: string): void {
  const refuse = (why: string): OnairError =>
    new OnairError("ONAIR_BACKUP_TARGET_NOT_MOUNTED", `backup copy target ${dir} is not mounted (${why}); copy refused`, { dir });
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw refuse((e as NodeJS.ErrnoException).code ?? "unreadable");
  }
  if (!st.isDirectory()) throw refuse("not a directory");
  if (existsSync(join(dir, MOUNT_MARKER))) return;
  if (st.dev !== statSync(dirname(dir)).dev) return;
  throw refuse(`no ${MOUNT_MARKER} and the same device as ${dirname(dir)}`);
}

function copyError(target: string, e: unknown): OnairError {
  if (e instanceof OnairError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new OnairError(
    "ONAIR_BACKUP_COPY_FAILED",
    `backup copy to ${target} failed: ${code ?? msg}`,
    { dir: target, errno: code },
    { cause: e },
  );
}

/** Copies `backupDir` into `target.dir` and checks it; returns the copy's directory. */
async function copyOne(backupDir: string, manifest: BackupManifest, target: CopyTarget, thread: BackupThread): Promise<string> {
  if (target.mount) checkMounted(target.dir);
  else mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  const name = basename(backupDir);
  const partial = join(target.dir, `.${name}.partial`);
  const final = join(target.dir, name);
  rmSync(partial, { recursive: true, force: true });
  try {
    await mkdir(partial, { mode: 0o700 });
    const paths = [...manifest.files.map((f) => f.path), BACKUP_MANIFEST];
    for (const p of paths) {
      if (p.includes("/")) await mkdir(join(partial, dirname(p)), { recursive: true, mode: 0o700 });
      await copyFile(join(backupDir, p), join(partial, p));
    }
    const [source, ...copies] = await thread.run({
      op: "hash",
      paths: [join(backupDir, BACKUP_MANIFEST), ...paths.map((p) => join(partial, p))],
    });
    const expected = [...manifest.files.map((f) => f.sha256), source.sha256];
    const bad = paths.find((p, i) => copies[i].sha256 !== expected[i]);
    if (bad !== undefined) {
      throw new OnairError(
        "ONAIR_BACKUP_COPY_FAILED",
        `backup copy to ${target.dir} failed: ${bad} differs from the manifest after the copy`,
        {
          dir: target.dir,
          file: bad,
        },
      );
    }
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
    return final;
  } catch (e) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Copies a finished backup (`backupDir`, with its `manifest`) into each target, one after the
 * other, and applies each target's retention. Never throws; see the module comment. Once
 * `signal` aborts (shutdown), no further target is tried and nothing is reported failed.
 */
export async function copyBackup(
  backupDir: string,
  manifest: BackupManifest,
  targets: readonly CopyTarget[],
  o: { thread: BackupThread; onFailed?: ((f: CopyFailure) => void) | undefined; signal?: AbortSignal | undefined },
): Promise<CopyOutcome[]> {
  const out: CopyOutcome[] = [];
  for (const t of targets) {
    if (o.signal?.aborted) break;
    try {
      const dir = await copyOne(backupDir, manifest, t, o.thread);
      out.push({ target: t.dir, ok: true, dir, pruned: await pruneBackups(t.dir, t.keep ?? DEFAULT_BACKUP_KEEP) });
    } catch (e) {
      // cancelled (shutdown): not a failed copy; the rest are not tried
      if (o.signal?.aborted) break;
      const err = copyError(t.dir, e);
      const f: CopyFailure = { target: t.dir, ok: false, backup: basename(backupDir), code: err.code, message: err.message, error: err };
      out.push(f);
      o.onFailed?.(f);
    }
  }
  return out;
}
