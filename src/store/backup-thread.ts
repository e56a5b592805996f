/**
 * The main thread's side of the backup worker: `BackupThread.run(job)` sends one job
 * (backup-jobs.ts) to a `node:worker_threads` worker and resolves with its result, so the
 * integrity check, hashing and (de)compression never block the event loop that paces the
 * streams.
 *
 * The worker script is the built `backup-worker.js` beside this module. Run from the
 * TypeScript sources (vitest), this module is `backup-thread.ts` and the script is taken
 * from the build (`dist/src/store/backup-worker.js`): build first (`npm test` does).
 *
 * Contracts: jobs run one at a time in order; a job's error rejects its promise with an
 * Error carrying the worker-side `code` (ENOSPC, SQLITE_CORRUPT…); a dead worker rejects
 * every pending job; `close()` ends the thread (always call it: `withBackupThread`);
 * `abandon()` ends it without waiting (a backup cancelled at shutdown).
 */
import { Worker } from "node:worker_threads";
import type { Job, JobResults } from "./backup-jobs.js";
import type { JobReply, JobRequest } from "./backup-worker.js";

function workerUrl(): URL {
  const fromSources = import.meta.url.endsWith(".ts");
  return new URL(fromSources ? "../../dist/src/store/backup-worker.js" : "./backup-worker.js", import.meta.url);
}

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class BackupThread {
  private readonly worker = new Worker(workerUrl());
  private readonly waiting = new Map<number, Waiter>();
  private seq = 0;
  private dead: Error | undefined;
  private exited: Promise<number> | undefined;
  private abandoned = false;

  constructor() {
    this.worker.on("message", (m: JobReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if ("error" in m) w.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else w.resolve(m.result);
    });
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => this.fail(new Error(`the backup worker thread exited (${code})`)));
  }

  run<K extends Job["op"]>(job: Extract<Job, { op: K }>): Promise<JobResults[K]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise<JobResults[K]>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, job } satisfies JobRequest);
    });
  }

  /** Ends the thread; resolves when it has exited (at once after `abandon`). */
  async close(): Promise<void> {
    this.dead ??= new Error("the backup worker thread is closed");
    this.exited ??= this.worker.terminate();
    if (!this.abandoned) await this.exited;
  }

  /**
   * Ends the thread without waiting for it (a native step, e.g. SQLite's, finishes first):
   * pending and later jobs reject with `reason` now, and the thread no longer holds the
   * process open.
   */
  abandon(reason: Error): void {
    this.abandoned = true;
    this.fail(reason);
    this.worker.unref();
    this.exited ??= this.worker.terminate();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/** Runs `fn` with a backup thread, closed afterwards whatever happens. */
export async function withBackupThread<T>(fn: (t: BackupThread) => Promise<T>): Promise<T> {
  const t = new BackupThread();
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}
