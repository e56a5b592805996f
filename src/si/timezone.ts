/**
 * UTC offsets of an IANA time zone from `Intl.DateTimeFormat` (Node ships full ICU), for
 * the local_time_offset_descriptor. Pure: the instant comes in as an argument.
 */
import { OnairError } from "../core/errors.js";
import type { LocalTimeOffsetRegion } from "./descriptors.js";

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch (e) {
      throw new OnairError("ONAIR_SI_TIME_ZONE", `unknown time zone ${timeZone}`, { timeZone }, { cause: e });
    }
    formats.set(timeZone, f);
  }
  return f;
}

/** Offset of local time from UTC in whole minutes at instant `ms` (east of UTC positive). */
export function utcOffsetMinutes(timeZone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const p of format(timeZone).formatToParts(new Date(whole))) {
    switch (p.type) {
      case "year":
        y = Number(p.value);
        break;
      case "month":
        mo = Number(p.value);
        break;
      case "day":
        d = Number(p.value);
        break;
      case "hour":
        h = Number(p.value);
        break;
      case "minute":
        mi = Number(p.value);
        break;
      case "second":
        s = Number(p.value);
        break;
      default:
        break;
    }
  }
  return Math.round((Date.UTC(y, mo - 1, d, h, mi, s) - whole) / 60_000);
}

export interface ZoneOffsets {
  /** Current offset in minutes (east positive). */
  offsetMinutes: number;
  /** UTC ms (whole second) of the next offset change within a year, or undefined. */
  changeMs: number | undefined;
  /** Offset after that change (equal to the current one if none). */
  nextOffsetMinutes: number;
}

/**
 * The current offset and the next change within 366 days: steps a day at a time, then
 * bisects to the second (offset changes fall on whole seconds).
 */
export function zoneOffsets(timeZone: string, nowMs: number): ZoneOffsets {
  const cur = utcOffsetMinutes(timeZone, nowMs);
  for (let t = nowMs + DAY_MS; t <= nowMs + 366 * DAY_MS; t += DAY_MS) {
    const next = utcOffsetMinutes(timeZone, t);
    if (next === cur) continue;
    let lo = Math.floor((t - DAY_MS) / 1000);
    let hi = Math.floor(t / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (utcOffsetMinutes(timeZone, mid * 1000) === cur) lo = mid;
      else hi = mid;
    }
    return { offsetMinutes: cur, changeMs: hi * 1000, nextOffsetMinutes: utcOffsetMinutes(timeZone, hi * 1000) };
  }
  return { offsetMinutes: cur, changeMs: undefined, nextOffsetMinutes: cur };
}

/**
 * A local_time_offset_descriptor region for `timeZone` at `nowMs`.
 * Polarity follows the current offset (1 = behind UTC) and applies to both offsets, as
 * the descriptor has one polarity bit; zones whose offset changes sign across the change
 * (none in use today) cannot be described exactly. With no change within a year,
 * time_of_change is MJD 0 00:00:00 and next_time_offset repeats the current offset: a
 * receiver that applies "next" after time_of_change then still gets the right offset.
 */
export function localTimeOffsetRegion(timeZone: string, countryCode: string, nowMs: number, countryRegionId = 0): LocalTimeOffsetRegion {
  const z = zoneOffsets(timeZone, nowMs);
  return {
    countryCode,
    countryRegionId,
    localTimeOffsetPolarity: z.offsetMinutes < 0 ? 1 : 0,
    localTimeOffset: Math.abs(z.offsetMinutes),
    timeOfChange: z.changeMs ?? -40587 * DAY_MS,
    nextTimeOffset: Math.abs(z.nextOffsetMinutes),
  };
}
