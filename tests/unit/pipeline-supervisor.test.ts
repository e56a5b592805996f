/**
 * FfmpegSupervisor timing with an injected clock, timers and spawn: backoff, stable reset,
 * retry limit, stall watchdog and SIGKILL escalation, without waiting real seconds.
 */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import type { ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import type { OnairError } from "../../src/core/errors.js";
import { spawnErrno } from "../../src/pipeline/child.js";
import { FfmpegSupervisor, type ExitedEvent, type SpawnFn } from "../../src/pipeline/supervisor.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { emfileChild, throwingSpawn } from "../helpers/spawn-faults.js";

class FakeChild extends EventEmitter {
  stdout = new PassThrough();
  stderr = new PassThrough();
  stdio: unknown[];
  signals: string[] = [];
  constructor(
    readonly pid: number | undefined,
    /** what the fake does on a signal: exit at once (default) or ignore it */
    private readonly onSignal: "exit" | "ignore" | ((sig: string) => boolean) = "exit",
  ) {
    super();
    this.stdio = [null, this.stdout, this.stderr, new PassThrough()];
  }
  kill(sig: string): boolean {
    this.signals.push(sig);
    const exit = this.onSignal === "exit" || (typeof this.onSignal === "function" && this.onSignal(sig));
    if (exit) this.exit(null, sig);
    return true;
  }
  exit(code: number | null, signal: string | null): void {
    this.emit("exit", code, signal);
    this.emit("close", code, signal);
  }
}

function harness(onSignal?: ConstructorParameters<typeof FakeChild>[1]) {
  const clock = new ManualClock(1_700_000_000_000, 0);
  const timers = new ManualTimers(clock);
  const children: FakeChild[] = [];
  let pid = 1000;
  const spawn: SpawnFn = () => {
    const c = new FakeChild(++pid, onSignal);
    children.push(c);
    return c as unknown as ChildProcess;
  };
  return { clock, timers, children, spawn };
}

const cmd = { command: "ffmpeg", args: ["-i", "x"], progressFd: 3 };

describe("FfmpegSupervisor (injected time)", () => {
  it("restarts after the backoff delay, growing it and capping it", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      backoffMaxMs: 30_000,
      jitter: "none",
    });
    const exits: ExitedEvent[] = [];
    s.on("exited", (e) => exits.push(e));
    s.start();
    for (let i = 0; i < 9; i++) {
      h.children.at(-1)!.exit(1, null);
      expect(s.state).toBe("backoff");
      const d = exits.at(-1)!.nextRetryInMs!;
      h.timers.advance(d - 1);
      expect(h.children).toHaveLength(i + 1); // not yet
      h.timers.advance(1);
      expect(h.children).toHaveLength(i + 2);
    }
    expect(exits.map((e) => e.nextRetryInMs)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(exits.map((e) => e.restartNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(exits.every((e) => e.reason === "exit_code")).toBe(true);
    expect(s.status().restartsByReason.exit_code).toBe(9);
  });

  it("resets the backoff after running stably, and reports recovery", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      jitter: "none",
      stableAfterMs: 60_000,
      stallTimeoutMs: 1e9,
    });
    const exits: ExitedEvent[] = [];
    const recovered: { downMs: number; restarts: number }[] = [];
    s.on("exited", (e) => exits.push(e));
    s.on("recovered", (e) => recovered.push(e));
    s.start();
    for (let i = 0; i < 3; i++) {
      h.children.at(-1)!.exit(1, null);
      h.timers.advance(exits.at(-1)!.nextRetryInMs!);
    }
    expect(exits.map((e) => e.nextRetryInMs)).toEqual([500, 1000, 2000]);
    h.children.at(-1)!.stdout.write(Buffer.alloc(188, 0x47));
    expect(s.state).toBe("running");
    expect(recovered).toEqual([{ downMs: 3500, restarts: 3 }]);
    h.timers.advance(60_000);
    h.children.at(-1)!.exit(0, null);
    expect(exits.at(-1)!.nextRetryInMs).toBe(500);
  });

  it("fires the stall watchdog: SIGTERM, then SIGKILL after the grace period", () => {
    const h = harness((sig) => sig === "SIGKILL"); // ignores SIGTERM, like FFmpeg stuck in a read
    const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn: h.spawn, stallTimeoutMs: 5000, killGraceMs: 2000 });
    const stalls: unknown[] = [];
    const exits: ExitedEvent[] = [];
    s.on("stalled", (e) => stalls.push(e));
    s.on("exited", (e) => exits.push(e));
    s.start();
    const c = h.children[0];
    h.timers.advance(3000);
    c.stdout.write(Buffer.alloc(188, 0x47)); // bytes at t=3 s push the deadline to t=8 s
    h.timers.advance(4999);
    expect(stalls).toHaveLength(0);
    h.timers.advance(1);
    expect(stalls).toEqual([{ pid: c.pid, silentMs: 5000, neverProduced: false }]);
    expect(c.signals).toEqual(["SIGTERM"]);
    h.timers.advance(1999);
    expect(c.signals).toEqual(["SIGTERM"]);
    h.timers.advance(1);
    expect(c.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(exits[0]).toMatchObject({ reason: "stall", signal: "SIGKILL" });
  });

  it("replace() ends the run on purpose and respawns at once: no exited event, no backoff, counted apart", () => {
    const h = harness((sig) => sig === "SIGKILL"); // ignores SIGTERM: the kill grace applies
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      jitter: "none",
      killGraceMs: 2000,
      stallTimeoutMs: 1e9,
    });
    const exits: ExitedEvent[] = [];
    const replaced: unknown[] = [];
    s.on("exited", (e) => exits.push(e));
    s.on("replaced", (e) => replaced.push(e));
    s.start();
    // a failure first: the backoff state must not be touched by the replacements
    h.children[0].exit(1, null);
    h.timers.advance(500);
    h.children[1].stdout.write(Buffer.alloc(188, 0x47));
    h.timers.advance(1000);
    expect(s.replace("planned", "plan_end")).toBe(true);
    expect(h.children[1].signals).toEqual(["SIGTERM"]);
    h.timers.advance(2000);
    expect(h.children[1].signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(replaced).toEqual([{ reason: "planned", detail: "plan_end", runMs: 3000, code: null, signal: "SIGKILL" }]);
    h.timers.advance(0);
    expect(h.children).toHaveLength(3); // respawned with no delay
    h.children[2].exit(0, null); // FFmpeg's own answer to SIGTERM is a clean exit: same thing
    expect(s.replace("manual")).toBe(true); // while in backoff: the pending restart happens now
    expect(h.children).toHaveLength(4);
    expect(exits).toHaveLength(2); // the two real failures only
    expect(exits[1].nextRetryInMs).toBe(1000); // the backoff went on from the first failure, not reset by a replacement
    const st = s.status();
    expect(st.replacements).toEqual({ manual: 1, planned: 1 });
    expect(st.restarts).toBe(2);
    expect(st.restartsByReason.exit_code).toBe(2);
    // stopped: nothing to replace, nothing respawns
    void s.stop();
    h.children[3].exit(null, "SIGTERM");
    expect(s.replace("manual")).toBe(false);
    h.timers.advance(1e6);
    expect(h.children).toHaveLength(4);
  });

  it("replace(…, { overlap }) airs the old run until the new one's first byte, then ends it: no gap, no exited event", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      jitter: "none",
      stallTimeoutMs: 1e9,
    });
    const events: string[] = [];
    s.on("data", (c) => events.push(`data ${c[0]}`));
    s.on("handover", (e) => events.push(`handover ${e.reason} ${e.detail} run ${e.runMs} overlap ${e.overlapMs}`));
    s.on("replaced", (e) => events.push(`replaced handedOver=${e.handedOver}`));
    s.on("exited", () => events.push("exited"));
    s.on("first_data", (e) => events.push(`first_data ${e.startupMs}`));
    s.start();
    h.timers.advance(100);
    h.children[0].stdout.write(Buffer.from([1]));
    h.timers.advance(5000);
    expect(s.replace("planned", "plan_end", { overlap: true })).toBe(true);
    expect(h.children).toHaveLength(2); // spawned beside the old one, which is not signalled yet
    expect(h.children[0].signals).toEqual([]);
    expect(s.replace("planned", "again", { overlap: true })).toBe(true); // one at a time
    expect(h.children).toHaveLength(2);
    h.children[0].stdout.write(Buffer.from([2])); // the old one still airs
    h.timers.advance(300);
    h.children[1].stdout.write(Buffer.from([3]));
    h.children[0].stdout.write(Buffer.from([4])); // after the handover: not aired
    expect(h.children[0].signals).toEqual(["SIGTERM"]);
    expect(events).toEqual([
      "first_data 100",
      "data 1",
      "data 2",
      "first_data 300",
      "handover planned plan_end run 5400 overlap 300",
      "data 3",
      "replaced handedOver=true",
    ]);
    const st = s.status();
    expect(st).toMatchObject({ state: "running", pid: h.children[1].pid, restarts: 0, replacements: { manual: 0, planned: 1 } });
  });

  it("keeps the old run on air when the overlapping new one dies before its first byte, and tries again after the backoff", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      jitter: "none",
      stallTimeoutMs: 1e9,
    });
    const aired: number[] = [];
    const exits: ExitedEvent[] = [];
    let handovers = 0;
    s.on("data", (c) => aired.push(c[0]));
    s.on("exited", (e) => exits.push(e));
    s.on("handover", () => handovers++);
    s.start();
    h.children[0].stdout.write(Buffer.from([1]));
    s.replace("manual", undefined, { overlap: true });
    h.children[1].exit(1, null); // the new one fails at start
    h.children[0].stdout.write(Buffer.from([2]));
    expect(h.children[0].signals).toEqual([]);
    h.timers.advance(499);
    expect(h.children).toHaveLength(2);
    h.timers.advance(1);
    expect(h.children).toHaveLength(3);
    h.children[0].stdout.write(Buffer.from([3]));
    h.children[2].stdout.write(Buffer.from([4]));
    h.children[0].stdout.write(Buffer.from([5]));
    expect(aired).toEqual([1, 2, 3, 4]);
    expect(handovers).toBe(1);
    expect(exits).toEqual([]); // not a crash of the channel: the old run never stopped airing
    expect(s.status()).toMatchObject({ restarts: 1, restartsByReason: { exit_code: 1 }, replacements: { manual: 1, planned: 0 } });
  });

  it("does not take the replaced run's last stderr lines for its successor's", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 500,
      jitter: "none",
      stallTimeoutMs: 1e9,
    });
    const exits: ExitedEvent[] = [];
    s.on("exited", (e) => exits.push(e));
    s.start();
    h.children[0].stdout.write(Buffer.from([1]));
    s.replace("planned", undefined, { overlap: true });
    h.children[0].stderr.write("[error] Connection refused\n"); // the old run dying noisily
    h.children[1].stdout.write(Buffer.from([2]));
    h.children[1].stderr.write("frame=1 ");
    h.timers.advance(60_000);
    h.children[1].exit(1, null);
    expect(exits).toHaveLength(1);
    expect(exits[0].reason).toBe("exit_code"); // not input_unreachable
    expect(exits[0].stderrTail.join("\n")).not.toContain("Connection refused");
  });

  it("stop() during an overlapped replacement ends both FFmpegs", async () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn: h.spawn, stallTimeoutMs: 1e9 });
    s.start();
    h.children[0].stdout.write(Buffer.from([1]));
    s.replace("planned", undefined, { overlap: true });
    await s.stop();
    expect(h.children.map((c) => c.signals)).toEqual([["SIGTERM"], ["SIGTERM"]]);
    expect(s.state).toBe("stopped");
  });

  it("gives up after maxRetries consecutive failures", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, {
      clock: h.clock,
      timers: h.timers,
      spawn: h.spawn,
      backoffMinMs: 100,
      jitter: "none",
      maxRetries: 2,
    });
    const gaveUp: unknown[] = [];
    s.on("gave_up", (e) => gaveUp.push(e));
    s.start();
    h.children.at(-1)!.exit(1, null);
    h.timers.advance(100);
    h.children.at(-1)!.exit(1, null);
    h.timers.advance(200);
    h.children.at(-1)!.exit(1, null);
    expect(h.children).toHaveLength(3);
    expect(s.state).toBe("stopped");
    expect(gaveUp).toEqual([{ restarts: 2 }]);
    h.timers.advance(1e6);
    expect(h.children).toHaveLength(3);
  });

  it("stop() escalates to SIGKILL after stopTimeoutMs and resolves when the child is gone", async () => {
    const h = harness("ignore");
    const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn: h.spawn, stopTimeoutMs: 3000 });
    s.start();
    const c = h.children[0];
    let done = false;
    const p = s.stop().then(() => (done = true));
    expect(c.signals).toEqual(["SIGTERM"]);
    h.timers.advance(3000);
    expect(c.signals).toEqual(["SIGTERM", "SIGKILL"]);
    await Promise.resolve();
    expect(done).toBe(false);
    c.exit(null, "SIGKILL");
    await p;
    expect(s.state).toBe("stopped");
    h.timers.advance(1e6);
    expect(h.children).toHaveLength(1);
  });

  it("classifies a fatal stderr line and ends a child that lingers after it", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn: h.spawn, fatalExitGraceMs: 3000, stallTimeoutMs: 1e9 });
    const exits: ExitedEvent[] = [];
    s.on("exited", (e) => exits.push(e));
    s.start();
    const c = h.children[0];
    c.stderr.write("[error] http://cam.example/live.ts?token=abcdef123456: Server returned 404 Not Found\n");
    h.timers.advance(2999);
    expect(c.signals).toEqual([]);
    h.timers.advance(1);
    expect(c.signals).toEqual(["SIGTERM"]);
    expect(exits[0].reason).toBe("input_unreachable");
    expect(exits[0].fatalLine).toContain("token=***");
    expect(exits[0].fatalLine).not.toContain("abcdef123456");
  });

  it("parses progress from fd 3", () => {
    const h = harness();
    const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn: h.spawn });
    s.start();
    (h.children[0].stdio[3] as PassThrough).write("frame=10\nspeed=1.0x\nprogress=continue\n");
    expect(s.status().lastProgress).toMatchObject({ frame: 10, speed: 1 });
  });

  describe("a spawn that fails is a failed attempt: backoff, exited(spawn_error), never a throw", () => {
    /** Spawns from `faults` in turn (then good children), on a clean harness. */
    function failing(faults: SpawnFn[]) {
      const h = harness();
      const spawn: SpawnFn = (c, a, o) => (faults.shift() ?? h.spawn)(c, a, o);
      const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn, backoffMinMs: 500, jitter: "none" });
      const exits: ExitedEvent[] = [];
      s.on("exited", (e) => exits.push(e));
      return { h, s, exits };
    }

    it.each([
      ["out of file descriptors (Node's child without pid or stdio, then EMFILE)", () => emfileChild(), "EMFILE"],
      ["spawn throwing (E2BIG)", throwingSpawn("E2BIG"), "E2BIG"],
    ] as const)("%s", async (_what, fault, errno) => {
      const { h, s, exits } = failing([fault, fault]);
      expect(() => s.start()).not.toThrow();
      await new Promise((r) => setImmediate(r));
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ reason: "spawn_error", nextRetryInMs: 500, restartNumber: 1 });
      expect((exits[0].error as OnairError).code).toBe("ONAIR_SPAWN_FAILED");
      expect(spawnErrno(exits[0].error)).toBe(errno);
      expect(s.state).toBe("backoff");
      // the retry comes from a timer: it fails the same way, and does not throw either
      expect(() => h.timers.advance(500)).not.toThrow();
      await new Promise((r) => setImmediate(r));
      expect(exits.map((e) => e.nextRetryInMs)).toEqual([500, 1000]);
      h.timers.advance(1000);
      expect(s.state).toBe("starting");
      expect(h.children).toHaveLength(1);
      expect(s.status().restartsByReason.spawn_error).toBe(2);
    });

    it("a child without the -progress pipe it was asked for is killed and fails the attempt", async () => {
      const h = harness();
      const spawn: SpawnFn = (c, a, o) => {
        const child = h.spawn(c, a, o) as unknown as { stdio: unknown[] };
        if (h.children.length === 1) child.stdio = [null, h.children[0].stdout, h.children[0].stderr];
        return child as unknown as ChildProcess;
      };
      const s = new FfmpegSupervisor(cmd, { clock: h.clock, timers: h.timers, spawn, backoffMinMs: 500, jitter: "none" });
      const exits: ExitedEvent[] = [];
      s.on("exited", (e) => exits.push(e));
      s.start();
      expect(h.children[0].signals).toEqual(["SIGKILL"]);
      await new Promise((r) => setImmediate(r));
      expect(exits.map((e) => e.reason)).toEqual(["spawn_error"]);
      expect((exits[0].error as OnairError).fields.missingFds).toEqual([3]);
      h.timers.advance(500);
      expect(h.children).toHaveLength(2);
      expect(s.pid).toBe(h.children[1].pid);
    });

    it("a command source that throws (a playlist out of file descriptors) fails the attempt too", async () => {
      const h = harness();
      let calls = 0;
      const source = (): typeof cmd => {
        if (++calls === 1)
          throw Object.assign(new Error("EMFILE: too many open files, open 'playlist.filtergraph.tmp'"), { code: "EMFILE" });
        return cmd;
      };
      const s = new FfmpegSupervisor(source, { clock: h.clock, timers: h.timers, spawn: h.spawn, backoffMinMs: 500, jitter: "none" });
      const exits: ExitedEvent[] = [];
      s.on("exited", (e) => exits.push(e));
      expect(() => s.start()).not.toThrow();
      await new Promise((r) => setImmediate(r));
      expect(exits.map((e) => e.reason)).toEqual(["spawn_error"]);
      expect(exits[0].error?.message).toContain("the FFmpeg command could not be prepared: EMFILE");
      h.timers.advance(500);
      expect(h.children).toHaveLength(1);
    });

    it("stop() while a failed spawn is pending resolves and spawns nothing more", async () => {
      const { h, s, exits } = failing([() => emfileChild()]);
      s.start();
      await s.stop();
      await new Promise((r) => setImmediate(r));
      expect(s.state).toBe("stopped");
      expect(exits).toHaveLength(0);
      h.timers.advance(60_000);
      expect(h.children).toHaveLength(0);
    });
  });
});
