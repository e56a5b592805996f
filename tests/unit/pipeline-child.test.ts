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
import { defaultSpawn, pipedFds, runChild, spawnChild, spawnErrno, type ChildExit } from "../../src/pipeline/child.js";
import { ManualTimers } from "../helpers/manual-timers.js";
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

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A real Node child that says `ready` once its SIGTERM handler is set, and `term` at each SIGTERM. */
const STUBBORN = "process.on('SIGTERM', () => console.log('term')); console.log('ready'); setInterval(() => {}, 1000);";

/** Resolves at the first stdout line equal to `want`. */
function stdoutLine(child: ChildProcess, want: string): Promise<void> {
  return new Promise((resolve) => {
    let buf = "";
    child.stdout?.on("data", (c: Buffer) => {
      buf += c.toString();
      if (buf.split("\n").includes(want)) resolve();
    });
  });
}

describe("ChildRun (one child lifecycle: spawn → closed → SIGTERM → SIGKILL after the grace)", () => {
  it("sends SIGKILL after the grace to a child that ignores SIGTERM; the run ends once; no process is left", async () => {
    const timers = new ManualTimers();
    const exits: ChildExit[] = [];
    let kills = 0;
    const run = runChild(
      defaultSpawn,
      process.execPath,
      ["-e", STUBBORN],
      { stdio: ["ignore", "pipe", "pipe"] },
      { timers, onExit: (e) => exits.push(e) },
    );
    const pid = run.pid!;
    expect(pid).toBeGreaterThan(0);
    await stdoutLine(run.child, "ready");
    const termed = stdoutLine(run.child, "term");
    run.terminate(2000, () => kills++);
    await termed; // SIGTERM arrived and was ignored
    expect(run.done).toBe(false);
    expect(alive(pid)).toBe(true);
    expect(timers.delays()).toEqual([2000]);
    timers.fireNext(); // the grace is over
    const exit = await run.closed;
    expect(exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(kills).toBe(1);
    expect(exits).toEqual([exit]);
    expect(run.done).toBe(true);
    expect(run.pid).toBeUndefined();
    expect(alive(pid)).toBe(false);
    // over is over: no second end, no signal, a late 'error' is swallowed
    run.terminate(10);
    expect(timers.size).toBe(0);
    expect(() => run.child.emit("error", new Error("late"))).not.toThrow();
    expect(exits).toHaveLength(1);
  });

  it("a child that exits on SIGTERM ends the run before the grace: no SIGKILL, the kill timer is cleared", async () => {
    const timers = new ManualTimers();
    let kills = 0;
    const run = runChild(
      defaultSpawn,
      process.execPath,
      ["-e", "setInterval(() => {}, 1000)"],
      { stdio: ["ignore", "pipe", "pipe"] },
      { timers },
    );
    run.terminate(2000, () => kills++);
    expect(await run.closed).toEqual({ code: null, signal: "SIGTERM" });
    expect(timers.size).toBe(0);
    expect(kills).toBe(0);
    expect(run.child.stdout?.destroyed).toBe(true);
  });

  it("a child that cannot start ends the run once, with its ONAIR_SPAWN_FAILED as spawnError", async () => {
    const exits: ChildExit[] = [];
    const run = runChild(
      defaultSpawn,
      "/nonexistent/onair-no-such-binary",
      [],
      { stdio: ["ignore", "pipe", "pipe"] },
      { onExit: (e) => exits.push(e) },
    );
    expect(run.pid).toBeUndefined();
    const exit = await run.closed;
    expect(exit.code).toBeNull();
    expect(isOnairError(exit.spawnError) && exit.spawnError.code).toBe("ONAIR_SPAWN_FAILED");
    expect(spawnErrno(exit.spawnError)).toBe("ENOENT");
    expect(exits).toHaveLength(1);
    expect(run.done).toBe(true);
  });
});
