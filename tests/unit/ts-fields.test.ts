/**
 * The one field reader/writer and section frame every table codec is written with
 * (ts/fields.ts, ts/section.ts): fields round-trip, a read past the end names the field with
 * its family's code, and a section gets its section_length, CRC_32 and length limit.
 */
import { describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import { crc32Mpeg2 } from "../../src/ts/crc32.js";
import { FieldReader, FieldWriter } from "../../src/ts/fields.js";
import {
  checkLongSection,
  endSection,
  PSI_SECTION_CODES,
  readLongSection,
  SI_SECTION_CODES,
  startLongSection,
} from "../../src/ts/section.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isOnairError(e) ? e.code : String(e);
  }
  return undefined;
};

describe("FieldWriter and FieldReader", () => {
  it("read back what they write, 33-bit fields included", () => {
    const w = new FieldWriter(1);
    w.u8(0xab);
    w.u16(0x1234);
    w.u32(0xdeadbeef);
    w.flags33(0xfe, 2 ** 33 - 1);
    w.field(2, (b, at) => {
      b[at] = 7;
      b[at + 1] = 9;
    });
    const bytes = w.finish();
    expect(hex(bytes)).toBe("ab1234deadbeefffffffffff0709");
    const r = new FieldReader(bytes, 0, bytes.length, "ONAIR_TS_TRUNCATED");
    expect(r.u8("a")).toBe(0xab);
    expect(r.u16("b")).toBe(0x1234);
    expect(r.u32("c")).toBe(0xdeadbeef);
    expect(r.flags33("d")).toEqual([0xff, 2 ** 33 - 1]);
    expect(r.field(2, "e", (b, at) => b[at] * 10 + b[at + 1])).toBe(79);
    expect(r.left).toBe(0);
  });

  it("names the field, the offset and its family's code when a read runs past the end", () => {
    const r = new FieldReader(Uint8Array.of(1, 2, 3), 1, 3, "ONAIR_SI_TRUNCATED");
    const sub = r.sub(2, "loop");
    let err: unknown;
    try {
      sub.u32("UTC_time");
    } catch (e) {
      err = e;
    }
    expect(isOnairError(err) && err.code).toBe("ONAIR_SI_TRUNCATED");
    expect(isOnairError(err) && err.fields).toEqual({ offset: 1, field: "UTC_time", needed: 4, available: 2 });
  });
});

describe("section frame", () => {
  const spec = { table: "T", tableIdOk: (t: number) => t === 0x42, maxSectionLength: 1021, codes: SI_SECTION_CODES };
  const header = {
    tableId: 0x42,
    privateIndicator: true,
    tableIdExtension: 1,
    versionNumber: 3,
    currentNextIndicator: true,
    sectionNumber: 0,
    lastSectionNumber: 0,
  };

  it("fills section_length and the CRC_32, and reads the body back", () => {
    const w = startLongSection(header);
    w.u16(0xbeef);
    const s = endSection(w, spec);
    expect(hex(s.subarray(0, 10))).toBe("42f00b0001c70000beef");
    expect(crc32Mpeg2(s, 0, s.length)).toBe(0);
    const { header: h, body } = readLongSection(s, spec);
    expect(h).toMatchObject({ ...header, sectionLength: 11 });
    expect(body.u16("x")).toBe(0xbeef);
    expect(body.left).toBe(0);
  });

  it("refuses a section over the table's limit with the family's code", () => {
    const w = startLongSection(header);
    w.bytes(new Uint8Array(1021 - 5 - 4 + 1));
    expect(codeOf(() => endSection(w, spec))).toBe("ONAIR_SI_SECTION_LENGTH");
    const w2 = startLongSection(header);
    w2.bytes(new Uint8Array(1021 - 5 - 4 + 1));
    expect(codeOf(() => endSection(w2, { ...spec, codes: PSI_SECTION_CODES }))).toBe("ONAIR_TS_SECTION_TOO_LONG");
  });

  it("reports each framing fault with the family's code", () => {
    const good = endSection(startLongSection(header), spec);
    const psi = { ...spec, codes: PSI_SECTION_CODES };
    const crc = good.slice();
    crc[5] ^= 2;
    const ssi = good.slice();
    ssi[1] &= 0x7f;
    expect(codeOf(() => checkLongSection(good.subarray(0, 2), spec))).toBe("ONAIR_SI_TRUNCATED");
    expect(codeOf(() => checkLongSection(Uint8Array.of(0x41, ...good.subarray(1)), spec))).toBe("ONAIR_SI_TABLE_ID");
    expect(codeOf(() => checkLongSection(ssi, spec))).toBe("ONAIR_SI_SYNTAX");
    expect(codeOf(() => checkLongSection(good.subarray(0, good.length - 1), spec))).toBe("ONAIR_SI_TRUNCATED");
    expect(codeOf(() => checkLongSection(crc, spec))).toBe("ONAIR_SI_CRC");
    expect(codeOf(() => checkLongSection(crc, psi))).toBe("ONAIR_TS_CRC");
    expect(codeOf(() => checkLongSection(ssi, psi))).toBe("ONAIR_TS_BAD_SECTION");
  });
});
