/**
 * The backup worker thread's script (started by backup-thread.ts from the built
 * `backup-worker.js`). It answers each `{ id, job }` message with `{ id, result }` or
 * `{ id, error: { message, code } }`, one job at a time, in order.
 */
import { parentPort } from "node:worker_threads";
import { runJob, type Job } from "./backup-jobs.js";

export interface JobRequest {
  id: number;
  job: Job;
}

export type JobReply = { id: number; result: unknown } | { id: number; error: { message: string; code?: string | undefined } };

const port = parentPort;
if (port) {
  let queue = Promise.resolve();
  port.on("message", (m: JobRequest) => {
    queue = queue.then(async () => {
      let reply: JobReply;
      try {
        reply = { id: m.id, result: await runJob(m.job) };
      } catch (e) {
        reply = { id: m.id, error: { message: e instanceof Error ? e.message : String(e), code: (e as NodeJS.ErrnoException).code } };
      }
      port.postMessage(reply);
    });
  });
}
