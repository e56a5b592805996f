/**
 * `npm run bench -- year`: a simulated year of one channel's store (issue #23, bounded data).
 *
 * 3-minute items (480 a day) are imported in weekly batches a week ahead; every item that airs
 * gets an as-run row, and 3 API cues an hour are accepted, aired (as-run row, out and in cue
 * rows) and closed. Retention runs daily as the daemon runs it (Pruner, default retention:
 * as-run 400 days, items 30 days). Time is a ManualClock; the store is a real SQLite file.
 *
 * Printed for month 1 and month 12 (what must stay flat, what grows linearly to its cap):
 * - the schedule and EIT tables (schedule_items, item_breaks, breaks, event-id cursor): flat;
 * - the as-run tables (asrun, cues, cue_requests) and their bytes per day: linear, capped at
 *   400 days (the projection at the cap is printed);
 * - the import time of that month's weekly batch and the time of a backup (createBackup):
 *   flat;
 * - the longest event-loop block of pruning (over the month's daily runs) and of the backup.
 * Sizes are SQLite pages (dbstat), indexes included.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ManualClock } from "../src/core/clock.js";
import type { ScheduleItemInput } from "../src/schedule/model.js";
import { createBackup } from "../src/store/backup.js";
import { acceptCueRequest, closeCueRequest } from "../src/store/cue-requests.js";
import { openStore, type Store } from "../src/store/db.js";
import { DEFAULT_AS_RUN_DAYS, DEFAULT_ITEM_DAYS, Pruner } from "../src/store/retention.js";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const ITEM_MS = 180_000;
const CUES_PER_HOUR = 3;
const CHANNEL = "news";
const T0 = Date.UTC(2026, 0, 5); // a Monday
const SCHEDULE_TABLES = ["schedule_items", "item_breaks", "breaks", "event_id_counters"];
const ASRUN_TABLES = ["asrun", "cues", "cue_requests", "splice_event_ids", "splice_counters"];

/** The longest stretch the event loop was held while `fn` ran (a setImmediate ticker). */
async function longestBlock<T>(fn: () => Promise<T>): Promise<{ result: T; blockMs: number }> {
  let last = performance.now();
  let blockMs = 0;
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    blockMs = Math.max(blockMs, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await fn();
    return { result, blockMs: Math.max(blockMs, performance.now() - last) };
  } finally {
    running = false;
  }
}

function tableBytes(store: Store, tables: string[]): { bytes: number; rows: number } {
  let bytes = 0;
  let rows = 0;
  for (const t of tables) {
    const names = store.raw
      .prepare("SELECT name FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index')")
      .pluck()
      .all(t) as string[];
    for (const n of names)
      bytes += (store.raw.prepare("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?").pluck().get(n) as number) ?? 0;
    rows += store.raw.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
  }
  return { bytes, rows };
}

function weekOfItems(fromMs: number): ScheduleItemInput[] {
  return Array.from({ length: WEEK / ITEM_MS }, (_, i) => ({
    startMs: fromMs + i * ITEM_MS,
    durationMs: ITEM_MS,
    title: `Clip ${(fromMs - T0) / ITEM_MS + i}`,
    description: "A three-minute clip of the playlist, with a description of usual length for an EPG entry.",
    genre: "music",
    media: `/srv/media/clip-${i % 500}.mp4`,
    ...(i % 20 === 0 ? { breaks: [{ offsetMs: 120_000, durationMs: 30_000 }] } : {}),
  }));
}

/** One day on air: an as-run row per item, CUES_PER_HOUR API cues an hour (accepted, aired, closed). */
function airDay(store: Store, clock: ManualClock, dayMs: number): void {
  const items = store.listItems(CHANNEL, dayMs, dayMs + DAY);
  store.raw.transaction(() => {
    for (let h = 0; h < 24; h++) {
      for (let c = 0; c < CUES_PER_HOUR; c++) {
        const atMs = dayMs + h * 3_600_000 + (c * 3_600_000) / CUES_PER_HOUR + 600_000;
        clock.set(atMs - 300_000);
        const req = acceptCueRequest(store, { channel: CHANNEL, atMs, immediate: false, durationMs: 60_000 });
        clock.set(atMs);
        const section = "/DAlAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AUmXAAAEAAAAAOvHLuQ==";
        store.recordCue({
          channel: CHANNEL,
          spliceEventId: req.spliceEventId,
          kind: "out",
          scheduledMs: atMs,
          section,
          details: { leadSeconds: 6 },
        });
        store.recordCue({
          channel: CHANNEL,
          spliceEventId: req.spliceEventId,
          kind: "in",
          scheduledMs: atMs + 60_000,
          section,
          details: { leadSeconds: 6 },
        });
        store.insertAsRun({
          channel: CHANNEL,
          kind: "cue",
          scheduledMs: atMs,
          actualMs: atMs,
          eventId: req.spliceEventId,
          details: { durationSeconds: 60 },
        });
        closeCueRequest(store, CHANNEL, req.spliceEventId, "aired", atMs);
      }
    }
    for (const it of items) {
      store.insertAsRun({
        channel: CHANNEL,
        kind: "item",
        scheduledMs: it.startMs,
        actualMs: it.startMs + 40,
        eventId: it.eventId,
        details: { title: it.title, source: "input" },
      });
    }
  })();
  clock.set(dayMs + DAY);
}

