/**
 * A backup does not hold the daemon's event loop (issue #23, "Bounded data"): on a store of
 * tens of MB, made here, the integrity check, hashing and compression run in the worker
 * thread, so the main thread's longest block during `createBackup` (of the daemon's open
 * store) stays below what that work costs when done on the main thread, which is what the
 * backup did before. Both figures are printed (the issue asks ≤ 20 ms; a loaded machine adds
 * preemptions of its own, hence the looser bound asserted).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup, integrityCheck } from "../../src/store/backup.js";
import { openStore, type Store } from "../../src/store/db.js";

const TARGET_BYTES = 32 * 1024 * 1024;

/**
 * A timer-drift sampler: the longest gap between ticks of a 1 ms interval, including the
 * gap from the last tick to `stop()` (a block that ends just before the awaited promise
 * settles has no tick after it).
 */
function blockSampler(): { stop: () => number } {
  let last = performance.now();
  let longest = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(iv);
      return Math.max(longest, performance.now() - last);
    },
  };
}

describe("backup off the event loop", () => {
  let dir = "";
  let store: Store;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-backup-offload-"));
    store = openStore(join(dir, "onair.db"));
    // as-run rows with details of ~1 KiB, half of it random (a store that compresses as real ones do)
    const ins = store.raw.prepare(
      "INSERT INTO asrun (channel, kind, scheduled_ms, actual_ms, pts, event_id, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const fill = store.raw.transaction((from: number) => {
      for (let i = from; i < from + 4096; i++) {
        ins.run(
          "news",
          "item",
          i * 1000,
          i * 1000 + 3,
          i * 90,
          i % 65536,
          JSON.stringify({
            title: `item ${i}`,
            noise: createHash("sha512").update(String(i)).digest("base64").repeat(5),
            pad: "x".repeat(500),
          }),
        );
      }
    });
    for (let n = 0; statSync(store.path).size + statSync(`${store.path}-wal`, { throwIfNoEntry: false })!.size < TARGET_BYTES; n += 4096)
      fill(n);
    store.raw.pragma("wal_checkpoint(TRUNCATE)");
  }, 60_000);

  afterAll(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the main thread's longest block below what the check and hashing of the store cost on it", async () => {
    const bytes = statSync(store.path).size;
    const sampler = blockSampler();
    const t0 = performance.now();
    const r = await createBackup({ store, destDir: join(dir, "backups") });
    const backupMs = performance.now() - t0;
    const longestBlockMs = sampler.stop();
    // what the same work costs on this thread (the old backup's one block): integrity_check and sha256 of the store
    const s0 = performance.now();
    expect(integrityCheck(store.path)).toBe("ok");
    createHash("sha256").update(readFileSync(store.path)).digest("hex");
    const onThreadMs = performance.now() - s0;
    console.log(
      `backup of a ${(bytes / 1048576).toFixed(1)} MiB store (${(r.manifest.files[0].bytes / 1048576).toFixed(1)} MiB gzip) in ${backupMs.toFixed(0)} ms: ` +
        `longest event-loop block ${longestBlockMs.toFixed(1)} ms; integrity_check + sha256 on the main thread ${onThreadMs.toFixed(0)} ms`,
    );
    expect(r.manifest.rows.asrun).toBeGreaterThan(20_000);
    // the old backup held the loop for all of that and more (the copy, row counts) in one block;
    // the bound is loose on purpose: on a loaded machine a single preemption shows as a block
    expect(longestBlockMs).toBeLessThan(onThreadMs);
  }, 60_000);
});
