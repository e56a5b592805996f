import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/core/clock.js";
import { BackupScheduler, listBackups, pruneBackups } from "../../src/store/backup.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

describe("BackupScheduler", () => {
  it("runs at the configured UTC minute every day", async () => {
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const runs: number[] = [];
    const s = new BackupScheduler({
      run: () => Promise.resolve(void runs.push(clock.now())),
      clock,
      timers,
      atMinuteUtc: 210,
      lastBackupMs: T0 - 3600_000,
    });
    s.start();
    timers.fireNext();
    expect(clock.now()).toBe(Date.UTC(2025, 5, 2, 3, 30));
    await flush();
    timers.fireNext();
    expect(clock.now()).toBe(Date.UTC(2025, 5, 3, 3, 30));
    await flush();
    expect(runs).toEqual([Date.UTC(2025, 5, 2, 3, 30), Date.UTC(2025, 5, 3, 3, 30)]);
    expect(s.runs).toBe(2);
    await s.stop();
    expect(timers.size).toBe(0);
  });

  it("catches up soon after start when the last backup is more than a day old", async () => {
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const s = new BackupScheduler({ run: () => Promise.resolve(), clock, timers, lastBackupMs: T0 - 2 * DAY, catchUpDelayMs: 60_000 });
    s.start();
    timers.fireNext();
    expect(clock.now()).toBe(T0 + 60_000);
    await flush();
    expect(s.runs).toBe(1);
    expect(timers.delays()).toEqual([Date.UTC(2025, 5, 2, 3, 30) - clock.now()]);
    await s.stop();
  });

  it("counts a failed run and keeps the daily schedule", async () => {
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const errors: unknown[] = [];
    const s = new BackupScheduler({
      run: () => Promise.reject(new Error("disk full")),
      clock,
      timers,
      lastBackupMs: T0,
      onError: (e) => errors.push(e),
    });
    s.start();
    timers.fireNext();
    await flush();
    expect(s.failures).toBe(1);
    expect(errors).toHaveLength(1);
    expect(timers.size).toBe(1);
    await s.stop();
  });

  it("does not start a second run while one is going, and stop waits for it", async () => {
    let release!: () => void;
    let calls = 0;
    const s = new BackupScheduler({
      run: () => {
        calls++;
        return new Promise<void>((r) => (release = r));
      },
      clock: new ManualClock(T0),
      timers: new ManualTimers(new ManualClock(T0)),
    });
    const a = s.runNow();
    const b = s.runNow();
    expect(calls).toBe(1);
    let stopped = false;
    const st = s.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    release();
    await Promise.all([a, b, st]);
    expect(stopped).toBe(true);
    expect(s.runs).toBe(1);
  });

  it("aborts a running backup at stop, resolves when it has ended, and does not report it as a failure", async () => {
    const errors: unknown[] = [];
    let signal: AbortSignal | undefined;
    const s = new BackupScheduler({
      run: (sig) => {
        signal = sig;
        return new Promise((_, reject) => sig.addEventListener("abort", () => reject(new Error("cancelled"))));
      },
      clock: new ManualClock(T0),
      timers: new ManualTimers(new ManualClock(T0)),
      onError: (e) => errors.push(e),
    });
    const run = s.runNow();
    expect(signal?.aborted).toBe(false);
    await s.stop();
    await run;
    expect(signal?.aborted).toBe(true);
    expect([s.runs, s.failures, s.cancelled]).toEqual([0, 0, 1]);
    expect(errors).toEqual([]);
  });
});

describe("backup retention", () => {
  it("keeps the newest N complete backups and clears stale partial ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-ret-"));
    try {
      for (let d = 1; d <= 5; d++) {
        const b = join(dir, `onair-2025060${d}T033000Z`);
        mkdirSync(b);
        writeFileSync(join(b, "manifest.json"), "{}");
      }
      mkdirSync(join(dir, ".onair-20250606T033000Z.partial"));
      mkdirSync(join(dir, "unrelated"));
      const removed = await pruneBackups(dir, 2);
      expect(removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual([
        "onair-20250601T033000Z",
        "onair-20250602T033000Z",
        "onair-20250603T033000Z",
      ]);
      expect(listBackups(dir).map((p) => p.slice(dir.length + 1))).toEqual(["onair-20250605T033000Z", "onair-20250604T033000Z"]);
      expect(readdirSync(dir).sort()).toEqual(["onair-20250604T033000Z", "onair-20250605T033000Z", "unrelated"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
