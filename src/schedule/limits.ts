/**
 * What a schedule import may bring (issues #18 and #19). All limits refuse the whole import;
 * nothing is cut or moved silently.
 * - File: at most MAX_IMPORT_BYTES (ONAIR_SCHEDULE_TOO_LARGE).
 * - Text, in UTF-8 bytes: a title at most 1 KiB, a description at most 16 KiB, every other
 *   text of an item (sub-title, genre, language, rating, episode numbers, break ids) at most
 *   1 KiB (ONAIR_SCHEDULE_TEXT_TOO_LONG). On air, EIT cuts them further to what it carries.
 * - Starts: every item and standalone break starts within [now − 30 days, now + 400 days]
 *   unless the import is forced (ONAIR_SCHEDULE_OUT_OF_RANGE): a year typo cannot widen the
 *   replace window over the channel's whole schedule.
 */
import type { ScheduleItemInput } from "./model.js";

/** Largest schedule file or text accepted (32 MiB). */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;

export const MAX_TITLE_BYTES = 1024;
export const MAX_DESCRIPTION_BYTES = 16 * 1024;
/** Sub-title, genre, language, rating system and value, episode-num system and value, break id. */
export const MAX_SHORT_TEXT_BYTES = 1024;

const DAY_MS = 24 * 3600_000;
export const START_PAST_MS = 30 * DAY_MS;
export const START_FUTURE_MS = 400 * DAY_MS;

/** The item texts that are limited; the parsers name them in their format's words. */
export type TextField = "title" | "subtitle" | "description" | "genre" | "language" | "rating" | "episodeNum" | "breakId";

export interface TextTooLong {
  field: TextField;
  bytes: number;
  limit: number;
}

/** The first text of `value` over its limit, if any. */
export function textTooLong(field: TextField, value: string | undefined): TextTooLong | undefined {
  if (value === undefined) return undefined;
  const limit = field === "title" ? MAX_TITLE_BYTES : field === "description" ? MAX_DESCRIPTION_BYTES : MAX_SHORT_TEXT_BYTES;
  // a UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count
  if (value.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(value, "utf8");
  return bytes > limit ? { field, bytes, limit } : undefined;
}

/** The first text of an item over its limit (its breaks' ids included), if any. */
export function itemTextTooLong(item: ScheduleItemInput): TextTooLong | undefined {
  const r = item.parentalRating;
  const checks: [TextField, string | undefined][] = [
    ["title", item.title],
    ["subtitle", item.subtitle],
    ["description", item.description],
    ["genre", item.genre],
    ["language", item.language],
    ["rating", r?.system],
    ["rating", r?.value],
  ];
  for (const e of item.episodeNums ?? []) checks.push(["episodeNum", e.system], ["episodeNum", e.value]);
  for (const b of item.breaks ?? []) checks.push(["breakId", b.breakId]);
  for (const [field, value] of checks) {
    const hit = textTooLong(field, value);
    if (hit) return hit;
  }
  return undefined;
}

/** A value of the file as quoted in a message: at most 64 characters of it, and its length. */
export function short(s: string): string {
  return s.length <= 64 ? s : `${s.slice(0, 64)}… (${s.length} characters)`;
}

/** Accepted item starts, inclusive; undefined when the import is forced. */
export interface StartBounds {
  fromMs: number;
  toMs: number;
}

export function startBounds(nowMs: number): StartBounds {
  return { fromMs: nowMs - START_PAST_MS, toMs: nowMs + START_FUTURE_MS };
}

export function startInBounds(startMs: number, bounds: StartBounds | undefined): boolean {
  return bounds === undefined || (startMs >= bounds.fromMs && startMs <= bounds.toMs);
}

/** `starts 0026-06-01T12:00:00Z, outside …` for an ONAIR_SCHEDULE_OUT_OF_RANGE message. */
export function outOfBoundsText(startMs: number, bounds: StartBounds): string {
  return `starts ${iso(startMs)}, outside ${iso(bounds.fromMs)} … ${iso(bounds.toMs)} (now − 30 days … now + 400 days; --force imports it anyway)`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}
