import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateToMjd, mjdOf, mjdToDate, readDuration, readUtcTime, writeDuration, writeUtcTime } from "../../src/si/time.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utc = (b: number[]): number | undefined => readUtcTime(Uint8Array.from(b), 0);

describe("MJD + BCD UTC time", () => {
  it("encodes EN 300 468's example 1993-10-13 12:45:00 as C0 79 12 45 00", () => {
    const b = new Uint8Array(5);
    writeUtcTime(b, 0, Date.UTC(1993, 9, 13, 12, 45, 0));
    expect(hex(b)).toBe("c079124500");
  });

  it("encodes 2025-06-01 14:30:05 as ED 9B 14 30 05 and reads it back", () => {
    const b = new Uint8Array(5);
    const t = Date.UTC(2025, 5, 1, 14, 30, 5);
    writeUtcTime(b, 0, t);
    expect(hex(b)).toBe("ed9b143005");
    expect(utc([0xed, 0x9b, 0x14, 0x30, 0x05])).toBe(t);
  });

  it("reads all ones as undefined and writes undefined as all ones", () => {
    expect(utc([0xff, 0xff, 0xff, 0xff, 0xff])).toBeUndefined();
    const b = new Uint8Array(5);
    writeUtcTime(b, 0, undefined);
    expect(hex(b)).toBe("ffffffffff");
  });

  it("drops the milliseconds", () => {
    const b = new Uint8Array(5);
    writeUtcTime(b, 0, Date.UTC(2025, 5, 1, 14, 30, 5, 999));
    expect(hex(b)).toBe("ed9b143005");
  });

  it("rejects hour digits that are not BCD", () => {
    expect(() => utc([0xed, 0x9b, 0x1a, 0x30, 0x05])).toThrow(/BCD/);
  });

  it("round-trips every whole second from 1970 to the end of 16-bit MJD (2038-04-22)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: (65535 - 40587) * 86400 + 86399 }), (sec) => {
        const b = new Uint8Array(5);
        writeUtcTime(b, 0, sec * 1000);
        expect(readUtcTime(b, 0)).toBe(sec * 1000);
      }),
    );
  });
});

describe("Annex C date conversion", () => {
  it("agrees with calendar math in both directions from 1900-03-01 to 2100-02-28", () => {
    const lo = dateToMjd(1900, 3, 1);
    const hi = dateToMjd(2100, 2, 28);
    fc.assert(
      fc.property(fc.integer({ min: lo, max: hi }), (mjd) => {
        const d = new Date((mjd - 40587) * 86_400_000);
        expect(mjdToDate(mjd)).toEqual({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
        expect(dateToMjd(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(mjd);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives MJD 49 273 for 1993-10-13 (EN 300 468 Annex C example)", () => {
    expect(dateToMjd(1993, 10, 13)).toBe(49273);
    expect(mjdToDate(49273)).toEqual({ year: 1993, month: 10, day: 13 });
    expect(mjdOf(Date.UTC(1993, 9, 13, 23, 59, 59))).toBe(49273);
  });

  it("refuses times past the last 16-bit MJD", () => {
    expect(() => writeUtcTime(new Uint8Array(5), 0, (65536 - 40587) * 86_400_000)).toThrow(/MJD/);
  });
});

describe("BCD duration", () => {
  it("writes 1 h 30 min as 01 30 00", () => {
    const b = new Uint8Array(3);
    writeDuration(b, 0, 5400);
    expect(hex(b)).toBe("013000");
    expect(readDuration(b, 0)).toBe(5400);
  });

  it("clamps durations above 99:59:59", () => {
    const b = new Uint8Array(3);
    writeDuration(b, 0, 100 * 3600);
    expect(hex(b)).toBe("995959");
  });

  it("reads all ones as undefined", () => {
    expect(readDuration(Uint8Array.of(0xff, 0xff, 0xff), 0)).toBeUndefined();
  });

  it("round-trips every duration up to 99:59:59", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 * 3600 + 59 * 60 + 59 }), (s) => {
        const b = new Uint8Array(3);
        writeDuration(b, 0, s);
        expect(readDuration(b, 0)).toBe(s);
      }),
    );
  });
});
