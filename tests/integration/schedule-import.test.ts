/**
 * Schedule import against a real SQLite file: the 7-day, two-channel acceptance import,
 * re-imports that keep event ids, and bad imports that must leave the store byte-for-byte
 * unchanged (compared through a full dump of every table).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OnairError } from "../../src/core/errors.js";
import { ManualClock } from "../../src/core/clock.js";
import { MAX_IMPORT_BYTES, exportSchedule, importScheduleFile, importScheduleText, type ImportOptions } from "../../src/schedule/import.js";
import { openStore, type Store } from "../../src/store/db.js";
import { generateProgrammes, programmesToXmltv, UTF8_TITLE, type GenProgramme } from "../helpers/xmltv.js";

let dir: string;
let store: Store;
const week = generateProgrammes({ channels: [{ id: "one" }, { id: "two" }], days: 7, perDay: 40 });
const weekXml = programmesToXmltv(week);
/** "now" for the import window: the first day of the generated week */
const clock = new ManualClock(Date.UTC(2025, 5, 1));

function write(name: string, text: string | Buffer): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** Every row of every table, plus the schema version. */
function dump(s: Store): string {
  const tables = s.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  const out: Record<string, unknown> = { user_version: s.schemaVersion };
  for (const t of tables) out[t] = s.raw.prepare(`SELECT * FROM "${t}" ORDER BY 1`).all();
  return JSON.stringify(out);
}

function importError(file: string, opts: ImportOptions): OnairError {
  try {
    importScheduleFile(store, file, opts);
  } catch (e) {
    if (e instanceof OnairError) return e;
    throw e;
  }
  throw new Error("the import did not fail");
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-import-"));
});
afterAll(() => {
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  store?.close();
  const file = path.join(dir, `store-${Math.random().toString(36).slice(2)}.db`);
  store = openStore(file);
});

const expectedFor = (ch: string): GenProgramme[] => week.filter((p) => p.channel === ch);

describe("importing a week of XMLTV for two channels", () => {
  it("stores every programme of each channel in UTC with its UTF-8 text, category, rating and episode", () => {
    const file = write("week.xml", weekXml);
    const r1 = importScheduleFile(store, file, { clock, channel: "one" });
    const r2 = importScheduleFile(store, file, { clock, channel: "tv2", xmltvChannel: "two" });
    expect([r1.inserted, r2.inserted]).toEqual([280, 280]);
    for (const [ch, xid] of [
      ["one", "one"],
      ["tv2", "two"],
    ]) {
      const items = store.listItems(ch);
      const exp = expectedFor(xid);
      expect(items.map((i) => [i.startMs, i.startMs + i.durationMs, i.title, i.subtitle, i.description, i.language, i.genre])).toEqual(
        exp.map((p) => [p.startMs, p.stopMs, p.title, p.subtitle, p.description, p.lang, p.category]),
      );
      expect(items.map((i) => i.parentalRating?.value)).toEqual(exp.map((p) => p.rating?.value));
      expect(items.map((i) => i.episodeNums?.[0].value)).toEqual(exp.map((p) => p.episode));
      expect(new Set(items.map((i) => i.eventId)).size).toBe(280);
    }
    expect(store.listItems("one")[0].title).toBe(`${UTF8_TITLE} 0`);
    expect(store.listItems("one").filter((i) => i.content).length).toBeGreaterThan(200);
  });

  it("keeps every event id when the same file is imported again", () => {
    const file = write("week.xml", weekXml);
    importScheduleFile(store, file, { clock, channel: "one" });
    const before = store.listItems("one").map((i) => i.eventId);
    const r = importScheduleFile(store, file, { clock, channel: "one" });
    expect(r.keptEventIds).toBe(280);
    expect(store.listItems("one").map((i) => i.eventId)).toEqual(before);
  });

  it("replaces only the day a partial file covers, new event ids only for changed items", () => {
    importScheduleText(store, weekXml, "xmltv", { clock, channel: "one" });
    const before = store.listItems("one");
    const day3 = expectedFor("one")
      .slice(80, 120)
      .map((p, i) => (i === 5 ? { ...p, title: "Sondersendung" } : p));
    importScheduleText(store, programmesToXmltv(day3, [{ id: "one" }]), "xmltv", { clock, channel: "one" });
    const after = store.listItems("one");
    expect(after).toHaveLength(280);
    const ws = day3[0].startMs;
    const we = day3[day3.length - 1].stopMs;
    const outside = (i: { startMs: number }) => i.startMs < ws || i.startMs >= we;
    expect(after.filter(outside)).toEqual(before.filter(outside));
    const changed = after.filter((i) => !outside(i) && i.eventId !== before.find((b) => b.startMs === i.startMs)?.eventId);
    expect(changed.map((i) => i.title)).toEqual(["Sondersendung"]);
    expect(before.map((i) => i.eventId)).not.toContain(changed[0].eventId);
  });
});

