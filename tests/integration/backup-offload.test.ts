/**
 * A backup does not hold the daemon's event loop (issue #23, "Bounded data"): on a store of
 * tens of MB, made here, the integrity check, hashing and compression run in the worker
 * thread, so the main thread's longest block during `createBackup` (through the daemon's own
 * connection, in steps) stays far below what that work costs when done on the main thread,
 * which is what the backup did before. Both figures are printed.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup, integrityCheck } from "../../src/store/backup.js";
import { openStore, type Store } from "../../src/store/db.js";

const TARGET_BYTES = 32 * 1024 * 1024;

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

  it("keeps the main thread's longest block far below the check and hashing time of the store", async () => {
    const bytes = statSync(store.path).size;
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t0 = performance.now();
    const r = await createBackup({ store, destDir: join(dir, "backups") });
    const backupMs = performance.now() - t0;
    h.disable();
    const longestBlockMs = h.max / 1e6;
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
    expect(longestBlockMs).toBeLessThan(onThreadMs / 2);
  }, 60_000);
});
