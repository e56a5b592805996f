/**
 * Calendar days in a time zone, for the as-run of a day (GET …/asrun?day=YYYY-MM-DD): a day
 * runs from its local midnight to the next local midnight, so it is 23 or 25 hours long on
 * the days the clocks change.
 */
import { utcMs } from "../schedule/calendar.js";
import { utcOffsetMinutes } from "../si/timezone.js";

export const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** UTC ms of local midnight starting `y-m-d` in `timeZone` (the first instant of that date). */
function localMidnight(y: number, m: number, d: number, timeZone: string): number | undefined {
  const asUtc = utcMs(y, m, d);
  if (asUtc === undefined) return undefined;
  // two steps: the offset at the guess, then at the corrected guess (a change of offset near midnight)
  const first = asUtc - utcOffsetMinutes(timeZone, asUtc) * 60_000;
  return asUtc - utcOffsetMinutes(timeZone, first) * 60_000;
}

/** [fromMs, toMs) of the calendar day `day` (YYYY-MM-DD) in `timeZone`, or undefined for no such day. */
export function dayBounds(day: string, timeZone: string): { fromMs: number; toMs: number } | undefined {
  const m = DAY_RE.exec(day);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const fromMs = localMidnight(y, mo, d, timeZone);
  if (fromMs === undefined) return undefined;
  // the next date: Date.UTC carries day 32 into the next month, and past December into the next year
  const nd = new Date(Date.UTC(y, mo - 1, d + 1));
  const toMs = localMidnight(nd.getUTCFullYear(), nd.getUTCMonth() + 1, nd.getUTCDate(), timeZone);
  return toMs === undefined ? undefined : { fromMs, toMs };
}

/** The date (YYYY-MM-DD) it is at `nowMs` in `timeZone`. */
export function dayIn(timeZone: string, nowMs: number): string {
  const local = new Date(nowMs + utcOffsetMinutes(timeZone, nowMs) * 60_000);
  return local.toISOString().slice(0, 10);
}