describe("a bad import leaves the store unchanged", () => {
  const one = expectedFor("one");
  function nth(text: string, needle: string, n: number): number {
    let i = -1;
    for (let k = 0; k <= n; k++) i = text.indexOf(needle, i + 1);
    return i;
  }
  function check(name: string, text: string | Buffer, code: string, message?: RegExp): OnairError {
    importScheduleText(store, weekXml, "xmltv", { clock, channel: "one" });
    importScheduleText(store, weekXml, "xmltv", { clock, channel: "two" });
    store.allocateSpliceEventId("one");
    const before = dump(store);
    const e = importError(write(name, text), { clock, channel: "one" });
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
    expect(dump(store)).toBe(before);
    return e;
  }

  it("an unclosed tag", () => {
    const at = nth(weekXml, "</title>", 100);
    const line = weekXml.slice(0, at).split("\n").length;
    const e = check(
      "unclosed.xml",
      weekXml.slice(0, at) + weekXml.slice(at + 8),
      "ONAIR_SCHEDULE_BAD_XML",
      /^unclosed\.xml:\d+:\d+: malformed XML/,
    );
    // reported where the parser notices: at the unclosed title or the closing tags after it
    expect(e.fields.line).toBeGreaterThanOrEqual(line);
    expect(e.fields.line).toBeLessThanOrEqual(line + 8);
  });

  it('a start="garbage"', () => {
    const at = nth(weekXml, 'start="', 150);
    const bad = `${weekXml.slice(0, at)}start="garbage" old-${weekXml.slice(at)}`;
    const line = bad.slice(0, at).split("\n").length;
    check("garbage.xml", bad, "ONAIR_SCHEDULE_BAD_DATE", new RegExp(`^garbage\\.xml:${line}: programme #151 .*start="garbage"`));
  });

  it("a stop before the start", () => {
    const progs = one.map((p, i) => (i === 200 ? { ...p, stopMs: p.startMs - 60_000 } : p));
    check("stop.xml", programmesToXmltv(progs), "ONAIR_SCHEDULE_BAD_TIMES", /programme #201 /);
  });

  it("overlapping programmes", () => {
    const progs = one.map((p, i) => (i === 42 ? { ...p, startMs: p.startMs - 60_000 } : p));
    check("overlap.xml", programmesToXmltv(progs), "ONAIR_SCHEDULE_OVERLAP", /programme #43 .*overlaps programme #42/);
  });

  it("a programme of an undeclared channel", () => {
    const at = nth(weekXml, 'channel="two"', 30);
    check(
      "unknown.xml",
      `${weekXml.slice(0, at)}channel="three"${weekXml.slice(at + 'channel="two"'.length)}`,
      "ONAIR_SCHEDULE_UNKNOWN_CHANNEL",
      /"three"/,
    );
  });

  it("an empty file", () => {
    check("empty.xml", "", "ONAIR_SCHEDULE_EMPTY");
  });

  it("a file without programmes for the channel", () => {
    check("other.xml", programmesToXmltv(expectedFor("two")), "ONAIR_SCHEDULE_NO_PROGRAMMES", /"one"/);
  });

  /** 1-based line of the n-th (from 0) occurrence of `needle`. */
  function lineOfNth(text: string, needle: string, n: number): number {
    return text.slice(0, nth(text, needle, n)).split("\n").length;
  }

  it("a 35 KB XMLTV whose DOCTYPE entity would expand to a 50 MB title (refused before parsing)", () => {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv [\n<!ENTITY big "${"A".repeat(10_000)}">\n]>\n<tv>\n<channel id="one"/>\n` +
      `<programme start="20250602000000 +0000" stop="20250602010000 +0000" channel="one"><title>${"&big;".repeat(5000)}</title></programme>\n</tv>\n`;
    expect(xml.length).toBeGreaterThan(35_000);
    expect(xml.length).toBeLessThan(36_000);
    const e = check("entities.xml", xml, "ONAIR_XMLTV_ENTITY", /^entities\.xml:3: the DOCTYPE declares entity "big"/);
    expect(e.fields).toMatchObject({ line: 3, entity: "big" });
  });

  it("a 10 MB title", () => {
    const progs = one.slice(0, 10).map((p, i) => (i === 3 ? { ...p, title: "T".repeat(10_000_000) } : p));
    const xml = programmesToXmltv(progs, [{ id: "one" }]);
    const line = lineOfNth(xml, "<programme ", 3);
    const e = check(
      "title.xml",
      xml,
      "ONAIR_SCHEDULE_TEXT_TOO_LONG",
      new RegExp(`^title\\.xml:${line}: programme #4 .*the title is 10000000 bytes of UTF-8; the limit is 1024$`),
    );
    expect(e.fields).toMatchObject({ programme: 4, line, field: "title", bytes: 10_000_000, limit: 1024 });
  });

  it("a JSON description over 16 KiB", () => {
    const items = [{ start: "2025-06-03T00:00:00Z", duration: 60, title: "a", description: "é".repeat(8193) }];
    check(
      "desc.json",
      JSON.stringify({ items }),
      "ONAIR_SCHEDULE_TEXT_TOO_LONG",
      /^desc\.json:1: items\[0\]\.description: 16386 bytes of UTF-8; the limit is 16384$/,
    );
  });

  it("a year typo (0025 for 2025), which once widened the replace window to 1925 and wiped the channel", () => {
    // start and stop: a typo in the start alone makes a programme longer than 7 days
    const at = nth(weekXml, 'start="2025', 150);
    const bad = `${weekXml.slice(0, at)}start="0025${weekXml.slice(at + 'start="2025'.length).replace('stop="2025', 'stop="0025')}`;
    const e = check("typo.xml", bad, "ONAIR_SCHEDULE_OUT_OF_RANGE", /programme #151 .*starts 0025-\d\d-\d\dT.*--force/);
    expect(e.fields.line).toBe(lineOfNth(bad, "<programme ", 150));
  });

  it("a JSON start on 2026-02-30", () => {
    const items = [
      { start: "2025-06-03T00:00:00Z", duration: 60, title: "a" },
      { start: "2026-02-30T00:00:00Z", duration: 60, title: "b" },
    ];
    const e = check(
      "feb30.json",
      JSON.stringify({ items }, null, 2),
      "ONAIR_SCHEDULE_BAD_DATE",
      /^feb30\.json:9: items\[1\]\.start: not a real calendar date/,
    );
    expect(e.fields).toMatchObject({ path: "items[1].start", line: 9 });
  });

  it("bytes that are not UTF-8, naming their line", () => {
    const bytes = Buffer.from(weekXml);
    const at = Buffer.from(weekXml.slice(0, nth(weekXml, "<title", 70))).length + 20;
    bytes[at] = 0xff;
    const line = lineOfNth(weekXml, "<title", 70);
    check("bytes.xml", bytes, "ONAIR_SCHEDULE_INVALID_TEXT", new RegExp(`^bytes\\.xml:${line}: bytes that are not utf-8 text`));
  });

  it("an unknown entity, naming its line", () => {
    const at = nth(weekXml, "</title>", 40);
    const bad = `${weekXml.slice(0, at)} &foo;${weekXml.slice(at)}`;
    const line = lineOfNth(weekXml, "</title>", 40);
    check("entity.xml", bad, "ONAIR_XMLTV_UNKNOWN_ENTITY", new RegExp(`^entity\\.xml:${line}: unknown entity &foo;`));
  });

  it("a file over 32 MiB, without reading it", () => {
    importScheduleText(store, weekXml, "xmltv", { clock, channel: "one" });
    const before = dump(store);
    const file = write("huge.xml", "");
    fs.truncateSync(file, MAX_IMPORT_BYTES + 1);
    const e = importError(file, { clock, channel: "one" });
    expect([e.code, e.fields.size, e.fields.limit]).toEqual(["ONAIR_SCHEDULE_TOO_LARGE", MAX_IMPORT_BYTES + 1, 32 * 1024 * 1024]);
    expect(dump(store)).toBe(before);
  });

  it("a JSON file with an overlap", () => {
    const items = [
      { start: "2025-06-03T00:00:00Z", duration: 3600, title: "a" },
      { start: "2025-06-03T00:30:00Z", duration: 3600, title: "b" },
    ];
    check("overlap.json", JSON.stringify({ items }), "ONAIR_SCHEDULE_OVERLAP", /items\[1\]/);
  });
});

describe("large files", () => {
  it("imports a 30 MB XMLTV file (the limit is 32 MiB) in one clean transaction", () => {
    const programmes = generateProgrammes({ channels: [{ id: "big" }], count: 21_000, descLength: 700, perDay: 96 });
    const xml = programmesToXmltv(programmes);
    const file = write("big.xml", xml);
    expect(fs.statSync(file).size).toBeGreaterThanOrEqual(29 * 1000 * 1000);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(MAX_IMPORT_BYTES);
    const r = importScheduleFile(store, file, { clock, channel: "big" });
    expect(r.inserted).toBe(21_000);
    const last = store.listItems("big", programmes[20_999].startMs, programmes[20_999].stopMs);
    expect(last.map((i) => i.title)).toEqual([programmes[20_999].title]);
  });
});

describe("encodings", () => {
  it("keeps the accents of an ISO-8859-1 XMLTV (read as windows-1252)", () => {
    const xml =
      `<?xml version="1.0" encoding="ISO-8859-1"?>\n<tv>\n<channel id="one"/>\n` +
      `<programme start="20250602000000 +0000" stop="20250602010000 +0000" channel="one"><title lang="fr">Télé à 5 \u0080</title><desc>Ça débute</desc></programme>\n</tv>\n`;
    const r = importScheduleFile(store, write("latin1.xml", Buffer.from(xml, "latin1")), { clock, channel: "one" });
    expect(r.inserted).toBe(1);
    const [item] = store.listItems("one");
    expect([item.title, item.description]).toEqual(["Télé à 5 €", "Ça débute"]);
  });
});

describe("export", () => {
  it("XMLTV and JSON exports import back to the same items and event ids", () => {
    importScheduleText(store, weekXml, "xmltv", { clock, channel: "one" });
    importScheduleText(
      store,
      JSON.stringify({
        items: [
          {
            start: "2025-06-20T10:00:00Z",
            duration: 600,
            title: "mit Pause",
            breaks: [{ start: "2025-06-20T10:05:00Z", duration: 60, id: "p1" }],
          },
        ],
        breaks: [{ start: "2025-06-20T11:00:00Z", duration: 30 }],
      }),
      "json",
      { clock, channel: "one" },
    );
    const before = store.listItems("one");
    const breaks = store.listBreaks("one");
    const xml = exportSchedule(store, "one", "xmltv");
    const json = exportSchedule(store, "one", "json");

    store.clearSchedule("one");
    importScheduleText(store, json, "json", { clock, channel: "one" });
    expect(store.listItems("one").map(({ id: _id, eventId: _e, ...rest }) => rest)).toEqual(
      before.map(({ id: _id, eventId: _e, ...rest }) => rest),
    );
    expect(store.listBreaks("one")).toEqual(breaks);

    const idsAfterJson = store.listItems("one").map((i) => i.eventId);
    const fromXml = importScheduleText(store, xml, "xmltv", { clock, channel: "one" });
    expect(fromXml.keptEventIds).toBe(before.length);
    const afterXml = store.listItems("one");
    expect(afterXml.map((i) => i.eventId)).toEqual(idsAfterJson);
    // XMLTV carries no breaks; every other field comes back the same
    expect(afterXml.map(({ id: _id, eventId: _e, breaks: _b, ...rest }) => rest)).toEqual(
      before.map(({ id: _id, eventId: _e, breaks: _b, ...rest }) => rest),
    );
  });
});
