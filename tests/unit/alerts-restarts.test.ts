/**
 * Restart alerts over a real SQLite store, with a hand-moved clock and timers: each
 * simulated process begins its run (store/runs.ts), hands the bad ends to a new
 * RestartReporter, and crashes (a crash record) or dies without one.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatAlert, htmlToText, type Alert } from "../../src/alerts/messages.js";
import { CRASH_STABLE_MS, CRASH_WINDOW_MS, RestartReporter } from "../../src/alerts/restarts.js";
import { ManualClock } from "../../src/core/clock.js";
import { openStore, type Store } from "../../src/store/db.js";
import { createBackup, restoreBackup } from "../../src/store/backup.js";
import { beginRun, endRun, recordCrash } from "../../src/store/runs.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const MIN = 60_000;
let dir: string;
let store: Store;
let clock: ManualClock;
let sent: Alert[];
let timers: ManualTimers;
let nextId = 0;

/** Moves the clock, firing the timers that come due on the way. */
function advance(ms: number): void {
  timers.advance(ms);
}

/** One daemon process of `instance`: its run row and its reporter, started. */
function startProcess(instance = "/etc/onair/profiles/news", pid = 1000 + ++nextId) {
  const run = beginRun(store, { instance, pid, nowMs: clock.now() });
  const reporter = new RestartReporter({ store, instance, notify: (a) => sent.push(a), clock, timers });
  reporter.start(run.ended);
  return {
    crash(message: string): void {
      reporter.close();
      recordCrash(store, run.id, {
        atMs: clock.now(),
        error: `Error: ${message}`,
        stack: `Error: ${message}\n    at x`,
        channels: [{ id: "news", state: "running", source: "live" }],
      });
    },
    stop(): void {
      reporter.close();
      endRun(store, run.id, clock.now());
    },
    /** ends with no record at all (kill -9, out of memory) */
    vanish(): void {
      reporter.close();
    },
  };
}

const text = (a: Alert): string => htmlToText(formatAlert(a));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-restarts-"));
  store = openStore(path.join(dir, "onair.db"));
  clock = new ManualClock(Date.UTC(2026, 0, 1), 0);
  sent = [];
  timers = new ManualTimers(clock);
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("restart alerts", () => {
  it("sends nothing after a clean shutdown", () => {
    const p = startProcess();
    advance(5 * MIN);
    p.stop();
    startProcess();
    advance(CRASH_WINDOW_MS);
    expect(sent).toEqual([]);
  });

  it("reports the first crash at the next start, naming the error and the channel states", () => {
    startProcess().crash("boom-xyz");
    advance(2000);
    startProcess();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: "daemon_restarted", cause: "crash", error: "Error: boom-xyz" });
    expect(text(sent[0])).toMatch(/onair restarted after a crash: Error: boom-xyz/);
    expect(text(sent[0])).toMatch(/channels then: news: running/);
  });

  it("reports an exit that left no record as an unclean exit", () => {
    startProcess().vanish();
    advance(2000);
    startProcess();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: "daemon_restarted", cause: "unclean" });
    expect(text(sent[0])).toMatch(/onair restarted after an unclean exit/);
  });

  it("names Node's diagnostic report of an exit that left no record (out of memory)", () => {
    const run = beginRun(store, { instance: "i", pid: 4242, nowMs: clock.now() });
    advance(MIN);
    const seen: Array<[number, number]> = [];
    const next = beginRun(store, {
      instance: "i",
      pid: 4243,
      nowMs: clock.now(),
      findReport: (pid, startedMs) => {
        seen.push([pid, startedMs]);
        return {
          file: "/var/lib/onair/reports/report.20260101.000100.4242.0.001.json",
          event: "Allocation failed - JavaScript heap out of memory",
        };
      },
    });
    expect(seen).toEqual([[4242, clock.now() - MIN]]);
    expect(next.ended.map((e) => e.id)).toEqual([run.id]);
    new RestartReporter({ store, instance: "i", notify: (a) => sent.push(a), clock, timers }).start(next.ended);
    expect(text(sent[0])).toMatch(/unclean exit: no crash record \(out of memory, the watchdog or kill -9\)/);
    expect(text(sent[0])).toContain(
      "Node report /var/lib/onair/reports/report.20260101.000100.4242.0.001.json: Allocation failed - JavaScript heap out of memory",
    );
  });

  it("sends one first message and one summary for 3 crashes in 15 minutes (summary after 10 min stable)", () => {
    for (const n of [1, 2, 3]) {
      const p = startProcess();
      advance(MIN);
      p.crash(`boom-${n}`);
      advance(2000);
    }
    startProcess();
    expect(sent.map((a) => a.kind)).toEqual(["daemon_restarted"]);
    advance(CRASH_STABLE_MS - 1000);
    expect(sent).toHaveLength(1);
    advance(1000);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ kind: "daemon_crash_loop", crashes: 2, lastError: "Error: boom-3", stableMs: CRASH_STABLE_MS });
    expect(text(sent[1])).toMatch(/onair crashed 2 more time\(s\) within 15 min of the first crash, last: Error: boom-3/);
    advance(CRASH_WINDOW_MS);
    expect(sent).toHaveLength(2);
  });

  it("sends the summary when the window closes before 10 minutes of stable running", () => {
    for (const n of [1, 2]) {
      const p = startProcess();
      advance(8 * MIN);
      p.crash(`boom-${n}`);
    }
    // second crash 8 min after the first: the window closes 7 min later, before 10 min stable
    startProcess();
    expect(sent).toHaveLength(1);
    advance(7 * MIN);
    expect(sent.map((a) => a.kind)).toEqual(["daemon_restarted", "daemon_crash_loop"]);
    expect(sent[1]).toMatchObject({ crashes: 1, stableMs: undefined });
  });

  it("never sends one message per restart in a crash loop", () => {
    // 10 crashes 2 min apart: restarts at once, every process dies before any summary timer
    for (let n = 1; n <= 10; n++) {
      const p = startProcess();
      advance(2 * MIN);
      p.crash(`loop-${n}`);
    }
    startProcess();
    advance(CRASH_WINDOW_MS);
    // first (loop-1), summary at the first start past the window (loop-2…loop-8), a new
    // first message (loop-9) opening the next window, its summary after 10 min (loop-10)
    expect(sent.map((a) => a.kind)).toEqual(["daemon_restarted", "daemon_crash_loop", "daemon_restarted", "daemon_crash_loop"]);
    expect(sent.filter((a) => a.kind === "daemon_crash_loop").map((a) => (a.kind === "daemon_crash_loop" ? a.crashes : 0))).toEqual([7, 1]);
  });

  it("keeps the runs of units sharing the store apart", () => {
    startProcess("/etc/onair/profiles/a").vanish();
    startProcess("/etc/onair/profiles/b");
    expect(sent).toEqual([]);
    startProcess("/etc/onair/profiles/a");
    expect(sent).toHaveLength(1);
  });

  it("reports nothing from a restored backup (its run was on air when it was taken)", async () => {
    startProcess().crash("first");
    startProcess().crash("second"); // reports "first"
    const onAir = startProcess(); // counts "second": a window with a summary to come
    expect(sent).toHaveLength(1);
    const backup = await createBackup({ store, destDir: path.join(dir, "backups"), clock });
    onAir.stop();
    store.close();
    await restoreBackup({ from: backup.dir, storePath: path.join(dir, "onair.db"), force: true, clock });
    store = openStore(path.join(dir, "onair.db"));
    startProcess();
    advance(CRASH_WINDOW_MS);
    expect(sent).toHaveLength(1);
  });
});
