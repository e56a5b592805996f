import { describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import {
  buildLongSection,
  checkSectionCrc,
  nextVersionNumber,
  readDescriptors,
  readLongSectionHeader,
  sectionHasCrc,
  sectionLength,
  writeDescriptors,
  writeLongSectionHeader,
} from "../../src/ts/section.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

describe("long section header", () => {
  it("builds ffmpeg's default PAT byte for byte", () => {
    const sec = buildLongSection(
      {
        tableId: 0,
        privateIndicator: false,
        tableIdExtension: 1,
        versionNumber: 0,
        currentNextIndicator: true,
        sectionNumber: 0,
        lastSectionNumber: 0,
      },
      Uint8Array.from([0x00, 0x01, 0xf0, 0x00]),
    );
    expect(hex(sec)).toBe("00B00D0001C100000001F0002AB104B2");
  });

  it("writes 0xF0 | len_hi in byte 1 for DVB tables with privateIndicator", () => {
    const b = new Uint8Array(8);
    const h = {
      tableId: 0x42,
      privateIndicator: true,
      sectionLength: 0x125,
      tableIdExtension: 0xabcd,
      versionNumber: 31,
      currentNextIndicator: false,
      sectionNumber: 3,
      lastSectionNumber: 7,
    };
    writeLongSectionHeader(b, 0, h);
    expect(b[1]).toBe(0xf1);
    expect(b[5]).toBe(0xc0 | (31 << 1));
    expect(readLongSectionHeader(b, 0)).toEqual(h);
    expect(sectionLength(b, 0)).toBe(0x125);
  });

  it("refuses to build a PSI section longer than 1024 bytes", () => {
    let err: unknown;
    try {
      buildLongSection(
        {
          tableId: 2,
          privateIndicator: false,
          tableIdExtension: 1,
          versionNumber: 0,
          currentNextIndicator: true,
          sectionNumber: 0,
          lastSectionNumber: 0,
        },
        new Uint8Array(1021 - 9 + 1),
      );
    } catch (e) {
      err = e;
    }
    expect(isOnairError(err) && err.code).toBe("ONAIR_TS_SECTION_TOO_LONG");
  });

  it("wraps version numbers at 32", () => {
    expect(nextVersionNumber(0)).toBe(1);
    expect(nextVersionNumber(31)).toBe(0);
  });
});

describe("CRC presence and check", () => {
  it("knows which sections carry a CRC", () => {
    expect(sectionHasCrc(0x00, true)).toBe(true);
    expect(sectionHasCrc(0xfc, false)).toBe(true);
    expect(sectionHasCrc(0x73, false)).toBe(true);
    expect(sectionHasCrc(0x70, false)).toBe(false);
  });

  it("accepts a good PAT and a TDT, rejects a flipped bit and a truncated section", () => {
    const pat = Buffer.from("00B00D0001C100000001F0002AB104B2", "hex");
    expect(checkSectionCrc(pat)).toBe(true);
    const bad = Buffer.from(pat);
    bad[8] ^= 0x01;
    expect(checkSectionCrc(bad)).toBe(false);
    expect(checkSectionCrc(pat.subarray(0, 10))).toBe(false);
    expect(checkSectionCrc(Buffer.from("707005ED9B143005", "hex"))).toBe(true);
    expect(checkSectionCrc(new Uint8Array(0))).toBe(false);
  });

  it("checks the SCTE-35 CRC although section_syntax_indicator is 0", () => {
    const s = Buffer.from("/DARAAAAAAAAAP/wAAAAAHpPv/8=", "base64");
    expect(checkSectionCrc(s)).toBe(true);
    s[5] ^= 0x10;
    expect(checkSectionCrc(s)).toBe(false);
  });
});

describe("descriptors", () => {
  it("round-trips a descriptor loop as raw bytes", () => {
    const bytes = Uint8Array.from([0x05, 0x04, 0x43, 0x55, 0x45, 0x49, 0x0a, 0x04, 0x65, 0x6e, 0x67, 0x00, 0x52, 0x00]);
    const ds = readDescriptors(bytes, 0, bytes.length);
    expect(ds.map((d) => d.tag)).toEqual([0x05, 0x0a, 0x52]);
    const out = new Uint8Array(bytes.length);
    expect(writeDescriptors(out, 0, ds)).toBe(bytes.length);
    expect(out).toEqual(bytes);
  });

  it("reports a descriptor that runs past its loop", () => {
    const bytes = Uint8Array.from([0x05, 0x04, 0x43, 0x55]);
    expect(() => readDescriptors(bytes, 0, bytes.length)).toThrow(expect.objectContaining({ code: "ONAIR_TS_TRUNCATED" }));
  });
});
