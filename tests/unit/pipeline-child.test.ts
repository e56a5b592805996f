/**
 * spawnChild: every way a spawn fails becomes one ONAIR_SPAWN_FAILED 'error' on a stand-in
 * child a tick later, never a throw: spawn throwing, Node's child without pid or stdio
 * (EMFILE), a child missing a pipe it was asked for; a good child is handed back as is.
 */
import { spawn as nodeSpawn, type ChildProcess } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { isOnairError, type OnairError } from "../../src/core/errors.js";
import { pipedFds, spawnChild, spawnErrno } from "../../src/pipeline/child.js";
import { emfileChild, throwingSpawn } from "../helpers/spawn-faults.js";

/** A started child (pid 77) whose stdio lacks the entries at `missing`. */
class HalfChild extends EventEmitter {
  readonly pid = 77;
  readonly stdin = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdio: unknown[];
  readonly signals: string[] = [];
  constructor(missing: number[]) {
    super();
    this.stdio = [null, this.stdout, this.stderr, new PassThrough()];
    for (const fd of missing) this.stdio[fd] = undefined;
  }
  kill(sig: string): boolean {
    this.signals.push(sig);
    return true;
  }
}

const STDIO = ["ignore", "pipe", "pipe", "pipe"] as const;

async function spawnError(child: ChildProcess): Promise<OnairError> {
  const [err] = (await once(child, "error")) as [OnairError];
  return err;
}

describe("spawnChild", () => {
  it("turns a spawn that throws into an 'error' on a later tick, with the errno", async () => {
    const child = spawnChild(throwingSpawn("E2BIG"), "/usr/bin/ffmpeg", ["-i", "x"], { stdio: [...STDIO] });
    let early = false;
    child.on("error", () => (early = true));
    expect(early).toBe(false); // not synchronously: the caller attaches its listeners first
    expect(child.pid).toBeUndefined();
    expect(child.stdio[3]).toBeNull();
    expect(child.stdout).toBeNull();
    expect(child.kill("SIGTERM")).toBe(false);
    const err = await spawnError(child);
    expect(isOnairError(err) && err.code).toBe("ONAIR_SPAWN_FAILED");
    expect(spawnErrno(err)).toBe("E2BIG");
    expect(err.message).toBe("/usr/bin/ffmpeg could not be started: E2BIG (argument list too long)");
  });

  it("passes on Node's EMFILE for a child without pid or stdio, which then never throws", async () => {
    const child = spawnChild(() => emfileChild(), "ffmpeg", [], { stdio: [...STDIO] });
    expect(child.stdio[3]).toBeNull();
    const err = await spawnError(child);
    expect(spawnErrno(err)).toBe("EMFILE");
    expect(err.message).toContain("EMFILE (out of file descriptors)");
  });

  it("kills a started child that lacks a pipe it was asked for, and says which", async () => {
    const half = new HalfChild([3]);
    const child = spawnChild(() => half as unknown as ChildProcess, "ffmpeg", [], { stdio: [...STDIO] });
    expect(child).not.toBe(half);
    expect(child.pid).toBeUndefined();
    expect(half.signals).toEqual(["SIGKILL"]);
    const err = await spawnError(child);
    expect(err.code).toBe("ONAIR_SPAWN_FAILED");
    expect(err.fields.missingFds).toEqual([3]);
    // its late errors go nowhere
    expect(() => half.emit("error", new Error("late"))).not.toThrow();
  });

  it("hands back a child with every pipe as it is", () => {
    const full = new HalfChild([]);
    expect(spawnChild(() => full as unknown as ChildProcess, "ffmpeg", [], { stdio: [...STDIO] })).toBe(full);
  });

  it("reports a missing binary with ENOENT", async () => {
    const child = spawnChild(nodeSpawn, "/nonexistent/ffmpeg", [], { stdio: [...STDIO] });
    const err = await spawnError(child);
    expect(spawnErrno(err)).toBe("ENOENT");
  });

  it("reads which fds are pipes", () => {
    expect(pipedFds(["ignore", "pipe", "pipe", "pipe"])).toEqual([1, 2, 3]);
    expect(pipedFds("pipe")).toEqual([0, 1, 2]);
    expect(pipedFds("ignore")).toEqual([]);
    expect(pipedFds(undefined)).toEqual([0, 1, 2]);
  });
});
