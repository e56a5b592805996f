import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatAlert } from "../../src/alerts/messages.js";
import { AlertRules } from "../../src/alerts/rules.js";
import { parseGlobalConfig } from "../../src/config/global.js";
import { DiskWatch, parseDiskThreshold, type DiskReading } from "../../src/observe/disk-watch.js";

describe("disk watch", () => {
  it("parses alerts.diskLowFree as a percentage or a size, 5% by default", () => {
    expect(parseDiskThreshold("5%")).toEqual({ percent: 5 });
    expect(parseDiskThreshold("2g")).toEqual({ bytes: 2 * 1024 ** 3 });
    expect(parseDiskThreshold("500M")).toEqual({ bytes: 500 * 1024 ** 2 });
    expect(parseDiskThreshold(4096)).toEqual({ bytes: 4096 });
    expect(parseGlobalConfig("{}").alerts.diskLowFree).toBe("5%");
    expect(() => parseGlobalConfig("alerts:\n  diskLowFree: 150%\n")).toThrow(expect.objectContaining({ code: "ONAIR_CONFIG_INVALID" }));
    expect(() => parseGlobalConfig("alerts:\n  diskLowFree: lots\n")).toThrow(expect.objectContaining({ code: "ONAIR_CONFIG_INVALID" }));
  });

  it("reports low once per episode and ok once when the space is back, per directory", async () => {
    let avail = 10;
    const events: string[] = [];
    const w = new DiskWatch({
      threshold: { percent: 5 },
      dirs: () => [
        { role: "data", path: "/d" },
        { role: "recording", path: "/r", channel: "c1" },
        { role: "recording", path: "/d", channel: "c2" },
      ],
      statfs: (p) => Promise.resolve({ bavail: p === "/d" ? avail : 1000, bsize: 4096, blocks: 1000 }),
      onLow: (r) => events.push(`low ${r.path} ${r.freeBytes}/${r.thresholdBytes}`),
      onOk: (r) => events.push(`ok ${r.path}`),
    });
    await w.check();
    await w.check();
    expect(events).toEqual([`low /d ${10 * 4096}/${50 * 4096}`]);
    avail = 60;
    await w.check();
    expect(events.slice(1)).toEqual(["ok /d"]);
    await w.setThreshold({ bytes: 100 * 4096 });
    expect(events.slice(2)).toEqual([`low /d ${60 * 4096}/${100 * 4096}`]);
  });

  it("measures a directory not made yet at its nearest existing ancestor with the real statfs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-disk-"));
    try {
      const got: DiskReading[] = [];
      const errors: unknown[] = [];
      const w = new DiskWatch({
        threshold: { percent: 100 },
        dirs: () => [{ role: "recording", path: join(dir, "a", "b"), channel: "c" }],
        onLow: (r) => got.push(r),
        onOk: () => {},
        onError: (_d, e) => errors.push(e),
      });
      await w.check();
      expect(errors).toEqual([]);
      expect(got).toHaveLength(1);
      expect(got[0].freeBytes).toBeGreaterThan(0);
      expect(got[0].thresholdBytes).toBe(got[0].totalBytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("words disk_ok like disk_low, and each clears the other's dedupe", () => {
    const a = {
      role: "data" as const,
      path: "/var/lib/onair",
      freeBytes: 3 * 1024 ** 3,
      totalBytes: 100 * 1024 ** 3,
      thresholdBytes: 5 * 1024 ** 3,
    };
    expect(formatAlert({ kind: "disk_ok", ...a })).toContain("✅ disk space back on the data directory <code>/var/lib/onair</code>");
    const rules = new AlertRules();
    expect("alert" in rules.decide({ kind: "disk_low", ...a }, 0)).toBe(true);
    expect("alert" in rules.decide({ kind: "disk_ok", ...a }, 1)).toBe(true);
    expect("alert" in rules.decide({ kind: "disk_low", ...a }, 2)).toBe(true);
  });
});
