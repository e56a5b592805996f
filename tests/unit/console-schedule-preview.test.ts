/**
 * The console's schedule preview (src/console/schedule-preview.ts): a pure diff of a parsed
 * file against what the store holds in the file's window, by the rules of Store.replaceItems,
 * and the basis digest of that window. Checked against the real import into a real store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { basisOf, changedFields, previewSchedule, type WindowNow } from "../../src/console/schedule-preview.js";
import { ManualClock } from "../../src/core/clock.js";
import { parseScheduleBytes } from "../../src/schedule/import.js";
import type { ParsedSchedule, ScheduleItem, ScheduleItemInput } from "../../src/schedule/model.js";
import { openStore, type Store } from "../../src/store/db.js";

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function stored(startH: number, hours: number, title: string, extra: Partial<ScheduleItem> = {}): ScheduleItem {
  return { id: startH, channel: "c", startMs: T0 + startH * H, durationMs: hours * H, title, eventId: 100 + startH, breaks: [], ...extra };
}
function item(startH: number, hours: number, title: string, extra: Partial<ScheduleItemInput> = {}): ScheduleItemInput {
  return { startMs: T0 + startH * H, durationMs: hours * H, title, ...extra };
}
function xmltv(items: ScheduleItemInput[], from = items[0].startMs): ParsedSchedule {
  const last = items[items.length - 1];
  return { items, windowStartMs: from, windowEndMs: last.startMs + last.durationMs };
}

describe("schedule preview: the diff", () => {
  it("lists added, changed (naming the fields) and removed items, and counts the unchanged", () => {
    const now: WindowNow = {
      items: [stored(0, 1, "News"), stored(1, 1, "Film"), stored(2, 1, "Gone"), stored(3, 1, "Sport", { description: "old" })],
      breaks: [],
    };
    const file = xmltv([item(0, 1, "News"), item(1, 2, "Film"), item(3, 1, "Sport", { description: "new" }), item(4, 1, "Late show")]);
    const p = previewSchedule(file, now);
    expect(p.unchanged).toBe(1);
    expect(p.added.map((i) => i.title)).toEqual(["Late show"]);
    expect(p.removed.map((i) => [i.title, i.eventId])).toEqual([["Gone", 102]]);
    expect(p.changed.map((c) => [c.before.title, c.fields])).toEqual([
      ["Film", ["end"]],
      ["Sport", ["description"]],
    ]);
    expect(p.changed[0].after.end).toBe(new Date(T0 + 3 * H).toISOString());
    expect(p.from).toBe(new Date(T0).toISOString());
    expect(p.to).toBe(new Date(T0 + 5 * H).toISOString());
    expect(p.standaloneBreaks).toBeUndefined();
  });

  it("lists a stored item that runs into the window as changed: it is cut at the window start", () => {
    const now: WindowNow = { items: [stored(0, 3, "Long film", { breaks: [{ offsetMs: 2.5 * H, durationMs: 60_000 }] })], breaks: [] };
    const p = previewSchedule(xmltv([item(2, 1, "News")]), now);
    expect(p.changed).toHaveLength(1);
    expect(p.changed[0].fields).toEqual(["end"]);
    expect(p.changed[0].after.end).toBe(new Date(T0 + 2 * H).toISOString());
    expect(p.changed[0].after.breaks).toEqual([]);
    expect(p.added.map((i) => i.title)).toEqual(["News"]);
  });

  it("keeps breaks and media out of an XMLTV diff (the import keeps them), and compares them for JSON", () => {
    const withBreak = stored(0, 1, "News", { breaks: [{ offsetMs: 600_000, durationMs: 30_000 }], media: "news.mp4" });
    const now: WindowNow = { items: [withBreak], breaks: [{ channel: "c", startMs: T0 + 30 * 60_000, durationMs: 60_000 }] };
    const x = previewSchedule(xmltv([item(0, 1, "News")]), now);
    expect(x.unchanged).toBe(1);
    const json: ParsedSchedule = { ...xmltv([item(0, 1, "News")]), breaks: [] };
    const j = previewSchedule(json, now);
    expect(j.changed[0].fields).toEqual(["breaks", "media"]);
    expect(j.standaloneBreaks).toEqual({ added: 0, removed: 1, unchanged: 0 });
  });

  it("compares every descriptive field", () => {
    const a = item(0, 1, "A", { subtitle: "s", genre: "News", language: "en", content: { level1: 2, level2: 0 } });
    expect(changedFields(a, { ...a }, false)).toEqual([]);
    expect(
      changedFields(
        a,
        { ...a, subtitle: "t", genre: "Film", parentalRating: { value: "12" }, episodeNums: [{ system: "x", value: "1" }] },
        false,
      ),
    ).toEqual(["subtitle", "genre", "rating", "episodeNums"]);
  });

  it("gives the same basis for the same window and another one when anything in it changes", () => {
    const now: WindowNow = { items: [stored(0, 1, "News"), stored(1, 1, "Film")], breaks: [] };
    const basis = basisOf(now);
    expect(basis).toMatch(/^[0-9a-f]{32}$/);
    expect(basisOf({ items: [stored(0, 1, "News"), stored(1, 1, "Film")], breaks: [] })).toBe(basis);
    expect(basisOf({ items: [stored(0, 1, "News"), stored(1, 1, "Film", { description: "x" })], breaks: [] })).not.toBe(basis);
    expect(basisOf({ items: [stored(0, 1, "News")], breaks: [] })).not.toBe(basis);
    expect(basisOf({ ...now, breaks: [{ channel: "c", startMs: T0, durationMs: 1000 }] })).not.toBe(basis);
  });
});

describe("schedule preview: against the real import", () => {
  let dir = "";
  let store: Store;
  const clock = new ManualClock(T0);
  const doc = (progs: [number, number, string, string?][]): Buffer =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n<channel id="c"><display-name>c</display-name></channel>\n${progs
        .map(
          ([s, h, title, desc]) =>
            `<programme start="${stamp(T0 + s * H)}" stop="${stamp(T0 + (s + h) * H)}" channel="c"><title>${title}</title>${desc ? `<desc>${desc}</desc>` : ""}</programme>\n`,
        )
        .join("")}</tv>\n`,
    );
  const stamp = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)} +0000`;
  const window = (p: ParsedSchedule): WindowNow => ({
    items: store.listItems("c", p.windowStartMs, p.windowEndMs),
    breaks: store.listBreaks("c", p.windowStartMs, p.windowEndMs),
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-preview-"));
    store = openStore(join(dir, "onair.db"), { clock });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("predicts what replaceItems writes, and reading it writes nothing", () => {
    const opts = { channel: "c", clock };
    const first = parseScheduleBytes(
      doc([
        [0, 1, "News"],
        [1, 1, "Film"],
        [2, 1, "Gone"],
      ]),
      "xmltv",
      opts,
    );
    store.replaceItems("c", first.windowStartMs, first.windowEndMs, first.items, first.breaks);
    const second = parseScheduleBytes(
      doc([
        [0, 1, "News"],
        [1, 1, "Film", "now with a description"],
        [3, 1, "New"],
      ]),
      "xmltv",
      opts,
    );
    const before = window(second);
    const basis = basisOf(before);
    const p = previewSchedule(second, before);
    expect([p.added.length, p.changed.length, p.removed.length, p.unchanged]).toEqual([1, 1, 1, 1]);
    // the preview wrote nothing
    expect(basisOf(window(second))).toBe(basis);
    const r = store.replaceItems("c", second.windowStartMs, second.windowEndMs, second.items, second.breaks);
    expect(r.removed).toBe(p.removed.length + p.changed.length + p.unchanged);
    expect(r.keptEventIds).toBe(p.unchanged + p.changed.filter((c) => !c.fields.includes("title") && !c.fields.includes("end")).length);
    expect(store.listItems("c").map((i) => i.title)).toEqual(["News", "Film", "New"]);
    expect(basisOf(window(second))).not.toBe(basis);
  });
});
