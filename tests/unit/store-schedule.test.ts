import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/core/clock.js";
import { openStore, type Store } from "../../src/store/db.js";
import type { ScheduleItemInput } from "../../src/schedule/model.js";

const H = 3600_000;
const T0 = Date.UTC(2025, 5, 1);
let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-sched-"));
  // now = T0: the items of these tests are current or coming, so their event ids are in use
  store = openStore(path.join(dir, "onair.db"), { clock: new ManualClock(T0) });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Consecutive one-hour items from `fromHour`, titled by hour unless given. */
function hours(fromHour: number, count: number, title = (h: number) => `show ${h}`): ScheduleItemInput[] {
  return Array.from({ length: count }, (_, i) => ({ startMs: T0 + (fromHour + i) * H, durationMs: H, title: title(fromHour + i) }));
}
function put(channel: string, items: ScheduleItemInput[]) {
  return store.replaceItems(channel, items[0].startMs, items[items.length - 1].startMs + items[items.length - 1].durationMs, items);
}
const ids = (ch: string) => store.listItems(ch).map((i) => i.eventId);

describe("schedule items in the store", () => {
  it("stores every field and reads items back sorted by start", () => {
    const items: ScheduleItemInput[] = [
      {
        startMs: T0 + H,
        durationMs: 1800_000,
        title: "Übertragung – Ελληνικά – 日本語",
        subtitle: "Folge 1",
        description: "lang",
        language: "de",
        genre: "News",
        content: { level1: 2, level2: 0 },
        parentalRating: { system: "FSK", value: "12", minAge: 12 },
        episodeNums: [{ system: "xmltv_ns", value: "0.1." }],
        breaks: [{ offsetMs: 600_000, durationMs: 120_000, breakId: "b1" }],
      },
      { startMs: T0, durationMs: H, title: "first" },
    ].sort((a, b) => a.startMs - b.startMs);
    store.replaceItems("ch", T0, T0 + H + 1800_000, items);
    const got = store.listItems("ch");
    expect(got.map((i) => i.title)).toEqual(["first", "Übertragung – Ελληνικά – 日本語"]);
    expect(got[1]).toMatchObject({ ...items[1], channel: "ch" });
    expect(got[0].breaks).toEqual([]);
    expect(got[0].parentalRating).toBeUndefined();
  });

  it("gives new items distinct event ids from 1 and keeps them for items with the same start, duration and title", () => {
    put("ch", hours(0, 5));
    expect(ids("ch")).toEqual([1, 2, 3, 4, 5]);
    const changed = hours(0, 5, (h) => (h === 2 ? "changed title" : `show ${h}`));
    changed[4] = { ...changed[4], description: "only the description changed" };
    const r = put("ch", changed);
    expect(r).toMatchObject({ inserted: 5, keptEventIds: 4, removed: 5 });
    expect(ids("ch")).toEqual([1, 2, 6, 4, 5]);
  });

  it("replaces only the window of the import and leaves other channels alone", () => {
    put("ch", hours(0, 10));
    put("other", hours(0, 10));
    const before = store.listItems("ch");
    store.replaceItems("ch", T0 + 3 * H, T0 + 5 * H, [{ startMs: T0 + 3 * H, durationMs: 2 * H, title: "film" }]);
    const after = store.listItems("ch");
    expect(after.map((i) => i.title)).toEqual(["show 0", "show 1", "show 2", "film", "show 5", "show 6", "show 7", "show 8", "show 9"]);
    const untouched = after.filter((i) => i.title !== "film");
    expect(untouched).toEqual(before.filter((i) => i.startMs < T0 + 3 * H || i.startMs >= T0 + 5 * H));
    expect(store.listItems("other")).toHaveLength(10);
  });

  it("cuts a stored item that runs into the import window at the window start, keeping its event id", () => {
    store.replaceItems("ch", T0, T0 + 2 * H, [
      {
        startMs: T0,
        durationMs: 2 * H,
        title: "long",
        breaks: [
          { offsetMs: 10 * 60_000, durationMs: 60_000 },
          { offsetMs: 90 * 60_000, durationMs: 60_000 },
        ],
      },
    ]);
    const [old] = store.listItems("ch");
    const r = store.replaceItems("ch", T0 + H, T0 + 2 * H, [{ startMs: T0 + H, durationMs: H, title: "new" }]);
    expect(r.truncated).toBe(1);
    const [cut, added] = store.listItems("ch");
    expect(cut).toMatchObject({ id: old.id, eventId: old.eventId, startMs: T0, durationMs: H });
    expect(cut.breaks.map((b) => b.offsetMs)).toEqual([10 * 60_000]);
    expect(added.title).toBe("new");
  });

  it("skips event ids still used by the channel and wraps after 65535 to 1", () => {
    put("ch", hours(0, 2)); // ids 1, 2 outside the later windows
    store.raw.prepare("UPDATE event_id_counters SET last_id = 65534 WHERE channel = 'ch'").run();
    store.replaceItems("ch", T0 + 10 * H, T0 + 14 * H, hours(10, 4));
    expect(ids("ch")).toEqual([1, 2, 65535, 3, 4, 5]);
  });

  it("fails with ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED and changes nothing when no event id is free", () => {
    put("ch", hours(0, 1));
    const stmt = store.raw.prepare(
      "INSERT INTO schedule_items (channel, start_ms, duration_ms, title, event_id) VALUES ('ch', ?, 1000, 'x', ?)",
    );
    store.raw.transaction(() => {
      for (let id = 2; id <= 65535; id++) stmt.run(T0 + 1000 * H + id * 1000, id);
    })();
    const count = () => store.raw.prepare("SELECT count(*) FROM schedule_items").pluck().get();
    expect(count()).toBe(65535);
    expect(() => store.replaceItems("ch", T0 + 500 * H, T0 + 501 * H, hours(500, 1))).toThrow(
      expect.objectContaining({ code: "ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED" }),
    );
    expect(count()).toBe(65535);
  });

  it("replaces standalone breaks inside the window when the import carries breaks", () => {
    store.replaceItems("ch", T0, T0 + 4 * H, hours(0, 4), [
      { startMs: T0 + 30 * 60_000, durationMs: 60_000, breakId: "a" },
      { startMs: T0 + 3 * H, durationMs: 60_000 },
    ]);
    store.replaceItems("ch", T0 + 2 * H, T0 + 4 * H, hours(2, 2), [{ startMs: T0 + 2 * H + 60_000, durationMs: 30_000, breakId: "c" }]);
    expect(store.listBreaks("ch").map((b) => [b.startMs - T0, b.breakId])).toEqual([
      [30 * 60_000, "a"],
      [2 * H + 60_000, "c"],
    ]);
    store.replaceItems("ch", T0, T0 + H, hours(0, 1));
    expect(store.listBreaks("ch")).toHaveLength(2);
  });

  it("keeps the item breaks of unchanged items when the import carries no breaks (XMLTV), and drops them when it does (JSON)", () => {
    const withBreaks = hours(0, 3).map((i) => ({ ...i, breaks: [{ offsetMs: 600_000, durationMs: 60_000, breakId: `b${i.title}` }] }));
    store.replaceItems("ch", T0, T0 + 3 * H, withBreaks, []);
    const xmltvLike = hours(0, 3, (h) => (h === 1 ? "renamed" : `show ${h}`));
    store.replaceItems("ch", T0, T0 + 3 * H, xmltvLike);
    expect(store.listItems("ch").map((i) => i.breaks.map((b) => b.breakId))).toEqual([["bshow 0"], [], ["bshow 2"]]);
    store.replaceItems("ch", T0, T0 + 3 * H, hours(0, 3), []);
    expect(store.listItems("ch").every((i) => i.breaks.length === 0)).toBe(true);
  });

  it("returns the items overlapping a time range for EIT, and present/following at an instant", () => {
    put("ch", hours(0, 6));
    expect(store.eventsForSi("ch", T0 + 2 * H + 1, T0 + 4 * H).map((i) => i.title)).toEqual(["show 2", "show 3"]);
    expect(store.listItems("ch", T0 + 6 * H, T0 + 9 * H)).toEqual([]);
    const pf = store.presentFollowing("ch", T0 + 2.5 * H);
    expect(pf.present?.title).toBe("show 2");
    expect(pf.following?.title).toBe("show 3");
    const late = store.presentFollowing("ch", T0 + 5.5 * H);
    expect(late.present?.title).toBe("show 5");
    expect(late.following).toBeUndefined();
    expect(store.presentFollowing("ch", T0 - H).present).toBeUndefined();
    expect(store.presentFollowing("ch", T0 - H).following?.title).toBe("show 0");
  });

  it("clears the items and breaks that start in a range, or the whole channel", () => {
    store.replaceItems("ch", T0, T0 + 6 * H, hours(0, 6), [{ startMs: T0 + 4 * H, durationMs: 1000 }]);
    put("other", hours(0, 2));
    expect(store.clearSchedule("ch", T0 + 2 * H, T0 + 5 * H)).toEqual({ items: 3, breaks: 1 });
    expect(store.listItems("ch").map((i) => i.title)).toEqual(["show 0", "show 1", "show 5"]);
    expect(store.clearSchedule("ch")).toEqual({ items: 3, breaks: 0 });
    expect(store.listItems("ch")).toEqual([]);
    expect(store.scheduleChannels()).toEqual(["other"]);
  });

  it("deletes an item's breaks with the item", () => {
    store.replaceItems("ch", T0, T0 + H, [{ startMs: T0, durationMs: H, title: "x", breaks: [{ offsetMs: 0, durationMs: 1000 }] }]);
    store.clearSchedule("ch");
    expect(store.raw.prepare("SELECT count(*) FROM item_breaks").pluck().get()).toBe(0);
  });
});

