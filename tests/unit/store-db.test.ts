import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/core/clock.js";
import { OnairError } from "../../src/core/errors.js";
import { SCHEMA_VERSION, SPLICE_EVENT_ID_MAX, openStore, type Store } from "../../src/store/db.js";
import { MIGRATIONS } from "../../src/store/migrations.js";

let dir: string;
const open: Store[] = [];
function storeAt(file = path.join(dir, "onair.db"), clock?: ManualClock): Store {
  const s = openStore(file, clock ? { clock } : {});
  open.push(s);
  return s;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-store-"));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OnairError ? e.code : `not an OnairError: ${String(e)}`;
  }
  return undefined;
}

describe("openStore", () => {
  it("creates the file and its missing parent directories, in WAL mode with foreign keys and a busy timeout", () => {
    const file = path.join(dir, "a", "b", "onair.db");
    const s = storeAt(file);
    expect(fs.existsSync(file)).toBe(true);
    expect(s.raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(s.raw.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(s.raw.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThan(0);
  });

  it("creates the store and its -wal/-shm 0600 and a missing directory 0700, whatever the umask", () => {
    const file = path.join(dir, "new", "onair.db");
    const umask = process.umask(0);
    try {
      const s = storeAt(file);
      s.insertAsRun({ channel: "c", kind: "item", actualMs: 1 }); // the -wal and -shm exist while open
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(umask);
    }
  });

  it("tightens an existing store and its -wal/-shm to 0600", () => {
    const file = path.join(dir, "old.db");
    const a = openStore(file);
    a.insertAsRun({ channel: "c", kind: "item", actualMs: 1 });
    // as an older onair left them (and keeps them: a second connection holds the -wal/-shm)
    const keep = new Database(file);
    keep.prepare("SELECT count(*) FROM asrun").get();
    a.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.chmodSync(f, 0o644);
    const b = storeAt(file);
    keep.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
    expect(b.queryAsRun({ channel: "c" })).toHaveLength(1);
  });

  it("keeps data and the schema version when reopened (migrations run once)", () => {
    const file = path.join(dir, "onair.db");
    const a = openStore(file);
    a.insertAsRun({ channel: "c", kind: "item", actualMs: 1000 });
    a.close();
    const b = storeAt(file);
    expect(b.schemaVersion).toBe(SCHEMA_VERSION);
    expect(b.queryAsRun({ channel: "c" })).toHaveLength(1);
  });

  it("keeps items and their breaks when migration 6 rebuilds schedule_items, and then lets past items share an event id", () => {
    const file = path.join(dir, "v5.db");
    const db = new Database(file);
    for (let v = 0; v < 5; v++) db.exec(MIGRATIONS[v]);
    db.pragma("user_version = 5");
    db.pragma("foreign_keys = ON");
    const item = db.prepare(
      "INSERT INTO schedule_items (channel, start_ms, duration_ms, title, event_id, media) VALUES ('c', 1000, 60000, 'old', 7, 'a.mp4')",
    );
    const itemId = Number(item.run().lastInsertRowid);
    db.prepare("INSERT INTO item_breaks (item_id, offset_ms, duration_ms, break_id) VALUES (?, 5000, 30000, 'b1')").run(itemId);
    db.close();
    const s = storeAt(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(s.listItems("c")).toEqual([
      expect.objectContaining({ id: itemId, eventId: 7, media: "a.mp4", breaks: [{ offsetMs: 5000, durationMs: 30000, breakId: "b1" }] }),
    ]);
    s.raw
      .prepare("INSERT INTO schedule_items (channel, start_ms, duration_ms, title, event_id) VALUES ('c', 2000000, 60000, 'new', 7)")
      .run();
    s.raw.prepare("DELETE FROM schedule_items WHERE id = ?").run(itemId);
    expect(s.raw.prepare("SELECT count(*) FROM item_breaks").pluck().get()).toBe(0); // the cascade refers to the rebuilt table
  });

  it("migrates an empty SQLite file created elsewhere", () => {
    const file = path.join(dir, "plain.db");
    new Database(file).close();
    expect(storeAt(file).schemaVersion).toBe(SCHEMA_VERSION);
  });

  it("refuses a store written by a newer onair", () => {
    const file = path.join(dir, "new.db");
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(codeOf(() => openStore(file))).toBe("ONAIR_STORE_TOO_NEW");
  });

  it("reports a file that is not a database with a store error code", () => {
    const file = path.join(dir, "junk.db");
    fs.writeFileSync(file, "this is not sqlite, just text ".repeat(200));
    expect(codeOf(() => openStore(file))).toBe("ONAIR_STORE_OPEN_FAILED");
  });
});

describe("splice_event_id allocation", () => {
  it("counts from 1 per channel, independently for each channel", () => {
    const s = storeAt();
    expect([
      s.allocateSpliceEventId("a"),
      s.allocateSpliceEventId("a"),
      s.allocateSpliceEventId("b"),
      s.allocateSpliceEventId("a"),
    ]).toEqual([1, 2, 1, 3]);
  });

  it("never hands out an id again after a restart", () => {
    const file = path.join(dir, "onair.db");
    const a = openStore(file);
    const first = [a.allocateSpliceEventId("ch"), a.allocateSpliceEventId("ch")];
    a.close();
    const b = storeAt(file);
    const next = b.allocateSpliceEventId("ch");
    expect(first).not.toContain(next);
    expect(next).toBe(Math.max(...first) + 1);
  });

  it("hands out distinct ids to two processes sharing the store file", () => {
    const file = path.join(dir, "onair.db");
    const a = storeAt(file);
    const b = storeAt(file);
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) ids.push(a.allocateSpliceEventId("ch"), b.allocateSpliceEventId("ch"));
    expect(new Set(ids).size).toBe(100);
  });

  it("wraps after 2^32-1 to 1, never using 0, skipping ids whose break is not over", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const s = storeAt(undefined, clock);
    s.allocateSpliceEventId("ch", { breakEndMs: clock.now() + 60_000 }); // 1
    s.allocateSpliceEventId("ch", { breakEndMs: clock.now() + 5 * 3600_000 }); // 2
    s.raw.prepare("UPDATE splice_counters SET last_id = ? WHERE channel = ?").run(SPLICE_EVENT_ID_MAX - 1, "ch");
    expect(s.allocateSpliceEventId("ch")).toBe(0xffffffff);
    expect(s.allocateSpliceEventId("ch")).toBe(3);
    s.raw.prepare("UPDATE splice_counters SET last_id = ? WHERE channel = ?").run(SPLICE_EVENT_ID_MAX, "ch");
    clock.advance(2 * 3600_000); // 1's break ended over an hour ago, 2's is still on
    expect(s.allocateSpliceEventId("ch")).toBe(1);
    expect(s.allocateSpliceEventId("ch")).toBe(4);
  });

  it("keeps an allocated id even when the caller's later work fails", () => {
    const s = storeAt();
    const id = s.allocateSpliceEventId("ch");
    expect(() =>
      s.transaction("failing", () => {
        throw new Error("boom");
      }),
    ).toThrow();
    expect(s.allocateSpliceEventId("ch")).toBe(id + 1);
  });
});

describe("cues", () => {
  it("records a cue with the store clock's time and marks it sent once", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const s = storeAt(undefined, clock);
    const eventId = s.allocateSpliceEventId("ch");
    const id = s.recordCue({
      channel: "ch",
      spliceEventId: eventId,
      kind: "out",
      scheduledMs: 1_700_000_006_000,
      pts: 123456,
      section: "/DAl",
      details: { duration: 30 },
    });
    clock.advance(2000);
    s.markCueSent(id);
    clock.advance(1000);
    s.markCueSent(id);
    const cues = s.listCues("ch");
    expect(cues).toHaveLength(1);
    expect(cues[0]).toMatchObject({
      id,
      channel: "ch",
      spliceEventId: eventId,
      kind: "out",
      scheduledMs: 1_700_000_006_000,
      createdMs: 1_700_000_000_000,
      sentMs: 1_700_000_002_000,
      pts: 123456,
      section: "/DAl",
      details: { duration: 30 },
    });
    expect(s.listCues("other")).toEqual([]);
  });

  it("finds the cues of one splice_event_id", () => {
    const s = storeAt();
    s.recordCue({ channel: "ch", spliceEventId: 7, kind: "out" });
    s.recordCue({ channel: "ch", spliceEventId: 8, kind: "out" });
    s.recordCue({ channel: "ch", spliceEventId: 7, kind: "in" });
    expect(s.listCues("ch", { spliceEventId: 7 }).map((c) => c.kind)).toEqual(["out", "in"]);
  });

  it("gives a channel's most recent cue, and nothing for a channel without cues", () => {
    const s = storeAt();
    s.recordCue({ channel: "ch", spliceEventId: 7, kind: "out" });
    s.recordCue({ channel: "other", spliceEventId: 9, kind: "out" });
    s.recordCue({ channel: "ch", spliceEventId: 7, kind: "in" });
    expect(s.lastCue("ch")).toMatchObject({ spliceEventId: 7, kind: "in" });
    expect(s.lastCue("other")).toMatchObject({ spliceEventId: 9, kind: "out" });
    expect(s.lastCue("none")).toBeUndefined();
  });
});

describe("as-run log", () => {
  it("stores entries and returns them by channel, kind and time window, oldest first", () => {
    const clock = new ManualClock(5000);
    const s = storeAt(undefined, clock);
    s.insertAsRun({ channel: "a", kind: "item", scheduledMs: 3000, actualMs: 3100, eventId: 12, details: { title: "Ελληνικά" } });
    s.insertAsRun({ channel: "a", kind: "cue", scheduledMs: 1000, actualMs: 1000, pts: 90000, eventId: 4 });
    s.insertAsRun({ channel: "b", kind: "item", actualMs: 2000 });
    s.insertAsRun({ channel: "a", kind: "item" });
    const all = s.queryAsRun({ channel: "a" });
    expect(all.map((e) => e.actualMs)).toEqual([1000, 3100, 5000]);
    expect(all[1]).toMatchObject({ kind: "item", scheduledMs: 3000, eventId: 12, details: { title: "Ελληνικά" } });
    expect(all[0]).toMatchObject({ kind: "cue", pts: 90000, eventId: 4 });
    expect(s.queryAsRun({ channel: "a", kind: "item" }).map((e) => e.actualMs)).toEqual([3100, 5000]);
    expect(s.queryAsRun({ fromMs: 1500, toMs: 5000 }).map((e) => e.channel)).toEqual(["b", "a"]);
    expect(s.queryAsRun({ limit: 2 })).toHaveLength(2);
  });
});
