/**
 * The observe parts wait through the injected `Timers` (src/core/timers.ts): the disk watch's
 * check interval, the systemd watchdog pings and the audit log's minute-boundary flush run on
 * a hand-driven ManualTimers, and stopping them leaves no timer behind.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { AuditLog } from "../../src/observe/audit.js";
import { DISK_CHECK_INTERVAL_MS, DiskWatch } from "../../src/observe/disk-watch.js";
import { silentLogger } from "../../src/observe/logger.js";
import { SdNotifier } from "../../src/observe/sdnotify.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const dir = mkdtempSync(join(tmpdir(), "onair-observe-timers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("observe parts on injected timers", () => {
  it("the disk watch checks at start, then every interval, and stop clears its timer", async () => {
    const timers = new ManualTimers();
    let checks = 0;
    const w = new DiskWatch({
      threshold: { bytes: 1 },
      dirs: () => [{ role: "data", path: "/d" }],
      statfs: () => {
        checks++;
        return Promise.resolve({ bavail: 10, bsize: 4096, blocks: 100 });
      },
      onLow: () => undefined,
      onOk: () => undefined,
      timers,
    });
    w.start();
    await w.check();
    expect(checks).toBe(2); // the start's check, then this one
    expect(timers.delays()).toEqual([DISK_CHECK_INTERVAL_MS]);
    timers.advance(2 * DISK_CHECK_INTERVAL_MS);
    await w.check();
    expect(checks).toBe(5);
    await w.stop();
    expect(timers.size).toBe(0);
  });

  it("the systemd watchdog pings every WATCHDOG_USEC/2 and stops on STOPPING=1", async () => {
    const timers = new ManualTimers();
    const sent: string[][] = [];
    const spawn = (_cmd: string, args: readonly string[]): ChildProcess => {
      sent.push([...args]);
      const child = new EventEmitter();
      process.nextTick(() => child.emit("exit", 0, null));
      return child as ChildProcess;
    };
    const n = new SdNotifier({
      env: { NOTIFY_SOCKET: "/run/notify", WATCHDOG_USEC: "2000000" },
      logger: silentLogger(),
      binary: "systemd-notify",
      spawn,
      timers,
    });
    n.startWatchdog();
    expect(timers.delays()).toEqual([1000]);
    timers.advance(1000);
    expect(sent).toEqual([["WATCHDOG=1"]]);
    expect(await n.stopping()).toBe(true);
    expect(sent).toEqual([["WATCHDOG=1"], ["STOPPING=1"]]);
    expect(timers.size).toBe(0);
  });

  it("the audit log writes a minute's refusals when its timer at the minute's end fires", async () => {
    const clock = new ManualClock(Date.parse("2030-05-01T08:00:10Z"));
    const timers = new ManualTimers(clock);
    const path = join(dir, "audit");
    const log = await AuditLog.open({ dir: path, clock, timers });
    const refused = {
      who: "anonymous",
      via: "http",
      action: "cue.add",
      channel: "news",
      result: "denied",
      status: 401,
      remote: "127.0.0.1",
    } as const;
    log.record(refused);
    log.record(refused);
    expect(timers.size).toBe(1);
    timers.fireNext();
    const lines = readFileSync(join(path, "audit.1.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([{ action: "refused", count: 2, when: "2030-05-01T08:00:10.000Z" }]);
    await log.close();
    expect(timers.size).toBe(0);
  });
});
