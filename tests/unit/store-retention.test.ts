/**
 * Retention (issue #23): a prune removes exactly what is past retention, in batches that
 * yield to the event loop, measures its longest batch, and runs on the injected Timers.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/core/clock.js";
import { acceptCueRequest, closeCueRequest } from "../../src/store/cue-requests.js";
import { openStore, type Store } from "../../src/store/db.js";
import { PRUNE_PERIOD_MS, PRUNE_START_DELAY_MS, Pruner, type PruneResult } from "../../src/store/retention.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const RETENTION = { asRunDays: 400, itemDays: 30 };
let dir: string;
let store: Store;
let clock: ManualClock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-retention-"));
  clock = new ManualClock(NOW - 500 * DAY);
  store = openStore(path.join(dir, "onair.db"), { clock });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const count = (sql: string): number => store.raw.prepare(sql).pluck().get() as number;

/** Rows on both sides of each cutoff (NOW − 400 days for as-run and cues, NOW − 30 days from an item's end). */
function fill(): void {
  const asrun = store.raw.prepare("INSERT INTO asrun (channel, kind, actual_ms) VALUES ('ch', 'item', ?)");
  const cue = store.raw.prepare("INSERT INTO cues (channel, splice_event_id, kind, created_ms) VALUES ('ch', 1, 'out', ?)");
  store.raw.transaction(() => {
    for (let i = 0; i < 1200; i++) asrun.run(NOW - 401 * DAY + i * 1000); // old
    for (let i = 0; i < 300; i++) asrun.run(NOW - 399 * DAY + i * 1000);
    for (let i = 0; i < 700; i++) cue.run(NOW - 420 * DAY + i * 1000); // old
    for (let i = 0; i < 50; i++) cue.run(NOW - 10 * DAY + i);
  })();
  // cue requests: one aired 450 days ago, one still pending since then (live: kept), one aired 10 days ago
  clock.set(NOW - 450 * DAY);
  const old = acceptCueRequest(store, { channel: "ch", atMs: clock.now() + 60_000, immediate: false, durationMs: 60_000 });
  acceptCueRequest(store, { channel: "ch", atMs: NOW + DAY, immediate: false, durationMs: 60_000 });
  closeCueRequest(store, "ch", old.spliceEventId, "aired", clock.now() + 60_000);
  clock.set(NOW - 10 * DAY);
  const recent = acceptCueRequest(store, { channel: "ch", atMs: clock.now(), immediate: false, durationMs: 60_000 });
  closeCueRequest(store, "ch", recent.spliceEventId, "aired", clock.now());
  // schedule: 1100 3-minute items that ended 31+ days ago (with a break each), 20 that end 29 days ago, 20 to come
  const items = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      startMs: from + i * 180_000,
      durationMs: 180_000,
      title: `t${i}`,
      breaks: [{ offsetMs: 60_000, durationMs: 30_000 }],
    }));
  clock.set(NOW - 40 * DAY);
  store.replaceItems("ch", NOW - 40 * DAY, NOW - 40 * DAY + 1100 * 180_000, items(NOW - 40 * DAY, 1100), [
    { startMs: NOW - 40 * DAY, durationMs: 60_000 },
  ]);
  store.replaceItems("ch", NOW - 29 * DAY - 20 * 180_000, NOW - 29 * DAY, items(NOW - 29 * DAY - 20 * 180_000, 20), [
    { startMs: NOW - 29 * DAY - 60_000, durationMs: 60_000 },
  ]);
  store.replaceItems("ch", NOW, NOW + 20 * 180_000, items(NOW, 20));
  clock.set(NOW);
}