describe("item media (schema version 3)", () => {
  it("stores media, exports it to JSON and imports it back; an XMLTV-style refresh keeps it", async () => {
    const { exportJsonSchedule, parseJsonSchedule } = await import("../../src/schedule/json.js");
    const items: ScheduleItemInput[] = [
      { startMs: T0, durationMs: H, title: "with media", media: "news/a b.mp4" },
      { startMs: T0 + H, durationMs: H, title: "without" },
    ];
    put("ch", items);
    expect(store.listItems("ch").map((i) => i.media)).toEqual(["news/a b.mp4", undefined]);
    const back = parseJsonSchedule(exportJsonSchedule("ch", store.listItems("ch")), { channel: "ch" });
    expect(back.items.map((i) => i.media)).toEqual(["news/a b.mp4", undefined]);
    // no breaks argument (XMLTV): unchanged items keep their media
    put(
      "ch",
      items.map(({ media: _m, ...rest }) => rest),
    );
    expect(store.listItems("ch")[0].media).toBe("news/a b.mp4");
    // JSON (breaks given): the file's word is final
    store.replaceItems(
      "ch",
      T0,
      T0 + 2 * H,
      back.items.map(({ media: _m, ...rest }) => rest),
      [],
    );
    expect(store.listItems("ch")[0].media).toBeUndefined();
  });
});