interface MonthFigures {
  month: number;
  days: number;
  schedule: { bytes: number; rows: number };
  asrun: { bytes: number; rows: number };
  fileBytes: number;
  importMs: number;
  backupMs: number;
  backupBlockMs: number;
  pruneBatchMs: number;
  pruneBatchCpuMs: number;
  pruneBlockMs: number;
}

async function measure(
  store: Store,
  clock: ManualClock,
  dir: string,
  m: { month: number; importMs: number; prune: { batch: number; cpu: number; block: number } },
): Promise<MonthFigures> {
  const backup = await longestBlock(async () => {
    const t = performance.now();
    await createBackup({ store, destDir: join(dir, "backups"), keep: 1, clock });
    return performance.now() - t;
  });
  return {
    month: m.month,
    days: (clock.now() - T0) / DAY,
    schedule: tableBytes(store, SCHEDULE_TABLES),
    asrun: tableBytes(store, ASRUN_TABLES),
    fileBytes: statSync(store.path).size,
    importMs: m.importMs,
    backupMs: backup.result,
    backupBlockMs: backup.blockMs,
    pruneBatchMs: m.prune.batch,
    pruneBatchCpuMs: m.prune.cpu,
    pruneBlockMs: m.prune.block,
  };
}

const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function print(f: MonthFigures): void {
  const perDay = f.asrun.bytes / f.days;
  process.stdout.write(
    `month ${String(f.month).padStart(2)} (day ${f.days}): ` +
      `schedule+EIT tables ${kb(f.schedule.bytes)} (${f.schedule.rows} rows), ` +
      `as-run tables ${kb(f.asrun.bytes)} (${f.asrun.rows} rows, ${kb(perDay)}/day, at the ${DEFAULT_AS_RUN_DAYS}-day cap ≈ ${kb(perDay * DEFAULT_AS_RUN_DAYS)}), ` +
      `store file ${kb(f.fileBytes)}\n` +
      `          weekly import ${ms(f.importMs)}, backup ${ms(f.backupMs)} (longest block ${ms(f.backupBlockMs)}), ` +
      `pruning: longest batch ${ms(f.pruneBatchMs)} (CPU ${ms(f.pruneBatchCpuMs)}), longest block ${ms(f.pruneBlockMs)}\n`,
  );
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "onair-bench-year-"));
  const clock = new ManualClock(T0 - DAY);
  const store = openStore(join(dir, "onair.db"), { clock });
  const pruner = new Pruner({ store, retention: { asRunDays: DEFAULT_AS_RUN_DAYS, itemDays: DEFAULT_ITEM_DAYS } });
  const started = performance.now();
  try {
    const first = weekOfItems(T0);
    store.replaceItems(CHANNEL, T0, T0 + WEEK, first);
    let prune = { batch: 0, cpu: 0, block: 0 };
    for (let w = 0; w < 52; w++) {
      clock.set(T0 + w * WEEK);
      const items = weekOfItems(T0 + (w + 1) * WEEK);
      const t = performance.now();
      store.replaceItems(CHANNEL, items[0].startMs, items[0].startMs + WEEK, items);
      const importMs = performance.now() - t;
      for (let d = 0; d < 7; d++) {
        airDay(store, clock, T0 + w * WEEK + d * DAY);
        const p = await longestBlock(() => pruner.pruneNow());
        prune = {
          batch: Math.max(prune.batch, p.result.longestBatchMs),
          cpu: Math.max(prune.cpu, p.result.longestBatchCpuMs),
          block: Math.max(prune.block, p.blockMs),
        };
      }
      if (w === 3 || w === 51) {
        print(await measure(store, clock, dir, { month: w === 3 ? 1 : 12, importMs, prune }));
        prune = { batch: 0, cpu: 0, block: 0 };
      }
    }
    process.stdout.write(`simulated 52 weeks in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await pruner.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
