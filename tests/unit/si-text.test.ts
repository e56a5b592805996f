import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDvbText, encodeDvbText, encodeDvbTextPart, normalizeDvbText, type DvbCharset } from "../../src/si/text.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("DVB text encoding", () => {
  it("writes plain ASCII bare, as ffmpeg does", () => {
    expect(hex(encodeDvbText("Service01"))).toBe(Buffer.from("Service01").toString("hex"));
  });

  it("writes non-ASCII as 0x15 + UTF-8 by default, the selector counted in the length", () => {
    const b = encodeDvbText("Übertragung");
    expect(b[0]).toBe(0x15);
    expect(hex(b.subarray(1))).toBe(Buffer.from("Übertragung", "utf8").toString("hex"));
    expect(b.length).toBe(1 + Buffer.byteLength("Übertragung"));
  });

  it("writes ISO 8859-1 behind 10 00 01 when the profile asks for it", () => {
    expect(hex(encodeDvbText("Übung", { charset: "iso-8859-1" }))).toBe("100001dc62756e67");
  });

  it("writes ISO 8859-5 behind the single selector byte 0x01", () => {
    // Cyrillic "Мир": М = 0xBC, и = 0xD8, р = 0xE0 in ISO 8859-5
    expect(hex(encodeDvbText("Мир", { charset: "iso-8859-5" }))).toBe("01bcd8e0");
  });

  it("writes ISO 8859-7 behind 0x03 and ISO 8859-15 behind 0x0B", () => {
    expect(encodeDvbText("Ελλάδα", { charset: "iso-8859-7" })[0]).toBe(0x03);
    expect(hex(encodeDvbText("€", { charset: "iso-8859-15" }))).toBe("0ba4");
  });

  it("falls back to UTF-8 for a string the chosen ISO table cannot hold", () => {
    const b = encodeDvbText("Übertragung – 日本語", { charset: "iso-8859-1" });
    expect(b[0]).toBe(0x15);
    expect(decodeDvbText(b)).toBe("Übertragung – 日本語");
  });

  it("still writes ASCII bare when an ISO table is configured", () => {
    expect(hex(encodeDvbText("News", { charset: "iso-8859-2" }))).toBe(Buffer.from("News").toString("hex"));
  });

  it("turns a newline into the DVB line break 0x8A in single-byte tables", () => {
    const b = encodeDvbText("a\nb");
    expect(hex(b)).toBe("618a62");
    expect(decodeDvbText(b)).toBe("a\nb");
  });

  it("cuts UTF-8 text at a character boundary within the byte budget", () => {
    const text = "日本語日本語"; // 3 bytes per character
    const b = encodeDvbText(text, undefined, 8); // selector + 7 bytes → 2 characters fit
    expect(b.length).toBe(7);
    expect(decodeDvbText(b)).toBe("日本");
  });

  it("never splits a surrogate pair", () => {
    const b = encodeDvbText("a😀b", undefined, 5); // 1 + 'a' + 4-byte emoji would be 6
    expect(decodeDvbText(b)).toBe("a");
  });

  it("reports where a cut text stopped so the rest can continue elsewhere", () => {
    const part = encodeDvbTextPart("Ελληνικά", 0, 7);
    expect(part.end).toBe(3);
    expect(decodeDvbText(part.bytes)).toBe("Ελλ");
  });

  it("drops control characters other than newline", () => {
    expect(decodeDvbText(encodeDvbText("a\u0001b\u0085c"))).toBe("abc");
  });

  it("gives back any string after a round trip, for every charset", () => {
    const charsets: DvbCharset[] = ["utf-8", "iso-8859-1", "iso-8859-5", "iso-8859-7", "iso-8859-15"];
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), fc.constantFrom(...charsets), (s, charset) => {
        const b = encodeDvbText(s, { charset }, 4096);
        expect(decodeDvbText(b)).toBe(normalizeDvbText(s));
      }),
      { numRuns: 300 },
    );
  });

  it("never exceeds the budget and always decodes to a prefix of the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), fc.integer({ min: 0, max: 60 }), (s, budget) => {
        const b = encodeDvbText(s, undefined, budget);
        expect(b.length).toBeLessThanOrEqual(budget);
        expect(normalizeDvbText(s).startsWith(decodeDvbText(b))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("DVB text decoding", () => {
  it("reads the default table as ASCII/Latin and ignores emphasis codes", () => {
    expect(decodeDvbText(Uint8Array.of(0x86, 0x41, 0x87, 0x42, 0x8a, 0x43))).toBe("AB\nC");
  });

  it("reads ISO 8859-9 behind the 0x05 selector", () => {
    expect(decodeDvbText(Uint8Array.of(0x05, 0xdd, 0xfe))).toBe("İş");
  });

  it("reads ISO 8859-2 behind 10 00 02", () => {
    expect(decodeDvbText(Uint8Array.of(0x10, 0x00, 0x02, 0xa3, 0xf3, 0x64, 0xbc))).toBe("Łódź");
  });

  it("reads UCS-2 big-endian behind 0x11", () => {
    expect(decodeDvbText(Uint8Array.of(0x11, 0x65, 0xe5, 0x67, 0x2c, 0xe0, 0x8a, 0x00, 0x41))).toBe("日本\nA");
  });

  it("reads an empty field as an empty string", () => {
    expect(decodeDvbText(new Uint8Array(0))).toBe("");
    expect(decodeDvbText(Uint8Array.of(0x15))).toBe("");
  });
});
