import { describe, expect, it } from "vitest";
import { contentForCategory } from "../../src/schedule/genre.js";
import { dvbRatingByte, minAgeFromRating, type ScheduleItem } from "../../src/schedule/model.js";
import { exportXmltv, formatXmltvDate, parseXmltv, parseXmltvDate } from "../../src/schedule/xmltv.js";
import { generateXmltv } from "../helpers/xmltv.js";
import { thrownOnairError } from "../helpers/errors.js";

const T = Date.UTC(2025, 5, 1, 12, 0, 0);

function doc(body: string, channels = ["ch"]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n${channels.map((c) => `<channel id="${c}"><display-name>${c}</display-name></channel>\n`).join("")}${body}</tv>\n`;
}
function prog(start: string, stop: string | undefined, inner = "<title>t</title>", channel = "ch"): string {
  return `<programme start="${start}"${stop === undefined ? "" : ` stop="${stop}"`} channel="${channel}">${inner}</programme>\n`;
}
const err = thrownOnairError;

describe("XMLTV dates", () => {
  it("applies the UTC offset of each date", () => {
    expect(parseXmltvDate("20250601140000 +0200")).toBe(T);
    expect(parseXmltvDate("20250601070000 -0500")).toBe(T);
    expect(parseXmltvDate("20250601173000 +0530")).toBe(T);
    expect(parseXmltvDate("20250601140000 +02:00")).toBe(T);
  });

  it("reads dates without seconds, minutes or offset, a missing offset meaning UTC", () => {
    expect(parseXmltvDate("202506011200")).toBe(T);
    expect(parseXmltvDate("2025060112")).toBe(T);
    expect(parseXmltvDate("20250601120000")).toBe(T);
    expect(parseXmltvDate("20250601120000 Z")).toBe(T);
    expect(parseXmltvDate("20250601120000 UTC")).toBe(T);
    expect(parseXmltvDate("20250601")).toBe(Date.UTC(2025, 5, 1));
  });

  it("rejects text that is not a date or not a real calendar time", () => {
    for (const s of [
      "garbage",
      "",
      "2025-06-01T12:00:00Z",
      "20251301120000 +0000",
      "20250231120000",
      "20250601250000",
      "20250601120000 +9900",
      "20250601120000 CEST",
    ]) {
      expect(parseXmltvDate(s), s).toBeUndefined();
    }
  });

  it("takes the year as written: 0026 is the year 26, not 1926; leap days by the Gregorian rule", () => {
    expect(parseXmltvDate("00260601120000 +0000")).toBe(Date.parse("0026-06-01T12:00:00Z"));
    expect(new Date(parseXmltvDate("00260601120000 +0000")!).getUTCFullYear()).toBe(26);
    expect(parseXmltvDate("20240229000000")).toBe(Date.UTC(2024, 1, 29));
    for (const s of ["20260229000000", "21000229000000", "20260230000000", "20260431000000"]) expect(parseXmltvDate(s), s).toBeUndefined();
  });

  it("formats in UTC and reads its own format back", () => {
    expect(formatXmltvDate(T)).toBe("20250601120000 +0000");
    expect(parseXmltvDate(formatXmltvDate(T + 7000))).toBe(T + 7000);
  });
});

describe("XMLTV programme fields", () => {
  it("decodes the five XML entities, numeric references and CDATA, under a DOCTYPE without entity declarations", () => {
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd" [ <!ATTLIST tv date CDATA #IMPLIED> <!-- <!ENTITY x "in a comment"> --> ]>\n<tv><channel id="ch"/>\n${prog(
      "20250601120000 +0000",
      "20250601130000 +0000",
      `<title lang="de">Tom &amp; Jerry &#233;&#x4E2D; &lt;live&gt; &quot;x&apos;</title><sub-title>&#x1F600;</sub-title><desc><![CDATA[Raw <b>&amp; &foo;</b> text]]></desc>`,
    )}<!-- &bar; in a comment --></tv>`;
    const [item] = parseXmltv(xml, { xmltvChannel: "ch" }).items;
    expect(item.title).toBe(`Tom & Jerry é中 <live> "x'`);
    expect(item.subtitle).toBe("😀");
    expect(item.description).toBe("Raw <b>&amp; &foo;</b> text");
  });

  it("takes the first title and its language, and the sub-title and description in that language", () => {
    const [item] = parseXmltv(
      doc(
        prog(
          "20250601120000",
          "20250601130000",
          `<title lang="el">Ελληνικά</title><title lang="en">Greek</title><sub-title lang="en">S-en</sub-title><sub-title lang="el">S-el</sub-title><desc lang="en">D-en</desc><desc lang="el">D-el</desc>`,
        ),
      ),
      { xmltvChannel: "ch" },
    ).items;
    expect(item).toMatchObject({ title: "Ελληνικά", language: "el", subtitle: "S-el", description: "D-el" });
  });

  it("maps the first known category to DVB content nibbles and keeps unknown ones as genre only", () => {
    const p = parseXmltv(
      doc(
        prog(
          "20250601120000",
          "20250601130000",
          `<title>a</title><category lang="en">Weird</category><category lang="en">Sports</category>`,
        ) + prog("20250601130000", "20250601140000", `<title>b</title><category>Unclassified</category>`),
      ),
      { xmltvChannel: "ch" },
    ).items;
    expect(p[0]).toMatchObject({ genre: "Sports", content: { level1: 4, level2: 0 } });
    expect(p[1].genre).toBe("Unclassified");
    expect(p[1].content).toBeUndefined();
  });

  it("knows the common XMLTV categories", () => {
    expect(contentForCategory("Movie")).toEqual({ level1: 1, level2: 0 });
    expect(contentForCategory(" news ")).toEqual({ level1: 2, level2: 0 });
    expect(contentForCategory("Kids")).toEqual({ level1: 5, level2: 0 });
    expect(contentForCategory("Children")).toEqual({ level1: 5, level2: 0 });
    expect(contentForCategory("Music")).toEqual({ level1: 6, level2: 0 });
    expect(contentForCategory("Documentary")).toEqual({ level1: 2, level2: 3 });
    expect(contentForCategory("Football")).toEqual({ level1: 4, level2: 3 });
    expect(contentForCategory("nothing like it")).toBeUndefined();
  });

  it("reads the rating with its system and minimum age, and every episode-num", () => {
    const [item] = parseXmltv(
      doc(
        prog(
          "20250601120000",
          "20250601130000",
          `<title>t</title><episode-num system="xmltv_ns">1.4.0/1</episode-num><episode-num>S02E05</episode-num><rating system="FSK"><value>FSK 16</value></rating>`,
        ),
      ),
      { xmltvChannel: "ch" },
    ).items;
    expect(item.parentalRating).toEqual({ system: "FSK", value: "FSK 16", minAge: 16 });
    expect(item.episodeNums).toEqual([
      { system: "xmltv_ns", value: "1.4.0/1" },
      { system: "onscreen", value: "S02E05" },
    ]);
    expect(dvbRatingByte(16)).toBe(13);
    expect(dvbRatingByte(minAgeFromRating("PG-13"))).toBe(10);
    expect(dvbRatingByte(0)).toBe(0);
  });

  it("ends a programme without stop at the next programme's start, sorting programmes by start", () => {
    const r = parseXmltv(
      doc(
        prog("20250601140000 +0000", "20250601150000 +0000") +
          prog("20250601120000 +0000", undefined) +
          prog("20250601130000 +0000", undefined),
      ),
      { xmltvChannel: "ch" },
    );
    expect(r.items.map((i) => [i.startMs - T, i.durationMs])).toEqual([
      [0, 3600_000],
      [3600_000, 3600_000],
      [7200_000, 3600_000],
    ]);
    expect([r.windowStartMs, r.windowEndMs]).toEqual([T, T + 3 * 3600_000]);
  });

  it("imports only the programmes of the selected XMLTV channel", () => {
    const r = parseXmltv(
      doc(
        prog("20250601120000", "20250601130000", "<title>mine</title>") +
          prog("20250601120000", "20250601130000", "<title>theirs</title>", "b"),
        ["ch", "b"],
      ),
      { xmltvChannel: "b" },
    );
    expect(r.items.map((i) => i.title)).toEqual(["theirs"]);
  });

  it("reads every programme of the generated two-channel week in UTC whatever offset it was written in", () => {
    const { xml, programmes } = generateXmltv({ days: 1 });
    const r = parseXmltv(xml, { xmltvChannel: "two" });
    const expected = programmes.filter((p) => p.channel === "two");
    expect(r.items.map((i) => [i.startMs, i.startMs + i.durationMs, i.title, i.description])).toEqual(
      expected.map((p) => [p.startMs, p.stopMs, p.title, p.description]),
    );
  });
});

