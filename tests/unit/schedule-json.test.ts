import { describe, expect, it } from "vitest";
import { exportJsonSchedule, parseJsonSchedule } from "../../src/schedule/json.js";
import { jsonLineOf } from "../../src/schedule/json-lines.js";
import type { ScheduleItem } from "../../src/schedule/model.js";
import { thrownOnairError } from "../helpers/errors.js";

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const parse = (doc: unknown, channel = "ch") => parseJsonSchedule(JSON.stringify(doc), { channel, source: "s.json" });
const err = thrownOnairError;

describe("JSON schedule import", () => {
  it("reads items with duration or stop, offsets, genre nibbles, rating and item breaks", () => {
    const r = parse({
      channel: "ch",
      items: [
        {
          start: "2025-06-01T14:00:00+02:00",
          duration: 1800,
          title: "Ελληνικά",
          genre: "News",
          rating: { system: "FSK", value: "12" },
          breaks: [{ start: "2025-06-01T12:10:00Z", duration: 90.5, id: "ad-1" }],
        },
        { start: "2025-06-01T12:30:00Z", stop: "2025-06-01T13:00:00.250Z", title: "b", content: { level1: 9, level2: 1 }, rating: 16 },
      ],
    });
    expect(r.items).toEqual([
      {
        startMs: T,
        durationMs: 1800_000,
        title: "Ελληνικά",
        genre: "News",
        content: { level1: 2, level2: 0 },
        parentalRating: { system: "FSK", value: "12", minAge: 12 },
        breaks: [{ offsetMs: 600_000, durationMs: 90_500, breakId: "ad-1" }],
      },
      {
        startMs: T + 1800_000,
        durationMs: 1800_250,
        title: "b",
        content: { level1: 9, level2: 1 },
        parentalRating: { value: "16", minAge: 16 },
      },
    ]);
    expect([r.windowStartMs, r.windowEndMs]).toEqual([T, T + 3600_250]);
  });

  it("widens the window to standalone breaks outside the items", () => {
    const r = parse({
      items: [{ start: "2025-06-01T12:00:00Z", duration: 60, title: "a" }],
      breaks: [{ start: "2025-06-01T13:00:00Z", duration: 30 }],
    });
    expect(r.breaks).toEqual([{ startMs: T + 3600_000, durationMs: 30_000 }]);
    expect(r.windowEndMs).toBe(T + 3630_000);
  });

  it("refuses a break or an item under 1 s with its own code, not a store CHECK failure", () => {
    const tiny = err(() =>
      parse({
        items: [{ start: "2025-06-01T12:00:00Z", duration: 60, title: "a", breaks: [{ start: "2025-06-01T12:00:10Z", duration: 0.0001 }] }],
      }),
    );
    expect(tiny.code).toBe("ONAIR_SCHEDULE_BAD_DURATION");
    expect(tiny.message).toMatch(/^s\.json:1: items\[0\]\.breaks\[0\]\.duration: /);
    expect(err(() => parse({ items: [], breaks: [{ start: "2025-06-01T13:00:00Z", duration: 0.999 }] })).code).toBe(
      "ONAIR_SCHEDULE_BAD_DURATION",
    );
    expect(err(() => parse({ items: [{ start: "2025-06-01T12:00:00Z", duration: 0.0001, title: "a" }] })).code).toBe(
      "ONAIR_SCHEDULE_BAD_DURATION",
    );
    expect(parse({ items: [], breaks: [{ start: "2025-06-01T13:00:00Z", duration: 1 }] }).breaks).toEqual([
      { startMs: T + 3600_000, durationMs: 1000 },
    ]);
  });

  it("names the JSON path of a schema error", () => {
    const e = err(() =>
      parse({
        items: [
          { start: "2025-06-01T12:00:00Z", duration: 60, title: "a" },
          { start: "yesterday", duration: 60, title: "b" },
        ],
      }),
    );
    expect(e.code).toBe("ONAIR_SCHEDULE_BAD_JSON");
    expect(e.message).toMatch(/^s\.json:1: items\[1\]\.start: /);
    expect(err(() => parse({ items: [{ start: "2025-06-01T12:00:00Z", title: "b" }] })).message).toContain(
      "exactly one of duration or stop",
    );
    expect(err(() => parse({ items: [], extra: 1 })).code).toBe("ONAIR_SCHEDULE_BAD_JSON");
    expect(err(() => parse({ items: [{ start: "2025-06-01T12:00:00", duration: 5, title: "no zone" }] })).message).toContain(
      "items[0].start",
    );
  });

  it("refuses malformed JSON, stop before start, overlaps, breaks outside their item and another channel's file", () => {
    expect(err(() => parseJsonSchedule("{ items: ", { channel: "ch" })).code).toBe("ONAIR_SCHEDULE_BAD_JSON");
    expect(err(() => parseJsonSchedule("", { channel: "ch" })).code).toBe("ONAIR_SCHEDULE_EMPTY");
    const stop = err(() => parse({ items: [{ start: "2025-06-01T12:00:00Z", stop: "2025-06-01T11:00:00Z", title: "a" }] }));
    expect([stop.code, stop.fields.path]).toEqual(["ONAIR_SCHEDULE_BAD_TIMES", "items[0].stop"]);
    const overlap = err(() =>
      parse({
        items: [
          { start: "2025-06-01T12:00:00Z", duration: 3600, title: "a" },
          { start: "2025-06-01T12:59:59Z", duration: 60, title: "b" },
        ],
      }),
    );
    expect(overlap.code).toBe("ONAIR_SCHEDULE_OVERLAP");
    expect(overlap.message).toContain("items[1]: overlaps items[0]");
    const brk = err(() =>
      parse({
        items: [{ start: "2025-06-01T12:00:00Z", duration: 60, title: "a", breaks: [{ start: "2025-06-01T12:00:30Z", duration: 60 }] }],
      }),
    );
    expect([brk.code, brk.fields.path]).toEqual(["ONAIR_SCHEDULE_BAD_BREAK", "items[0].breaks[0]"]);
    expect(err(() => parse({ channel: "x", items: [{ start: "2025-06-01T12:00:00Z", duration: 60, title: "a" }] })).code).toBe(
      "ONAIR_SCHEDULE_CHANNEL_MISMATCH",
    );
    expect(err(() => parse({ items: [] })).code).toBe("ONAIR_SCHEDULE_NO_PROGRAMMES");
  });
});

