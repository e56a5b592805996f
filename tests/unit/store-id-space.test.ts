/**
 * Ids that never run out (issue #23): with the id spaces shrunk to 64 ids, months of weekly
 * imports and thousands of cues allocate without exhaustion and never hand out an id still
 * in use.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/core/clock.js";
import type { ScheduleItemInput } from "../../src/schedule/model.js";
import { acceptCueRequest, closeCueRequest } from "../../src/store/cue-requests.js";
import { openStore, type Store } from "../../src/store/db.js";
import { EVENT_ID_REUSE_AFTER_MS } from "../../src/store/event-ids.js";

const H = 3600_000;
const DAY = 24 * H;
const WEEK = 7 * DAY;
const T0 = Date.UTC(2026, 0, 5);
let dir: string;
let store: Store;
let clock: ManualClock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-ids-"));
  clock = new ManualClock(T0);
  store = openStore(path.join(dir, "onair.db"), { clock, idSpace: { eventIdMax: 64, spliceEventIdMax: 64 } });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A week of 12-hour items from `fromMs` (14 items: with a week imported ahead, about 32 ids are in use at once). */
function week(fromMs: number, title = (i: number) => `show ${(fromMs - T0) / (12 * H) + i}`): ScheduleItemInput[] {
  return Array.from({ length: 14 }, (_, i) => ({ startMs: fromMs + i * 12 * H, durationMs: 12 * H, title: title(i) }));
}

describe("DVB event_ids in a 64-id space", () => {
  it("imports 30 weeks of items a week ahead without exhaustion, reusing only ids of items over for 2 days", () => {
    const importedAt = new Map<number, number>(); // item start → when its event_id was allocated
    for (let w = 0; w < 30; w++) {
      clock.set(T0 + w * WEEK);
      const items = week(T0 + (w + 1) * WEEK);
      store.replaceItems("ch", items[0].startMs, items[0].startMs + WEEK, items);
      for (const it of items) importedAt.set(it.startMs, clock.now());
    }
    const all = store.listItems("ch");
    expect(all).toHaveLength(30 * 14);
    expect(new Set(all.map((i) => i.eventId)).size).toBe(64);
    expect(all.every((i) => i.eventId >= 1 && i.eventId <= 64)).toBe(true);
    const lastHolder = new Map<number, { startMs: number; durationMs: number }>();
    for (const item of all) {
      const before = lastHolder.get(item.eventId);
      // the earlier holder of the id had ended (and left the EPG) 2 days before the id was handed out again
      if (before) expect(before.startMs + before.durationMs).toBeLessThanOrEqual(importedAt.get(item.startMs)! - EVENT_ID_REUSE_AFTER_MS);
      lastHolder.set(item.eventId, item);
    }
  });

  it("keeps the event ids of unchanged items when a week is imported again", () => {
    for (let w = 0; w < 10; w++) {
      clock.set(T0 + w * WEEK);
      const items = week(T0 + (w + 1) * WEEK);
      store.replaceItems("ch", items[0].startMs, items[0].startMs + WEEK, items);
    }
    const from = T0 + 10 * WEEK;
    const before = store.listItems("ch", from, from + WEEK).map((i) => i.eventId);
    const again = week(from, (i) => (i === 3 ? "changed" : `show ${(from - T0) / (12 * H) + i}`));
    const r = store.replaceItems("ch", from, from + WEEK, again);
    expect(r.keptEventIds).toBe(13);
    const after = store.listItems("ch", from, from + WEEK).map((i) => i.eventId);
    expect(after.filter((id, i) => i !== 3)).toEqual(before.filter((id, i) => i !== 3));
    expect(before).not.toContain(after[3]);
  });

  it("fails with ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED, changing nothing, only when 64 coming items hold every id", () => {
    const items = Array.from({ length: 64 }, (_, i) => ({ startMs: T0 + i * H, durationMs: H, title: `x${i}` }));
    store.replaceItems("ch", T0, T0 + 64 * H, items);
    const more = [{ startMs: T0 + 100 * H, durationMs: H, title: "one more" }];
    expect(() => store.replaceItems("ch", T0 + 100 * H, T0 + 101 * H, more)).toThrow(
      expect.objectContaining({ code: "ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED" }),
    );
    expect(store.listItems("ch")).toHaveLength(64);
    clock.set(T0 + H + EVENT_ID_REUSE_AFTER_MS); // the first item is over and out of the EPG window
    expect(store.replaceItems("ch", T0 + 100 * H, T0 + 101 * H, more).inserted).toBe(1);
    expect(store.listItems("ch", T0 + 100 * H, T0 + 101 * H)[0].eventId).toBe(1);
  });
});

describe("splice_event_ids in a 64-id space", () => {
  it("allocates for 2 days of cues (3 API cues and 1 planned break an hour) without reusing the id of a break not over", () => {
    const busyUntil = new Map<number, number>(); // id → end of its break, as the test knows it
    let open: { id: number; atMs: number }[] = [];
    const forever = acceptCueRequest(store, { channel: "ch", atMs: T0 + 1000 * DAY, immediate: false, durationMs: 60_000 }).spliceEventId;
    let allocations = 0;
    const take = (id: number, endMs: number): void => {
      expect(id).not.toBe(forever); // a pending request keeps its id
      expect(busyUntil.get(id) ?? 0).toBeLessThanOrEqual(clock.now()); // never the id of a break not over
      busyUntil.set(id, endMs);
      allocations++;
    };
    for (let step = 0; step < 3 * 24 * 2; step++) {
      clock.advance(20 * 60_000);
      for (const c of open) if (c.atMs <= clock.now()) expect(closeCueRequest(store, "ch", c.id, "aired", c.atMs)).toBe(true);
      open = open.filter((c) => c.atMs > clock.now());
      const atMs = clock.now() + 5 * 60_000;
      const req = acceptCueRequest(store, { channel: "ch", atMs, immediate: false, durationMs: 120_000 });
      take(req.spliceEventId, atMs + 120_000);
      open.push({ id: req.spliceEventId, atMs });
      // the planner's break 30 min ahead, 2 min long: its id is leased without a break end
      if (step % 3 === 0) take(store.allocateSpliceEventId("ch"), clock.now() + 32 * 60_000);
    }
    expect(allocations).toBe(192); // three times round the 64 ids
    expect(busyUntil.size).toBe(63);
  });

  it("fails with ONAIR_SPLICE_EVENT_IDS_EXHAUSTED only while 64 requests are pending", () => {
    for (let i = 0; i < 64; i++) acceptCueRequest(store, { channel: "ch", atMs: T0 + (i + 1) * H, immediate: false, durationMs: 60_000 });
    expect(() => store.allocateSpliceEventId("ch")).toThrow(expect.objectContaining({ code: "ONAIR_SPLICE_EVENT_IDS_EXHAUSTED" }));
    expect(store.allocateSpliceEventId("other")).toBe(1); // per channel
    clock.set(T0 + H);
    closeCueRequest(store, "ch", 1, "aired", T0 + H);
    clock.set(T0 + 3 * H); // its break ended 2 h ago: past the 1 h margin
    expect(store.allocateSpliceEventId("ch")).toBe(1);
  });
});
