/**
 * Times as a control room reads them: 24-hour clock, in a channel's EPG time zone (through
 * Intl.DateTimeFormat) with UTC beside; durations as [h:]mm:ss; days as YYYY-MM-DD in a zone.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ""}|${JSON.stringify(opts)}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-GB", { ...opts, timeZone, hourCycle: "h23" });
    } catch {
      // an unknown zone name: fall back to UTC rather than failing the page
      f = new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: "UTC", hourCycle: "h23" });
    }
    formats.set(key, f);
  }
  return f;
}

const toMs = (t: number | string | Date): number => (typeof t === "number" ? t : new Date(t).getTime());

/** hh:mm or hh:mm:ss in a zone (undefined: the browser's). */
export function clock(t: number | string | Date, timeZone?: string, seconds = false): string {
  const ms = toMs(t);
  if (!Number.isFinite(ms)) return "--:--";
  return format(timeZone, { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) }).format(ms);
}

/** "Mon 7 Dec" in a zone. */
export function shortDay(t: number | string, timeZone?: string): string {
  return format(timeZone, { weekday: "short", day: "numeric", month: "short" }).format(toMs(t));
}

function parts(ms: number, timeZone: string): Record<string, number> {
  const out: Record<string, number> = {};
  const f = format(timeZone, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  for (const p of f.formatToParts(ms)) if (p.type !== "literal") out[p.type] = Number(p.value);
  return out;
}

/** The zone's offset from UTC at an instant, in ms (Europe/Paris in winter: 3 600 000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** "UTC+01:00" */
export function offsetLabel(ms: number, timeZone: string): string {
  const off = Math.round(zoneOffsetMs(ms, timeZone) / 60000);
  const sign = off < 0 ? "−" : "+";
  const a = Math.abs(off);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/** The day (YYYY-MM-DD) an instant falls on in a zone. */
export function dayIn(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** The instant a day (YYYY-MM-DD) starts in a zone (its local midnight, DST-aware). */
export function dayStart(day: string, timeZone: string): number {
  const [y, m, d] = day.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - zoneOffsetMs(guess, timeZone);
  t = guess - zoneOffsetMs(t, timeZone);
  return t;
}

/** The day after (or n days after) YYYY-MM-DD, as YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Seconds as [h:]mm:ss (negative clamps to 0). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** A bit rate as Mb/s or kb/s. */
export function bitrate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps)) return "—";
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;
}
