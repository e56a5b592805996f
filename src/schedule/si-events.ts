/**
 * Schedule store items → DVB SI events (`SiEvent`), the one mapping the EIT builders see.
 *
 * - event_id, start, title, subtitle and description as stored; the duration is sent in
 *   whole seconds (the fraction of a millisecond duration is dropped).
 * - language: ISO 639-2 three letters. A stored two-letter code (XMLTV `lang="de"`) is
 *   mapped to its ISO 639-2/T code ("deu"); a three-letter code is kept; anything else
 *   (none, unknown, "de-AT") falls back to the channel's EPG language (profile
 *   `epg.language`, default "und" = undetermined).
 * - content: the stored nibbles (user_byte 0).
 * - parental_rating: the minimum age as the DVB byte (`dvbRatingByte`), with the country
 *   code of the profile (`epg.country`). Without a country, or when the age gives no DVB
 *   byte, no parental_rating is sent: the descriptor has no "any country" code.
 */
import type { SiEvent } from "../si/event.js";
import { dvbRatingByte, type ScheduleItem } from "./model.js";

export interface SiEventOptions {
  /** ISO 639-2 code used when an item has no usable language (default "und"). */
  defaultLanguage?: string;
  /** ISO 3166 alpha-3 country for parental_rating (profile `epg.country`). */
  ratingCountry?: string | undefined;
}

/** ISO 639-1 → ISO 639-2/T for the languages an EPG is likely to carry. */
const ISO639_1_TO_2: Readonly<Record<string, string>> = {
  ar: "ara",
  bg: "bul",
  bs: "bos",
  ca: "cat",
  cs: "ces",
  cy: "cym",
  da: "dan",
  de: "deu",
  el: "ell",
  en: "eng",
  es: "spa",
  et: "est",
  eu: "eus",
  fa: "fas",
  fi: "fin",
  fr: "fra",
  ga: "gle",
  gd: "gla",
  gl: "glg",
  he: "heb",
  hi: "hin",
  hr: "hrv",
  hu: "hun",
  hy: "hye",
  id: "ind",
  is: "isl",
  it: "ita",
  ja: "jpn",
  ka: "kat",
  kk: "kaz",
  ko: "kor",
  lb: "ltz",
  lt: "lit",
  lv: "lav",
  mk: "mkd",
  ms: "msa",
  mt: "mlt",
  nb: "nob",
  nl: "nld",
  nn: "nno",
  no: "nor",
  pl: "pol",
  pt: "por",
  rm: "roh",
  ro: "ron",
  ru: "rus",
  sk: "slk",
  sl: "slv",
  sq: "sqi",
  sr: "srp",
  sv: "swe",
  th: "tha",
  tr: "tur",
  uk: "ukr",
  ur: "urd",
  vi: "vie",
  zh: "zho",
};

/** ISO 639-2 code of a stored language tag, or undefined if it cannot be told. */
export function iso639_2(language: string | undefined): string | undefined {
  if (!language) return undefined;
  const l = language.trim().toLowerCase();
  if (/^[a-z]{3}$/.test(l)) return l;
  if (/^[a-z]{2}$/.test(l)) return ISO639_1_TO_2[l];
  return undefined;
}

/** One stored item as an SI event (see the module comment for the mapping). */
export function siEventFromItem(item: ScheduleItem, opts: SiEventOptions = {}): SiEvent {
  const ev: SiEvent = {
    eventId: item.eventId,
    startMs: item.startMs,
    durationSec: Math.floor(item.durationMs / 1000),
    title: item.title,
    language: iso639_2(item.language) ?? iso639_2(opts.defaultLanguage) ?? "und",
  };
  if (item.subtitle) ev.subtitle = item.subtitle;
  if (item.description) ev.description = item.description;
  if (item.content) ev.content = [{ level1: item.content.level1, level2: item.content.level2 }];
  const rating = dvbRatingByte(item.parentalRating?.minAge);
  if (rating > 0 && opts.ratingCountry && /^[A-Za-z]{3}$/.test(opts.ratingCountry)) {
    ev.parentalRating = [{ country: opts.ratingCountry.toUpperCase(), rating }];
  }
  return ev;
}

/** Items (as the store returns them, by start) → SI events. */
export function siEventsFromItems(items: readonly ScheduleItem[], opts: SiEventOptions = {}): SiEvent[] {
  return items.map((i) => siEventFromItem(i, opts));
}
