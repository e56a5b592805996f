/** Spawn failures as Node produces them, for injected `spawn` functions in unit tests. */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";

/** What Node's spawn returns out of file descriptors: no pid, no stdio at all, EMFILE on its next tick. */
export function emfileChild(): ChildProcess {
  const c = Object.assign(new EventEmitter(), { pid: undefined, stdio: undefined, stdin: null, stdout: null, stderr: null });
  process.nextTick(() =>
    c.emit("error", Object.assign(new Error("spawn ffmpeg EMFILE"), { code: "EMFILE", errno: -24, syscall: "spawn ffmpeg" })),
  );
  return c as unknown as ChildProcess;
}

/** A spawn that throws synchronously, as Node does for E2BIG or an invalid option. */
export function throwingSpawn(code = "E2BIG"): () => never {
  return () => {
    throw Object.assign(new Error(`spawn ${code}`), { code });
  };
}
