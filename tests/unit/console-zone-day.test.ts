/**
 * Calendar days in a time zone (src/console/zone-day.ts), for GET …/asrun?day=: from local
 * midnight to the next, 23 or 25 hours on the days the clocks change.
 */
import { describe, expect, it } from "vitest";
import { dayBounds, dayIn } from "../../src/console/zone-day.js";

const H = 3_600_000;

describe("days in a time zone", () => {
  it("runs from local midnight to local midnight", () => {
    expect(dayBounds("2026-01-15", "Europe/Paris")).toEqual({
      fromMs: Date.parse("2026-01-14T23:00:00Z"),
      toMs: Date.parse("2026-01-15T23:00:00Z"),
    });
    expect(dayBounds("2026-07-15", "America/New_York")).toEqual({
      fromMs: Date.parse("2026-07-15T04:00:00Z"),
      toMs: Date.parse("2026-07-16T04:00:00Z"),
    });
    expect(dayBounds("2026-12-31", "UTC")).toEqual({
      fromMs: Date.parse("2026-12-31T00:00:00Z"),
      toMs: Date.parse("2027-01-01T00:00:00Z"),
    });
  });

  it("is 23 hours long when the clocks go forward and 25 when they go back", () => {
    const spring = dayBounds("2026-03-29", "Europe/Paris")!;
    expect(spring.toMs - spring.fromMs).toBe(23 * H);
    const autumn = dayBounds("2026-10-25", "Europe/Paris")!;
    expect(autumn.toMs - autumn.fromMs).toBe(25 * H);
    expect(autumn.fromMs).toBe(Date.parse("2026-10-24T22:00:00Z"));
  });

  it("refuses what is not a date", () => {
    for (const d of ["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "today", ""]) expect(dayBounds(d, "UTC"), d).toBeUndefined();
    expect(dayBounds("2024-02-29", "UTC")).toBeDefined();
  });

  it("names the date it is in the zone", () => {
    const t = Date.parse("2026-01-15T23:30:00Z");
    expect(dayIn("UTC", t)).toBe("2026-01-15");
    expect(dayIn("Europe/Paris", t)).toBe("2026-01-16");
    expect(dayIn("America/Los_Angeles", t)).toBe("2026-01-15");
  });
});
