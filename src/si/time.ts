/**
 * DVB time fields (EN 300 468 §5.2.5 and Annex C).
 *
 * UTC_time / start_time (40 bits) = MJD 16 + hh mm ss as 6 BCD digits; all ones means
 * "undefined" (decoded as `undefined`). duration (24 bits) = hh mm ss BCD.
 * Times are UTC epoch milliseconds in and out; sub-second parts are truncated (floored).
 */
import { OnairError } from "../core/errors.js";

const DAY_MS = 86_400_000;
/** MJD of 1970-01-01. */
export const MJD_UNIX_EPOCH = 40587;

/** Modified Julian Date of a UTC instant. */
export function mjdOf(ms: number): number {
  return Math.floor(ms / DAY_MS) + MJD_UNIX_EPOCH;
}

/** Annex C: MJD → calendar date (valid 1900-03-01 … 2100-02-28). */
export function mjdToDate(mjd: number): { year: number; month: number; day: number } {
  const yp = Math.trunc((mjd - 15078.2) / 365.25);
  const mp = Math.trunc((mjd - 14956.1 - Math.trunc(yp * 365.25)) / 30.6001);
  const day = mjd - 14956 - Math.trunc(yp * 365.25) - Math.trunc(mp * 30.6001);
  const k = mp === 14 || mp === 15 ? 1 : 0;
  return { year: 1900 + yp + k, month: mp - 1 - 12 * k, day };
}

/** Annex C: calendar date → MJD. */
export function dateToMjd(year: number, month: number, day: number): number {
  const l = month <= 2 ? 1 : 0;
  return 14956 + day + Math.trunc((year - 1900 - l) * 365.25) + Math.trunc((month + 1 + 12 * l) * 30.6001);
}

function bcd(n: number): number {
  return ((n / 10) << 4) | (n % 10);
}

function unbcd(b: number, what: string): number {
  const hi = b >> 4;
  const lo = b & 0x0f;
  if (hi > 9 || lo > 9) throw new OnairError("ONAIR_SI_BCD", `${what} is not BCD`, { byte: b });
  return hi * 10 + lo;
}

/** Writes the 5-byte MJD+BCD time of `ms` (or all ones for `undefined`) at `out[at]`. */
export function writeUtcTime(out: Uint8Array, at: number, ms: number | undefined): void {
  if (ms === undefined) {
    out.fill(0xff, at, at + 5);
    return;
  }
  const mjd = mjdOf(ms);
  if (mjd < 0 || mjd > 0xffff) throw new OnairError("ONAIR_SI_FIELD_RANGE", "time outside the MJD range", { ms });
  const secOfDay = Math.floor((ms - (mjd - MJD_UNIX_EPOCH) * DAY_MS) / 1000);
  out[at] = mjd >> 8;
  out[at + 1] = mjd & 0xff;
  out[at + 2] = bcd(Math.floor(secOfDay / 3600));
  out[at + 3] = bcd(Math.floor(secOfDay / 60) % 60);
  out[at + 4] = bcd(secOfDay % 60);
}

/** Reads a 5-byte MJD+BCD time; `undefined` if all ones. */
export function readUtcTime(b: Uint8Array, at: number): number | undefined {
  if (b[at] === 0xff && b[at + 1] === 0xff && b[at + 2] === 0xff && b[at + 3] === 0xff && b[at + 4] === 0xff) return undefined;
  const mjd = (b[at] << 8) | b[at + 1];
  const h = unbcd(b[at + 2], "hour");
  const m = unbcd(b[at + 3], "minute");
  const s = unbcd(b[at + 4], "second");
  return (mjd - MJD_UNIX_EPOCH) * DAY_MS + ((h * 60 + m) * 60 + s) * 1000;
}

/** Largest duration the 24-bit field holds: 99:59:59. */
export const MAX_DURATION_SEC = 99 * 3600 + 59 * 60 + 59;

/**
 * Writes hh mm ss BCD of `sec` (fraction dropped; longer than 99:59:59 is clamped to it)
 * or all ones for `undefined`.
 */
export function writeDuration(out: Uint8Array, at: number, sec: number | undefined): void {
  if (sec === undefined) {
    out.fill(0xff, at, at + 3);
    return;
  }
  if (!(sec >= 0)) throw new OnairError("ONAIR_SI_FIELD_RANGE", "negative duration", { sec });
  const s = Math.min(Math.floor(sec), MAX_DURATION_SEC);
  out[at] = bcd(Math.floor(s / 3600));
  out[at + 1] = bcd(Math.floor(s / 60) % 60);
  out[at + 2] = bcd(s % 60);
}

/** Reads a 3-byte BCD duration in seconds; `undefined` if all ones. */
export function readDuration(b: Uint8Array, at: number): number | undefined {
  if (b[at] === 0xff && b[at + 1] === 0xff && b[at + 2] === 0xff) return undefined;
  return (unbcd(b[at], "hours") * 60 + unbcd(b[at + 1], "minutes")) * 60 + unbcd(b[at + 2], "seconds");
}

/** Writes a signed-less offset in minutes as hh mm BCD (local_time_offset, 16 bits). */
export function writeBcdHhmm(out: Uint8Array, at: number, minutes: number): void {
  out[at] = bcd(Math.floor(minutes / 60));
  out[at + 1] = bcd(minutes % 60);
}

/** Reads a 16-bit hh mm BCD value as minutes. */
export function readBcdHhmm(b: Uint8Array, at: number): number {
  return unbcd(b[at], "hours") * 60 + unbcd(b[at + 1], "minutes");
}
