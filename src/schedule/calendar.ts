/**
 * Calendar times for schedule imports. A time is real when its month has that day
 * (2026-02-30 is refused, never rolled into March), its clock reads 00:00:00–23:59:59, and
 * its year is the one written: `0026` is the year 26 (which the plausibility window then
 * refuses), never 1926 as `Date.UTC` makes of years 0–99.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` (1–12) of `year` (proleptic Gregorian). */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

/** UTC epoch ms of a calendar time, or undefined when the calendar has no such time. */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** ISO-8601 as the JSON schedule writes it: `YYYY-MM-DDThh:mm[:ss[.fff]]` and `Z` or `±hh:mm`. */
export const ISO_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Parses an ISO time of ISO_TIME_RE to UTC epoch ms; undefined when it is not a real time. */
export function parseIsoTime(s: string): number | undefined {
  const m = ISO_TIME_RE.exec(s);
  if (!m) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  const t = utcMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), m[6] === undefined ? 0 : Number(m[6]), ms);
  if (t === undefined) return undefined;
  if (m[8] === undefined) return t;
  const oh = Number(m[9]);
  const om = Number(m[10]);
  if (oh > 23 || om > 59) return undefined;
  return t - (m[8] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
}
