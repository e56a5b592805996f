/**
 * The SI view of a channel: one service and its events. The schedule store maps its
 * items to these; everything in `src/si/` builds tables from them.
 *
 * How an event becomes descriptors (one fixed mapping, so decoding reverses it):
 * - short_event: event_name = `title`, text = `subtitle` (or empty). The name has the
 *   first claim on the 250 bytes the descriptor leaves for name + text; both are cut at
 *   a character boundary when they do not fit.
 * - extended_event: `description`, split over descriptors 0…last (≤ 16, ≤ 249 text
 *   bytes each), cut at a character boundary if it does not fit even then.
 * - content: `content` nibbles (user_byte 0 unless given).
 * - parental_rating: `parentalRating` entries.
 */
import {
  encodeDescriptor,
  EXTENDED_TEXT_BYTES,
  splitExtendedEvent,
  TAG_EXTENDED_EVENT,
  type ContentItem,
  type DvbDescriptor,
  type ParentalRating,
} from "./descriptors.js";
import { EIT_MAX_EVENT_DESCRIPTORS, type EitEvent } from "./eit.js";
import { encodeDvbTextPart, type DvbTextOptions } from "./text.js";

/** Genre: EN 300 468 content_nibble_level_1 / level_2 (0x0–0xF each). */
export interface SiContent {
  level1: number;
  level2: number;
  /** user_byte, default 0. */
  userByte?: number;
}

/** Parental rating: DVB rating byte (0x01–0x0F = minimum age − 3). See {@link ratingForMinimumAge}. */
export interface SiParentalRating {
  /** Three letters (ISO 3166 alpha-3), e.g. "DEU". */
  country: string;
  rating: number;
}

/** One programme in the EPG. */
export interface SiEvent {
  /** event_id, 16 bits, unique within the service over the EIT window. */
  eventId: number;
  /** Start, UTC epoch milliseconds (sent to the second, fraction dropped). */
  startMs: number;
  /** Duration in seconds (fraction dropped; > 99:59:59 is sent as 99:59:59). */
  durationSec: number;
  title: string;
  /** Short text under the title (episode title, strapline). */
  subtitle?: string;
  /** Long description; may be several kilobytes. */
  description?: string;
  /** ISO 639-2 language code of the texts, three letters, e.g. "deu". */
  language: string;
  content?: SiContent[];
  parentalRating?: SiParentalRating[];
}

/** The service the tables describe (the SDT entry and the EIT's identifiers). */
export interface SiService {
  /** service_id = program_number in the PAT/PMT (ffmpeg default 1). */
  serviceId: number;
  /** transport_stream_id (ffmpeg default 1). */
  transportStreamId: number;
  /** original_network_id (ffmpeg default 0xFF01). */
  originalNetworkId: number;
  serviceName: string;
  providerName: string;
  /** service_type, e.g. 0x01 digital TV, 0x19 AVC HD TV, 0x1F HEVC TV. */
  serviceType: number;
  /** SDT EIT_schedule_flag: we send EIT schedule for this service. */
  eitSchedule: boolean;
  /** SDT EIT_present_following_flag: we send EIT p/f for this service. */
  eitPresentFollowing: boolean;
  /** SDT running_status, normally 4 (running). */
  runningStatus: number;
  /** SDT and EIT free_CA_mode; default false (clear). */
  freeCaMode?: boolean;
}

/** DVB rating byte for a minimum age (4…18); 0 (undefined) outside that range. */
export function ratingForMinimumAge(age: number): number {
  return age >= 4 && age <= 18 ? age - 3 : 0;
}

/** Descriptors other than extended_event (short_event first). */
function fixedDescriptors(ev: SiEvent): DvbDescriptor[] {
  const list: DvbDescriptor[] = [{ kind: "shortEvent", iso639LanguageCode: ev.language, eventName: ev.title, text: ev.subtitle ?? "" }];
  if (ev.content && ev.content.length > 0) {
    const items: ContentItem[] = ev.content.map((c) => ({
      contentNibbleLevel1: c.level1,
      contentNibbleLevel2: c.level2,
      userByte: c.userByte ?? 0,
    }));
    list.push({ kind: "content", items });
  }
  if (ev.parentalRating && ev.parentalRating.length > 0) {
    const ratings: ParentalRating[] = ev.parentalRating.map((r) => ({ countryCode: r.country, rating: r.rating }));
    list.push({ kind: "parentalRating", ratings });
  }
  return list;
}

