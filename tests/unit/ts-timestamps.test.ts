import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  pcrBase,
  pcrDiff,
  pcrExt,
  pcrFromBaseExt,
  ptsAdd,
  ptsCompare,
  ptsDiff,
  ptsIsAfter,
  ptsSub,
  PTS_MODULUS,
  readTimestamp,
  writeDts,
  writePts,
  wrapPts,
} from "../../src/ts/timestamps.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
const pts33 = fc.integer({ min: 0, max: PTS_MODULUS - 1 });

describe("PTS/DTS 5-byte fields", () => {
  it("encodes PTS 126000 alone as 21 00 07 D8 61", () => {
    const b = new Uint8Array(5);
    writePts(b, 0, 126000);
    expect(hex(b)).toBe("210007D861");
  });

  it("encodes DTS 126000 as 11 00 07 D8 61", () => {
    const b = new Uint8Array(5);
    writeDts(b, 0, 126000);
    expect(hex(b)).toBe("110007D861");
  });

  it("encodes PTS 0x1FFFFFFFF as 2F FF FF FF FF", () => {
    const b = new Uint8Array(5);
    writePts(b, 0, 0x1ffffffff);
    expect(hex(b)).toBe("2FFFFFFFFF");
  });

  it("uses prefix 0011 for a PTS followed by a DTS", () => {
    const b = new Uint8Array(5);
    writePts(b, 0, 126000, true);
    expect(b[0] >> 4).toBe(0x3);
  });

  it("decodes what it encodes for every 33-bit value, at any offset", () => {
    fc.assert(
      fc.property(pts33, fc.integer({ min: 0, max: 20 }), (v, at) => {
        const b = new Uint8Array(30);
        writePts(b, at, v);
        return readTimestamp(b, at) === v && (b[at] & 1) === 1 && (b[at + 2] & 1) === 1 && (b[at + 4] & 1) === 1;
      }),
    );
  });
});

describe("33-bit arithmetic", () => {
  it("sees a = 10 as 20 ticks after b = 2^33 − 10", () => {
    expect(ptsDiff(10, PTS_MODULUS - 10)).toBe(20);
    expect(ptsDiff(PTS_MODULUS - 10, 10)).toBe(-20);
    expect(ptsCompare(10, PTS_MODULUS - 10)).toBe(1);
    expect(ptsIsAfter(10, PTS_MODULUS - 10)).toBe(true);
  });

  it("adds and subtracts modulo 2^33", () => {
    expect(ptsAdd(PTS_MODULUS - 1, 2)).toBe(1);
    expect(ptsSub(1, 2)).toBe(PTS_MODULUS - 1);
    expect(wrapPts(-1)).toBe(PTS_MODULUS - 1);
    expect(ptsCompare(5, 5)).toBe(0);
  });

  it("undoes an add with a signed diff for any shift below 2^32", () => {
    fc.assert(
      fc.property(pts33, fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }), (a, d) => {
        const b = ptsAdd(a, d);
        return ptsDiff(b, a) === d && b >= 0 && b < PTS_MODULUS && ptsSub(b, d) === a;
      }),
    );
  });
});

describe("PCR base and extension", () => {
  it("splits and joins a 27 MHz value", () => {
    const pcr = pcrFromBaseExt(63000, 123);
    expect(pcr).toBe(63000 * 300 + 123);
    expect(pcrBase(pcr)).toBe(63000);
    expect(pcrExt(pcr)).toBe(123);
  });

  it("measures PCR distance across the wrap", () => {
    const max = PTS_MODULUS * 300;
    expect(pcrDiff(100, max - 200)).toBe(300);
    expect(pcrDiff(max - 200, 100)).toBe(-300);
  });

  it("keeps base mod 2^33 for any 27 MHz value", () => {
    fc.assert(
      fc.property(pts33, fc.integer({ min: 0, max: 299 }), (base, ext) => {
        const v = pcrFromBaseExt(base, ext);
        return pcrBase(v) === base && pcrExt(v) === ext;
      }),
    );
  });
});