describe("XMLTV errors", () => {
  it("names the line and column of malformed XML", () => {
    const e = err(() =>
      parseXmltv(doc(prog("20250601120000", "20250601130000", "<title>unclosed")), { xmltvChannel: "ch", source: "f.xml" }),
    );
    expect(e.code).toBe("ONAIR_SCHEDULE_BAD_XML");
    expect(e.message).toMatch(/^f\.xml:\d+:\d+: malformed XML/);
    expect(e.fields.line).toBe(4);
  });

  it("names the programme, its line and the attribute of a bad date", () => {
    const xml = doc(prog("20250601120000", "20250601130000") + prog("garbage", "20250601140000"));
    const e = err(() => parseXmltv(xml, { xmltvChannel: "ch", source: "f.xml" }));
    expect(e.code).toBe("ONAIR_SCHEDULE_BAD_DATE");
    expect(e.message).toContain("f.xml:5: programme #2");
    expect(e.message).toContain('start="garbage"');
  });

  it("refuses a stop before the start", () => {
    const e = err(() => parseXmltv(doc(prog("20250601130000", "20250601120000")), { xmltvChannel: "ch" }));
    expect(e.code).toBe("ONAIR_SCHEDULE_BAD_TIMES");
    expect(e.fields).toMatchObject({ programme: 1, line: 4 });
  });

  it("refuses overlapping programmes, naming both", () => {
    const e = err(() =>
      parseXmltv(doc(prog("20250601120000", "20250601130000") + prog("20250601125900", "20250601140000")), { xmltvChannel: "ch" }),
    );
    expect(e.code).toBe("ONAIR_SCHEDULE_OVERLAP");
    expect(e.message).toMatch(/programme #2 .*overlaps programme #1 \(line 4/);
  });

  it("refuses a programme of a channel the file does not declare", () => {
    const e = err(() =>
      parseXmltv(doc(prog("20250601120000", "20250601130000") + prog("20250601120000", "20250601130000", "<title>x</title>", "nope")), {
        xmltvChannel: "ch",
      }),
    );
    expect(e.code).toBe("ONAIR_SCHEDULE_UNKNOWN_CHANNEL");
    expect(e.message).toContain('"nope"');
    expect(e.fields.line).toBe(5);
  });

  it("refuses an empty file, a file without programmes for the channel and a last programme without stop", () => {
    expect(err(() => parseXmltv("  \n", { xmltvChannel: "ch" })).code).toBe("ONAIR_SCHEDULE_EMPTY");
    expect(err(() => parseXmltv(doc(prog("20250601120000", "20250601130000")), { xmltvChannel: "other" })).code).toBe(
      "ONAIR_SCHEDULE_NO_PROGRAMMES",
    );
    expect(err(() => parseXmltv(doc(prog("20250601120000", undefined)), { xmltvChannel: "ch" })).code).toBe("ONAIR_SCHEDULE_NO_STOP");
    expect(err(() => parseXmltv("<notv/>", { xmltvChannel: "ch" })).code).toBe("ONAIR_SCHEDULE_BAD_XML");
    expect(err(() => parseXmltv("<tv></tv>", { xmltvChannel: "ch" })).code).toBe("ONAIR_SCHEDULE_NO_PROGRAMMES");
  });
});

describe("XMLTV text checks", () => {
  const ok = prog("20250601120000 +0000", "20250601130000 +0000");

  it("refuses a DOCTYPE that declares entities before parsing, naming the line of the declaration", () => {
    for (const decl of ['<!ENTITY big "AAAA">', '<!ENTITY % pe "x">', "<!ENTITY ext SYSTEM 'file:///etc/passwd'>"]) {
      const xml = `<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE tv [\n  <!ELEMENT tv ANY>\n  ${decl}\n]>\n<tv><channel id="ch"/>\n${ok}</tv>\n`;
      const e = err(() => parseXmltv(xml, { xmltvChannel: "ch", source: "f.xml" }));
      expect([e.code, e.fields.line], decl).toEqual(["ONAIR_XMLTV_ENTITY", 5]);
      expect(e.message).toMatch(/^f\.xml:5: the DOCTYPE declares entity "(big|pe|ext)"/);
    }
  });

  it("refuses an unknown entity or a reference to a non-character, naming its line, in text and attributes", () => {
    const cases: [string, string][] = [
      [`<title>Tom &foo; Jerry</title>`, "&foo;"],
      [`<title lang="&de;">t</title>`, "&de;"],
      [`<title>&#xD800;</title>`, "&#xD800;"],
      [`<title>&#0;</title>`, "&#0;"],
    ];
    for (const [inner, ref] of cases) {
      const xml = doc(ok + prog("20250601130000 +0000", "20250601140000 +0000", inner));
      const e = err(() => parseXmltv(xml, { xmltvChannel: "ch", source: "f.xml" }));
      expect([e.code, e.fields.line, e.fields.reference], inner).toEqual(["ONAIR_XMLTV_UNKNOWN_ENTITY", 5, ref]);
      expect(e.message).toMatch(/^f\.xml:5: /);
    }
    const bare = err(() =>
      parseXmltv(doc(prog("20250601120000 +0000", "20250601130000 +0000", `<title lang="a & b">t</title>`)), { xmltvChannel: "ch" }),
    );
    expect([bare.code, bare.fields.line]).toEqual(["ONAIR_SCHEDULE_BAD_XML", 4]);
  });

  it("stores a title of 1 KiB and a description of 16 KiB, and refuses a byte more, naming the programme and its line", () => {
    const title = "é".repeat(512);
    const desc = "x".repeat(16 * 1024);
    const [item] = parseXmltv(doc(prog("20250601120000 +0000", "20250601130000 +0000", `<title>${title}</title><desc>${desc}</desc>`)), {
      xmltvChannel: "ch",
    }).items;
    expect([item.title, item.description]).toEqual([title, desc]);
    const cases: [string, string, number, number][] = [
      [`<title>${title}x</title>`, "title", 1025, 1024],
      [`<title>t</title><desc>${desc}é</desc>`, "desc", 16 * 1024 + 2, 16 * 1024],
      [`<title>t</title><sub-title>${"s".repeat(1025)}</sub-title>`, "sub-title", 1025, 1024],
      [`<title>t</title><category>${"c".repeat(2000)}</category>`, "category", 2000, 1024],
      [`<title>t</title><episode-num>${"1".repeat(1025)}</episode-num>`, "episode-num", 1025, 1024],
    ];
    for (const [inner, name, bytes, limit] of cases) {
      const e = err(() =>
        parseXmltv(doc(ok + prog("20250601130000 +0000", "20250601140000 +0000", inner)), { xmltvChannel: "ch", source: "f.xml" }),
      );
      expect(e.code, name).toBe("ONAIR_SCHEDULE_TEXT_TOO_LONG");
      expect(e.message).toBe(
        `f.xml:5: programme #2 (channel "ch", start "20250601130000 +0000"): the ${name} is ${bytes} bytes of UTF-8; the limit is ${limit}`,
      );
      expect(e.fields).toMatchObject({ programme: 2, line: 5, bytes, limit });
    }
  });

  it("quotes at most 64 characters of a value in a message", () => {
    const e = err(() => parseXmltv(doc(prog(`2025${"9".repeat(100_000)}`, "20250601130000")), { xmltvChannel: "ch" }));
    expect(e.code).toBe("ONAIR_SCHEDULE_BAD_DATE");
    expect(e.message.length).toBeLessThan(300);
    expect(e.message).toContain(`start="2025${"9".repeat(60)}… (100004 characters)"`);
  });

  it("refuses a programme that starts outside the accepted window, naming it", () => {
    const starts = { fromMs: T - 3600_000, toMs: T + 3600_000 };
    expect(parseXmltv(doc(ok), { xmltvChannel: "ch", starts }).items).toHaveLength(1);
    const xml = doc(ok + prog("00250601130000 +0000", "20250601140000 +0000"));
    const e = err(() => parseXmltv(xml, { xmltvChannel: "ch", source: "f.xml", starts }));
    expect(e.code).toBe("ONAIR_SCHEDULE_OUT_OF_RANGE");
    expect(e.message).toMatch(
      /^f\.xml:5: programme #2 .* starts 0025-06-01T13:00:00Z, outside 2025-06-01T11:00:00Z … 2025-06-01T13:00:00Z/,
    );
    expect(parseXmltv(xml.replace("00250601130000", "20250601130000"), { xmltvChannel: "ch", starts }).items).toHaveLength(2);
  });
});

describe("XMLTV export", () => {
  it("escapes text and reads back to the same items", () => {
    const items: ScheduleItem[] = [
      {
        id: 1,
        channel: "ch",
        eventId: 9,
        breaks: [],
        startMs: T,
        durationMs: 5400_000,
        title: `Übertragung – Ελληνικά – 日本語 & <"Tom">`,
        subtitle: "a > b",
        description: "long\nmulti-line & text",
        language: "de",
        genre: "Movie",
        content: { level1: 1, level2: 0 },
        parentalRating: { system: "FSK", value: "12", minAge: 12 },
        episodeNums: [{ system: "xmltv_ns", value: "0.1." }],
      },
      { id: 2, channel: "ch", eventId: 10, breaks: [], startMs: T + 5400_000, durationMs: 60_000, title: "short" },
    ];
    const xml = exportXmltv("ch", items);
    expect(xml).toContain("&amp; &lt;&quot;Tom&quot;&gt;");
    const back = parseXmltv(xml, { xmltvChannel: "ch" }).items;
    expect(back).toEqual(items.map(({ id: _id, channel: _c, eventId: _e, breaks: _b, ...rest }) => rest));
  });
});