/**
 * Descriptors of one event per the mapping above, in the usual order: short_event,
 * extended_event 0…last, content, parental_rating. The description is split so that the
 * whole loop fits one EIT section; text beyond that is cut.
 */
export function eventDescriptorList(ev: SiEvent, opts?: DvbTextOptions): DvbDescriptor[] {
  const fixed = fixedDescriptors(ev);
  if (!ev.description) return fixed;
  let used = 0;
  for (const d of fixed) used += encodeDescriptor(d, opts).length;
  const ext = splitExtendedEvent(ev.language, ev.description, opts, EIT_MAX_EVENT_DESCRIPTORS - used);
  return [fixed[0], ...ext, ...fixed.slice(1)];
}

/**
 * extended_event descriptors for `text`, written straight from the encoded parts (one
 * encoding pass; each part keeps the table chosen for the whole text).
 */
function encodeExtendedParts(language: string, text: string, maxTotalBytes: number, opts?: DvbTextOptions): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  let budget = maxTotalBytes;
  while (start < text.length && out.length < 16 && budget > 8) {
    const part = encodeDvbTextPart(text, start, Math.min(EXTENDED_TEXT_BYTES, budget - 8), opts);
    if (part.end === start) break;
    const n = part.bytes.length;
    const d = new Uint8Array(8 + n);
    d[0] = TAG_EXTENDED_EVENT;
    d[1] = 6 + n;
    d[2] = out.length << 4;
    d[3] = language.charCodeAt(0);
    d[4] = language.charCodeAt(1);
    d[5] = language.charCodeAt(2);
    d[6] = 0; // length_of_items
    d[7] = n;
    d.set(part.bytes, 8);
    out.push(d);
    budget -= d.length;
    start = part.end;
  }
  for (const d of out) d[2] |= out.length - 1;
  return out;
}

/** The encoded descriptor loop of one event (see {@link eventDescriptorList}). */
export function encodeEventDescriptors(ev: SiEvent, opts?: DvbTextOptions): Uint8Array {
  const fixed = fixedDescriptors(ev).map((d) => encodeDescriptor(d, opts));
  let used = 0;
  for (const p of fixed) used += p.length;
  const ext = ev.description ? encodeExtendedParts(ev.language, ev.description, EIT_MAX_EVENT_DESCRIPTORS - used, opts) : [];
  for (const p of ext) used += p.length;
  const out = new Uint8Array(used);
  out.set(fixed[0], 0);
  let at = fixed[0].length;
  for (const p of ext) {
    out.set(p, at);
    at += p.length;
  }
  for (let i = 1; i < fixed.length; i++) {
    out.set(fixed[i], at);
    at += fixed[i].length;
  }
  return out;
}

/**
 * An event read back from an EIT: the reverse of {@link eventDescriptorList}. Texts of
 * extended_event descriptors are joined in descriptor_number order.
 */
export function siEventFromEit(e: EitEvent): SiEvent {
  const ev: SiEvent = { eventId: e.eventId, startMs: e.startTime ?? NaN, durationSec: e.duration ?? NaN, title: "", language: "" };
  const ext: { n: number; text: string }[] = [];
  for (const d of e.descriptors) {
    if (d.kind === "shortEvent") {
      ev.title = d.eventName;
      ev.language = d.iso639LanguageCode;
      if (d.text) ev.subtitle = d.text;
    } else if (d.kind === "extendedEvent") {
      ext.push({ n: d.descriptorNumber, text: d.text });
    } else if (d.kind === "content") {
      ev.content = d.items.map((i) => ({ level1: i.contentNibbleLevel1, level2: i.contentNibbleLevel2, userByte: i.userByte }));
    } else if (d.kind === "parentalRating") {
      ev.parentalRating = d.ratings.map((r) => ({ country: r.countryCode, rating: r.rating }));
    }
  }
  if (ext.length > 0)
    ev.description = ext
      .sort((a, b) => a.n - b.n)
      .map((x) => x.text)
      .join("");
  return ev;
}
