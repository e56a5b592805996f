/**
 * Schedule model: what the store keeps per channel and what the importers produce.
 *
 * Times are UTC epoch milliseconds, durations integer milliseconds. A channel's items never
 * overlap. `eventId` is the DVB event_id (16 bit, 1…65535, 0 is never used) that EIT carries;
 * it is stable across re-imports for an unchanged item (see `sameEvent`).
 */

/** DVB content descriptor nibbles (EN 300 468 §6.2.9): level_1 4 bits, level_2 4 bits. */
export interface ContentNibbles {
  level1: number;
  level2: number;
}

/**
 * Parental rating as given by the source. `minAge` is the minimum viewer age when one can
 * be read from the value (e.g. "FSK 12" → 12, "16" → 16); the EIT maps it to the DVB byte
 * with `dvbRatingByte` and takes the country code from the channel profile.
 */
export interface ParentalRating {
  system?: string | undefined;
  value: string;
  minAge?: number | undefined;
}

export interface EpisodeNum {
  /** XMLTV `system` attribute: "xmltv_ns", "onscreen", "dd_progid", … */
  system: string;
  value: string;
}

/** A break inside an item, placed by its offset from the item's start. */
export interface ItemBreak {
  offsetMs: number;
  durationMs: number;
  /** Operator id of the break (e.g. an ad-server id, used as UPID later). */
  breakId?: string | undefined;
}

/** A break not tied to an item (JSON `breaks` at top level). */
export interface StandaloneBreak {
  channel: string;
  startMs: number;
  durationMs: number;
  breakId?: string | undefined;
}

/** An item as the importers produce it (no store id, no event id yet). */
export interface ScheduleItemInput {
  startMs: number;
  durationMs: number;
  title: string;
  subtitle?: string | undefined;
  description?: string | undefined;
  /** ISO 639 language of title/description as given (e.g. "de", "deu"). */
  language?: string | undefined;
  /** The source's genre/category text (first one). */
  genre?: string | undefined;
  content?: ContentNibbles | undefined;
  parentalRating?: ParentalRating | undefined;
  episodeNums?: EpisodeNum[] | undefined;
  breaks?: ItemBreak[] | undefined;
  /**
   * The item's media for playlist inputs: a path or URL; a relative path resolves against
   * the profile's `input.mediaDir`. None: the item airs as filler.
   */
  media?: string | undefined;
}

/** An item as the store holds it. */
export interface ScheduleItem extends ScheduleItemInput {
  id: number;
  channel: string;
  eventId: number;
  breaks: ItemBreak[];
}

export const EVENT_ID_MIN = 1;
export const EVENT_ID_MAX = 0xffff;

export function endMs(item: { startMs: number; durationMs: number }): number {
  return item.startMs + item.durationMs;
}

/**
 * Identity rule for stable event ids: an imported item is "the same event" as a stored one
 * of the same channel when start, duration and title are equal. Description, genre, rating
 * and the like may change and the event keeps its event_id (EIT then bumps the version).
 */
export function eventKey(item: { startMs: number; durationMs: number; title: string }): string {
  return `${item.startMs}\u0000${item.durationMs}\u0000${item.title}`;
}

/** DVB parental_rating byte for a minimum age: 0x01–0x0F = age − 3 (ages 4…18), 0 = undefined. */
export function dvbRatingByte(minAge: number | undefined): number {
  if (minAge === undefined || !Number.isInteger(minAge) || minAge < 4) return 0;
  return Math.min(minAge, 18) - 3;
}

/** Reads a minimum age out of a rating value: the first number in it ("FSK 12", "PG-13", "16+"). */
export function minAgeFromRating(value: string): number | undefined {
  const m = /(\d{1,2})/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 0 && n <= 21 ? n : undefined;
}

/** The result of parsing an import file, before it goes into the store. */
export interface ParsedSchedule {
  /** Sorted by start, non-overlapping. */
  items: ScheduleItemInput[];
  /** Standalone breaks (JSON only; undefined for XMLTV, which carries none). */
  breaks?: { startMs: number; durationMs: number; breakId?: string | undefined }[] | undefined;
  /** The window the file covers: its earliest start … its latest stop. */
  windowStartMs: number;
  windowEndMs: number;
}
