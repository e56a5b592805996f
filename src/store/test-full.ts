/**
 * Test-only: a simulated full disk for the store, where a test cannot mount a tiny
 * filesystem (not root). The daemon runs it only with ONAIR_TEST_STORE_LIMIT_FILE set.
 *
 * While the file exists the store is capped at its current size (`PRAGMA max_page_count`)
 * and its free room is filled with filler rows (as-run and cue rows of the channel
 * `~test-filler`) until SQLite answers SQLITE_FULL, as a filler file fills a disk: from then
 * on every real as-run, cue or outbox row fails with SQLITE_FULL. Removing the file lifts
 * the cap and deletes the filler rows. Polled every 250 ms.
 */
import { existsSync } from "node:fs";
import type { Logger } from "pino";
import type { Store } from "./db.js";

export const FILLER_CHANNEL = "~test-filler";

export function watchTestStoreLimit(store: Store, file: string, log: Logger): () => void {
  const db = store.raw;
  const unlimited = db.pragma("max_page_count", { simple: true }) as number;
  let full = false;
  const fillTable = (sql: string, args: (size: number, k: number) => unknown[]): number => {
    const ins = db.prepare(sql);
    let rows = 0;
    for (const size of [4000, 400, 40, 8]) {
      try {
        for (;;) {
          ins.run(...args(size, rows));
          rows++;
        }
      } catch (e) {
        if ((e as { code?: string }).code !== "SQLITE_FULL") throw e;
      }
    }
    return rows;
  };
  const apply = (): void => {
    const want = existsSync(file);
    if (want === full) return;
    full = want;
    try {
      if (want) {
        db.pragma("max_page_count = 1"); // SQLite keeps it at least the current size
        const rows =
          fillTable("INSERT INTO asrun (channel, kind, actual_ms, details) VALUES (?, 'filler', 0, ?)", (size) => [FILLER_CHANNEL, "x".repeat(size)]) +
          fillTable("INSERT INTO cues (channel, splice_event_id, kind, created_ms, section) VALUES (?, ?, 'filler', 0, ?)", (size, k) => [FILLER_CHANNEL, k, "x".repeat(size)]);
        log.warn({ event: "test_store_full", fillerRows: rows, pages: db.pragma("page_count", { simple: true }) as number });
      } else {
        db.pragma(`max_page_count = ${unlimited}`);
        db.prepare("DELETE FROM asrun WHERE channel = ?").run(FILLER_CHANNEL);
        db.prepare("DELETE FROM cues WHERE channel = ?").run(FILLER_CHANNEL);
        log.warn({ event: "test_store_room" });
      }
    } catch (err) {
      log.error({ event: "test_store_limit_failed", err });
    }
  };
  apply();
  const timer = setInterval(apply, 250);
  timer.unref();
  return () => clearInterval(timer);
}
