import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/db.js";
import { csvField, exportAsRun, recordItemAired } from "../../src/store/asrun-export.js";

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-asrun-"));
  store = openStore(join(dir, "onair.db"));
  recordItemAired(store, "news", { startMs: T, durationMs: 1800_000, title: 'News, at "noon"', eventId: 42 }, T + 40, 900_000);
  store.insertAsRun({
    channel: "news",
    kind: "cue",
    scheduledMs: T + 600_000,
    actualMs: T + 600_020,
    pts: 54_900_000,
    eventId: 7,
    details: { kind: "out", command: "splice_insert" },
  });
  recordItemAired(store, "news", { startMs: T + 1800_000, durationMs: 600_000, title: "Weather", eventId: 43 }, T + 1800_000);
  recordItemAired(store, "sport", { startMs: T, durationMs: 60_000, title: "Other channel", eventId: 1 }, T);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("as-run export", () => {
  it("writes items aired with scheduled and actual time, offset, PTS and event id as CSV", () => {
    const csv = exportAsRun(store, { channel: "news" }, "csv");
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("id,channel,kind,scheduled,actual,offset_ms,pts,event_id,title,details");
    expect(lines[1]).toBe(
      `1,news,item,2025-06-01T12:00:00.000Z,2025-06-01T12:00:00.040Z,40,900000,42,"News, at ""noon""","{""title"":""News, at \\""noon\\"""",""durationMs"":1800000}"`,
    );
    expect(lines[2]).toMatch(/^2,news,cue,2025-06-01T12:10:00\.000Z,2025-06-01T12:10:00\.020Z,20,54900000,7,splice_insert,/);
    expect(lines).toHaveLength(5); // header, 3 rows, trailing empty
  });

  it("filters on actual time: --from inclusive, --to exclusive", () => {
    const j = JSON.parse(exportAsRun(store, { channel: "news", fromMs: T + 600_020, toMs: T + 1800_000 }, "json"));
    expect(j.count).toBe(1);
    expect(j.entries[0]).toMatchObject({ kind: "cue", eventId: 7, pts: 54_900_000, offsetMs: 20, actual: "2025-06-01T12:10:00.020Z" });
    expect(j.from).toBe("2025-06-01T12:10:00.020Z");
    const all = JSON.parse(exportAsRun(store, { channel: "news", fromMs: T + 600_020 }, "json"));
    expect(all.entries.map((e: { eventId: number }) => e.eventId)).toEqual([7, 43]);
  });

  it("filters on kind and channel", () => {
    const j = JSON.parse(exportAsRun(store, { channel: "news", kind: "item" }, "json"));
    expect(j.entries.map((e: { title: string }) => e.title)).toEqual(['News, at "noon"', "Weather"]);
    expect(JSON.parse(exportAsRun(store, { channel: "sport" }, "json")).count).toBe(1);
  });

  it("quotes CSV fields and defuses spreadsheet formulas", () => {
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField(-5)).toBe("-5");
    expect(csvField(null)).toBe("");
  });
});
