/**
 * The slow parts of a backup, which grow with the store: the SQLite copy,
 * `PRAGMA integrity_check` and row counts, sha256 of files, gzip and gunzip. They run in the backup worker thread
 * (backup-worker.ts, driven by backup-thread.ts), never on the daemon's event loop.
 *
 * Contracts: files are streamed (memory stays flat whatever the store's size); written
 * files are owner only (0600); a job's failure rejects with the underlying error (its
 * `code`, e.g. ENOSPC, is kept).
 */
import Database from "better-sqlite3";
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

/** A file's size and sha256 (hex). */
export interface FileSum {
  bytes: number;
  sha256: string;
}

export interface CheckResult {
  /** "ok", or the first problems joined by "; " */
  integrity: string;
  schemaVersion: number;
  rows: Record<string, number>;
}

export type Job =
  | { op: "copy"; src: string; dest: string }
  | { op: "check"; path: string }
  | { op: "hash"; paths: string[] }
  | { op: "gzip"; src: string; dest: string }
  | { op: "gunzip"; src: string; dest: string };

export interface JobResults {
  copy: void;
  check: CheckResult;
  hash: FileSum[];
  /** the source as read and the compressed file as written */
  gzip: { raw: FileSum; gz: FileSum };
  /** the decompressed file as written */
  gunzip: FileSum;
}

/**
 * SQLite's online backup of the store file `src` into `dest`, in one step: one read
 * transaction, so the copy is a consistent snapshot and writers (the daemon, in WAL mode) go
 * on meanwhile; a write between steps would restart a stepped copy from another connection.
 * The copy is one self-contained file (out of WAL mode: no -wal/-shm beside it), 0600.
 */
export async function copyStore(src: string, dest: string): Promise<void> {
  const db = new Database(src, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    await db.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  const copy = new Database(dest);
  try {
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
  await chmod(dest, 0o600);
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

/** integrity_check, schema version (user_version) and the row count of every table. */
export function checkStore(path: string): CheckResult {
  const integrity = integrityCheck(path);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    const rows: Record<string, number> = {};
    if (integrity === "ok")
      for (const t of tables)
        rows[t] = db
          .prepare(`SELECT count(*) FROM "${t.replace(/"/g, '""')}"`)
          .pluck()
          .get() as number;
    return { integrity, schemaVersion: db.pragma("user_version", { simple: true }) as number, rows };
  } finally {
    db.close();
  }
}

/** A pass-through stream that hashes and counts what flows through it. */
class Summer extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
  sum(): FileSum {
    return { bytes: this.bytes, sha256: this.hash.digest("hex") };
  }
}

export async function hashFile(path: string): Promise<FileSum> {
  const s = new Summer();
  await pipeline(createReadStream(path), s, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) void _;
  });
  return s.sum();
}

/** Streams `src` through `transform` into `dest` (0600), hashing both sides. */
async function transformFile(src: string, dest: string, transform: Transform): Promise<{ in: FileSum; out: FileSum }> {
  const before = new Summer();
  const after = new Summer();
  await pipeline(createReadStream(src), before, transform, after, createWriteStream(dest, { mode: 0o600 }));
  await chmod(dest, 0o600);
  return { in: before.sum(), out: after.sum() };
}

export async function runJob(job: Job): Promise<JobResults[Job["op"]]> {
  switch (job.op) {
    case "copy":
      return copyStore(job.src, job.dest);
    case "check":
      return checkStore(job.path);
    case "hash": {
      const sums: FileSum[] = [];
      for (const p of job.paths) sums.push(await hashFile(p));
      return sums;
    }
    case "gzip": {
      const r = await transformFile(job.src, job.dest, createGzip({ level: 6 }));
      return { raw: r.in, gz: r.out };
    }
    case "gunzip":
      return (await transformFile(job.src, job.dest, createGunzip())).out;
  }
}