describe("JSON schedule checks", () => {
  const item = (start: string, extra: Record<string, unknown> = {}) => ({ start, duration: 60, title: "a", ...extra });

  it("refuses times the calendar does not have instead of rolling them over, naming the path and line", () => {
    for (const [path, doc] of [
      ["items[1].start", { items: [item("2026-02-28T00:00:00Z"), item("2026-02-30T00:00:00Z")] }],
      ["items[0].stop", { items: [{ start: "2026-04-30T00:00:00Z", stop: "2026-04-31T00:00:00Z", title: "a" }] }],
      ["items[0].breaks[0].start", { items: [item("2026-06-01T00:00:00Z", { breaks: [{ start: "2026-06-01T24:00:00Z", duration: 1 }] })] }],
      ["breaks[0].start", { items: [], breaks: [{ start: "2100-02-29T00:00:00Z", duration: 1 }] }],
    ] as const) {
      const e = err(() => parse(doc));
      expect([e.code, e.fields.path], path).toEqual(["ONAIR_SCHEDULE_BAD_DATE", path]);
      expect(e.message).toContain("not a real calendar date and time");
    }
    expect(parse({ items: [item("2024-02-29T23:59:59.5+01:00")] }).items[0].startMs).toBe(Date.UTC(2024, 1, 29, 22, 59, 59, 500));
  });

  it("names the line of the value at fault in a pretty-printed file", () => {
    const text = JSON.stringify({ items: [item("2025-06-01T12:00:00Z"), item("2025-06-01T12:00:30Z", { title: "b" })] }, null, 2);
    const e = err(() => parseJsonSchedule(text, { channel: "ch", source: "p.json" }));
    expect(e.message).toBe("p.json:8: items[1]: overlaps items[0]");
    expect(e.fields.line).toBe(8);
    expect(jsonLineOf(text, ["items", 1, "title"])).toBe(11);
    expect(jsonLineOf('{"a":[1,{"b":"x\\"\n"}],\n"c":{"d":[true,\nnull]}}', ["c", "d", 1])).toBe(3);
    expect(jsonLineOf('{"a":1}', ["b"])).toBeUndefined();
  });

  it("refuses a title over 1 KiB, a description over 16 KiB and a long break id, naming the path", () => {
    const cases: [unknown, string, number][] = [
      [{ items: [item("2025-06-01T12:00:00Z", { title: "t".repeat(1025) })] }, "items[0].title", 1025],
      [{ items: [item("2025-06-01T12:00:00Z", { description: "日".repeat(5462) })] }, "items[0].description", 16386],
      [{ items: [item("2025-06-01T12:00:00Z", { episodeNum: [{ system: "s", value: "v".repeat(1025) }] })] }, "items[0].episodeNum", 1025],
      [{ items: [], breaks: [{ start: "2025-06-01T12:00:00Z", duration: 1, id: "i".repeat(1025) }] }, "breaks[0].id", 1025],
    ];
    for (const [doc, path, bytes] of cases) {
      const e = err(() => parse(doc));
      expect([e.code, e.fields.path, e.fields.bytes], path).toEqual(["ONAIR_SCHEDULE_TEXT_TOO_LONG", path, bytes]);
    }
    expect(parse({ items: [item("2025-06-01T12:00:00Z", { title: "é".repeat(512), description: "d".repeat(16384) })] }).items).toHaveLength(
      1,
    );
  });

  it("refuses items and standalone breaks that start outside the accepted window", () => {
    const starts = { fromMs: T - 3600_000, toMs: T + 3600_000 };
    const opts = { channel: "ch", starts };
    expect(parseJsonSchedule(JSON.stringify({ items: [item("2025-06-01T12:00:00Z")] }), opts).items).toHaveLength(1);
    const e = err(() => parseJsonSchedule(JSON.stringify({ items: [item("0025-06-01T12:00:00Z")] }), opts));
    expect([e.code, e.fields.path]).toEqual(["ONAIR_SCHEDULE_OUT_OF_RANGE", "items[0].start"]);
    expect(e.message).toContain("starts 0025-06-01T12:00:00Z, outside 2025-06-01T11:00:00Z … 2025-06-01T13:00:00Z");
    const b = err(() => parseJsonSchedule(JSON.stringify({ items: [], breaks: [{ start: "2025-06-01T13:00:01Z", duration: 1 }] }), opts));
    expect([b.code, b.fields.path]).toEqual(["ONAIR_SCHEDULE_OUT_OF_RANGE", "breaks[0].start"]);
  });
});

describe("JSON schedule export", () => {
  it("reads back to the same items and standalone breaks", () => {
    const items: ScheduleItem[] = [
      {
        id: 3,
        channel: "ch",
        eventId: 77,
        startMs: T,
        durationMs: 1800_500,
        title: "Übertragung – Ελληνικά – 日本語",
        subtitle: "s",
        description: 'd\n"q"',
        language: "ja",
        genre: "Something",
        content: { level1: 15, level2: 3 },
        parentalRating: { system: "MPAA", value: "PG-13", minAge: 13 },
        episodeNums: [{ system: "onscreen", value: "S01E02" }],
        breaks: [{ offsetMs: 60_000, durationMs: 30_000, breakId: "b" }],
      },
    ];
    const breaks = [{ channel: "ch", startMs: T + 3600_000, durationMs: 15_000, breakId: "s1" }];
    const back = parseJsonSchedule(exportJsonSchedule("ch", items, breaks), { channel: "ch" });
    expect(back.items).toEqual(items.map(({ id: _i, channel: _c, eventId: _e, ...rest }) => rest));
    expect(back.breaks).toEqual([{ startMs: T + 3600_000, durationMs: 15_000, breakId: "s1" }]);
  });
});
