import { describe, expect, it } from "vitest";
import {
  decodeSpliceInfoSection,
  encodeSpliceInfoSection,
  parseCueString,
  spliceInsert,
  spliceNull,
  timeSignal,
  toBase64,
  toHex,
  availDescriptor,
} from "../../src/scte35/index.js";
import { GOLDEN_CUES, SPLICE_INSERT_14_2_JSON } from "../golden/scte35-vectors.js";

describe("SCTE-35 golden vectors (domain.md §3.5)", () => {
  for (const cue of GOLDEN_CUES) {
    describe(cue.name, () => {
      const bytes = parseCueString(cue.base64);

      it("has the published length and hex", () => {
        expect(bytes.length).toBe(cue.byteLength);
        if (cue.hex) expect(toHex(bytes)).toBe(cue.hex);
      });

      it("decodes to the listed field values", () => {
        const s = decodeSpliceInfoSection(bytes);
        expect(s).toMatchObject(cue.expected);
        expect(s.sectionLength).toBe(cue.byteLength - 3);
        if (cue.fullJson) expect(s).toEqual(cue.fullJson);
      });

      it("re-encodes its decoded JSON to the same bytes", () => {
        const json = JSON.parse(JSON.stringify(decodeSpliceInfoSection(bytes)));
        const again = encodeSpliceInfoSection(json);
        expect(toBase64(again)).toBe(cue.base64);
      });
    });
  }

  it("builds the §14.2 bytes from the issue's JSON, CRC 0x62dba30a included", () => {
    const { sectionLength: _l, spliceCommandLength: _c, descriptorLoopLength: _d, crc32: _crc, ...input } = SPLICE_INSERT_14_2_JSON;
    const bytes = encodeSpliceInfoSection(input as never);
    expect(toHex(bytes)).toBe(GOLDEN_CUES[1].hex);
    expect(toHex(bytes.subarray(bytes.length - 4))).toBe("62dba30a");
  });

  it("ignores wrong lengths and CRC in the input and recomputes them", () => {
    const bytes = encodeSpliceInfoSection({
      ...SPLICE_INSERT_14_2_JSON,
      sectionLength: 1,
      spliceCommandLength: 2,
      descriptorLoopLength: 3,
      crc32: "0x00000000",
    } as never);
    expect(toHex(bytes)).toBe(GOLDEN_CUES[1].hex);
  });
});

describe("builder defaults match the reference encoders", () => {
  it("spliceNull() with defaults is threefive's splice_null byte for byte", () => {
    expect(toBase64(encodeSpliceInfoSection(spliceNull()))).toBe("/DARAAAAAAAAAP/wAAAAAHpPv/8=");
  });

  it("timeSignal({ptsTime}) with defaults is threefive's time_signal byte for byte", () => {
    expect(toBase64(encodeSpliceInfoSection(timeSignal({ ptsTime: 1800391 })))).toBe("/DAWAAAAAAAAAP/wBQb+ABt4xwAAwhCGHw==");
  });

  it("spliceInsert() with defaults is threefive's splice_insert byte for byte", () => {
    const cue = spliceInsert({ spliceEventId: 14, ptsTime: 351000000, breakDuration: 10800000, uniqueProgramId: 14 });
    expect(toBase64(encodeSpliceInfoSection(cue))).toBe("/DAlAAAAAAAAAP/wFAUAAAAOf+/+FOvVwP4ApMuAAA4AAAAAzBon0A==");
  });

  it("spliceInsert() with cw_index 0xFF and an avail descriptor is the §14.2 cue", () => {
    const cue = spliceInsert({
      spliceEventId: 0x4800008f,
      ptsTime: 1936310318,
      breakDuration: 5426421,
      descriptors: [availDescriptor(309)],
      header: { cwIndex: 0xff },
    });
    expect(toHex(encodeSpliceInfoSection(cue))).toBe(GOLDEN_CUES[1].hex);
  });
});