describe("Pruner", () => {
  it("removes exactly what is past retention, in batches of at most 500 rows, and measures the longest batch", async () => {
    fill();
    const leases = count("SELECT count(*) FROM splice_event_ids");
    const liveLeases = count(`SELECT count(*) FROM splice_event_ids WHERE busy_until_ms > ${NOW}`);
    const pruned: PruneResult[] = [];
    const pruner = new Pruner({ store, retention: RETENTION, timers: new ManualTimers(clock), onPruned: (r) => pruned.push(r) });
    const r = await pruner.pruneNow();
    expect(r.removed).toEqual({
      asrun: 1200,
      cues: 700,
      cue_requests: 1,
      schedule_items: 1100,
      breaks: 1,
      splice_event_ids: leases - liveLeases,
    });
    expect(pruned).toEqual([r]);
    // asrun 500+500+200, cues 500+200, schedule_items 500+500+100, one each for the others
    expect(r.batches).toBe(3 + 2 + 1 + 3 + 1 + 1);
    expect(r.longestBatchMs).toBeGreaterThan(0);
    expect(r.atMs).toBe(NOW);
    expect(count("SELECT count(*) FROM asrun")).toBe(300);
    expect(count("SELECT min(actual_ms) FROM asrun")).toBe(NOW - 399 * DAY);
    expect(count("SELECT count(*) FROM cues")).toBe(50);
    expect(store.raw.prepare("SELECT state FROM cue_requests ORDER BY created_ms").pluck().all()).toEqual(["pending", "aired"]);
    expect(count("SELECT count(*) FROM schedule_items")).toBe(40);
    expect(count("SELECT count(*) FROM item_breaks")).toBe(40); // the pruned items' breaks went with them
    expect(count("SELECT count(*) FROM breaks")).toBe(1);
    expect(count("SELECT count(*) FROM splice_event_ids")).toBe(liveLeases);
    expect((await pruner.pruneNow()).removed).toEqual({
      asrun: 0,
      cues: 0,
      cue_requests: 0,
      schedule_items: 0,
      breaks: 0,
      splice_event_ids: 0,
    });
    await pruner.close();
  });

  it("commits without fsync (synchronous=NORMAL) in a relaxed transaction, and leaves the connection at FULL", async () => {
    expect(store.relaxedTransaction("probe", () => store.raw.pragma("synchronous", { simple: true }))).toBe(1); // NORMAL
    expect(store.raw.pragma("synchronous", { simple: true })).toBe(2); // FULL
    fill();
    await new Pruner({ store, retention: RETENTION }).pruneNow();
    expect(store.raw.pragma("synchronous", { simple: true })).toBe(2);
  });

  it("yields to the event loop between batches", async () => {
    fill();
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    const r = await new Pruner({ store, retention: RETENTION, batchRows: 100 }).pruneNow();
    done = true;
    expect(r.batches).toBeGreaterThan(30);
    expect(ticks).toBeGreaterThanOrEqual(r.batches - 1);
  });

  it("runs 10 minutes after start, then daily, through the injected Timers, and stops on close", async () => {
    const timers = new ManualTimers(clock);
    const pruned: PruneResult[] = [];
    let resolveRun!: () => void;
    let ran = new Promise<void>((r) => (resolveRun = r));
    const pruner = new Pruner({
      store,
      retention: RETENTION,
      timers,
      onPruned: (r) => {
        pruned.push(r);
        resolveRun();
      },
    });
    pruner.start();
    expect(timers.delays()).toEqual([PRUNE_START_DELAY_MS]);
    const start = clock.now();
    timers.fireNext();
    await ran;
    ran = new Promise<void>((r) => (resolveRun = r));
    expect(pruned.map((r) => r.atMs - start)).toEqual([PRUNE_START_DELAY_MS]);
    expect(timers.delays()).toEqual([PRUNE_PERIOD_MS]);
    timers.fireNext();
    await ran;
    expect(pruned.map((r) => r.atMs - start)).toEqual([PRUNE_START_DELAY_MS, PRUNE_START_DELAY_MS + PRUNE_PERIOD_MS]);
    await pruner.close();
    expect(timers.size).toBe(0);
  });

  it("stops a run after its current batch on close", async () => {
    fill();
    const pruner = new Pruner({ store, retention: RETENTION, batchRows: 10 });
    const run = pruner.pruneNow();
    await pruner.close();
    const r = await run;
    expect(r.stopped).toBe(true);
    expect(r.batches).toBe(1);
    expect(count("SELECT count(*) FROM asrun")).toBe(1500 - 10);
  });
});
