import { describe, expect, it } from "vitest";
import { decodeScheduleBytes, decodeWindows1252 } from "../../src/schedule/decode.js";
import { thrownOnairError } from "../helpers/errors.js";

const err = thrownOnairError;

const decl = (enc: string): string => `<?xml version="1.0" encoding="${enc}"?>\n`;

describe("schedule file decoding", () => {
  it("honours an XMLTV ISO-8859-1 declaration, reading it as windows-1252", () => {
    const bytes = Buffer.concat([
      Buffer.from(`${decl("ISO-8859-1")}<tv>`),
      Buffer.from([0x54, 0xe9, 0x6c, 0xe9, 0x20, 0x80, 0x92, 0x9f, 0x81]),
      Buffer.from("</tv>"),
    ]);
    expect(decodeScheduleBytes(bytes, "xmltv", "f.xml")).toBe(`${decl("ISO-8859-1")}<tv>Télé €’Ÿ\u0081</tv>`);
  });

  it("decodes all 256 windows-1252 bytes as the WHATWG index does", () => {
    const text = decodeWindows1252(Uint8Array.from({ length: 256 }, (_, i) => i));
    expect(text.length).toBe(256);
    expect([...text.slice(0x80, 0xa0)].map((c) => c.codePointAt(0)!.toString(16))).toEqual(
      "20ac 81 201a 192 201e 2026 2020 2021 2c6 2030 160 2039 152 8d 17d 8f 90 2018 2019 201c 201d 2022 2013 2014 2dc 2122 161 203a 153 9d 17e 178".split(
        " ",
      ),
    );
    expect(text.slice(0xa0)).toBe(Buffer.from(Uint8Array.from({ length: 96 }, (_, i) => 0xa0 + i)).toString("latin1"));
  });

  it("reads other declared encodings, and UTF-16 by its byte order mark", () => {
    const koi8 = Buffer.concat([Buffer.from(`${decl("KOI8-R")}<tv>`), Buffer.from([0xf4, 0xd7]), Buffer.from("</tv>")]);
    expect(decodeScheduleBytes(koi8, "xmltv", "f.xml")).toContain("<tv>Тв</tv>");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${decl("UTF-16")}<tv>Ελληνικά</tv>`, "utf16le")]);
    expect(decodeScheduleBytes(utf16, "xmltv", "f.xml")).toBe(`${decl("UTF-16")}<tv>Ελληνικά</tv>`);
    expect(decodeScheduleBytes(Buffer.from(`\ufeff{"items":[]}`), "json", "f.json")).toBe('{"items":[]}');
  });

  it("refuses bytes that are not UTF-8, naming the first bad line", () => {
    const xml = Buffer.from("<tv>\n<a>ok</a>\n<a>T\u00e9l\u00e9</a>\n<a>x</a>\n</tv>\n", "latin1");
    const e = err(() => decodeScheduleBytes(xml, "xmltv", "f.xml"));
    expect([e.code, e.fields.line, e.fields.encoding]).toEqual(["ONAIR_SCHEDULE_INVALID_TEXT", 3, "utf-8"]);
    expect(e.message).toBe("f.xml:3: bytes that are not utf-8 text (declare the file's encoding in its XML declaration)");
    const json = Buffer.concat([Buffer.from('{\n"items": [\n], "x": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n}')]);
    const j = err(() => decodeScheduleBytes(json, "json", "f.json"));
    expect([j.code, j.fields.line, j.message]).toEqual(["ONAIR_SCHEDULE_INVALID_TEXT", 3, "f.json:3: bytes that are not utf-8 text"]);
    // JSON is UTF-8 whatever it says
    expect(err(() => decodeScheduleBytes(Buffer.from('{"a":"é"}', "latin1"), "json", "f.json")).code).toBe("ONAIR_SCHEDULE_INVALID_TEXT");
  });

  it("refuses an encoding it cannot decode, and a UTF-16 declaration on ASCII-readable bytes", () => {
    const e = err(() => decodeScheduleBytes(Buffer.from(`${decl("EBCDIC-XYZ")}<tv/>`), "xmltv", "f.xml"));
    expect([e.code, e.fields.encoding]).toEqual(["ONAIR_SCHEDULE_UNSUPPORTED_ENCODING", "EBCDIC-XYZ"]);
    expect(e.message).toMatch(/^f\.xml: the XML declaration names encoding "EBCDIC-XYZ", which onair cannot decode/);
    expect(err(() => decodeScheduleBytes(Buffer.from(`${decl("ISO-2022-KR")}<tv/>`), "xmltv", "f.xml")).code).toBe(
      "ONAIR_SCHEDULE_UNSUPPORTED_ENCODING",
    );
    expect(err(() => decodeScheduleBytes(Buffer.from(`${decl("UTF-16")}<tv/>`), "xmltv", "f.xml")).code).toBe(
      "ONAIR_SCHEDULE_INVALID_TEXT",
    );
  });
});
