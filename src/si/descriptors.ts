/**
 * DVB descriptors used by our tables (EN 300 468 §6.2): service 0x48, short_event 0x4D,
 * extended_event 0x4E, content 0x54, parental_rating 0x55, local_time_offset 0x58.
 * Any other tag decodes to `{ kind: "unknown", tag, data }` (the raw {@link Descriptor} of
 * ts/section.ts, which PSI tables carry as they are) and encodes back unchanged.
 *
 * Text fields are decoded to strings and re-encoded per {@link DvbTextOptions}; bytes
 * in another table than ours read back as the same text, not the same bytes.
 */
import { OnairError } from "../core/errors.js";
import { walkDescriptors, type Descriptor } from "../ts/section.js";
import { checkField } from "./check.js";
import { decodeDvbText, encodeDvbText, encodeDvbTextPart, type DvbTextOptions } from "./text.js";
import { readBcdHhmm, readUtcTime, writeBcdHhmm, writeUtcTime } from "./time.js";

export const TAG_SERVICE = 0x48;
export const TAG_SHORT_EVENT = 0x4d;
export const TAG_EXTENDED_EVENT = 0x4e;
export const TAG_CONTENT = 0x54;
export const TAG_PARENTAL_RATING = 0x55;
export const TAG_LOCAL_TIME_OFFSET = 0x58;

export interface ServiceDescriptor {
  kind: "service";
  serviceType: number;
  serviceProviderName: string;
  serviceName: string;
}

export interface ShortEventDescriptor {
  kind: "shortEvent";
  /** ISO 639-2, three letters. */
  iso639LanguageCode: string;
  eventName: string;
  text: string;
}

export interface ExtendedEventItem {
  itemDescription: string;
  item: string;
}

export interface ExtendedEventDescriptor {
  kind: "extendedEvent";
  descriptorNumber: number;
  lastDescriptorNumber: number;
  iso639LanguageCode: string;
  items: ExtendedEventItem[];
  text: string;
}

export interface ContentItem {
  contentNibbleLevel1: number;
  contentNibbleLevel2: number;
  userByte: number;
}

export interface ContentDescriptor {
  kind: "content";
  items: ContentItem[];
}

export interface ParentalRating {
  /** ISO 3166 alpha-3 (or a broadcaster-defined three-letter code). */
  countryCode: string;
  /** 0 undefined, 0x01–0x0F minimum age = rating + 3, 0x10–0xFF broadcaster defined. */
  rating: number;
}

export interface ParentalRatingDescriptor {
  kind: "parentalRating";
  ratings: ParentalRating[];
}

export interface LocalTimeOffsetRegion {
  countryCode: string;
  countryRegionId: number;
  /** 0: local time is ahead of (or equal to) UTC, 1: behind UTC. Applies to both offsets. */
  localTimeOffsetPolarity: 0 | 1;
  /** Magnitude in minutes. */
  localTimeOffset: number;
  /** UTC ms of the next change, `undefined` if the field is all ones. */
  timeOfChange: number | undefined;
  /** Magnitude in minutes after the change. */
  nextTimeOffset: number;
}

export interface LocalTimeOffsetDescriptor {
  kind: "localTimeOffset";
  regions: LocalTimeOffsetRegion[];
}

/** A descriptor this codec does not read: the raw descriptor, tagged. */
export interface UnknownDescriptor extends Descriptor {
  kind: "unknown";
}

/** A DVB descriptor read into its fields (the typed view of a raw {@link Descriptor}). */
export type DvbDescriptor =
  | ServiceDescriptor
  | ShortEventDescriptor
  | ExtendedEventDescriptor
  | ContentDescriptor
  | ParentalRatingDescriptor
  | LocalTimeOffsetDescriptor
  | UnknownDescriptor;

/** Largest descriptor body (descriptor_length is 8 bits). */
export const MAX_DESCRIPTOR_BODY = 255;

function ascii3(code: string, out: Uint8Array, at: number, name: string): void {
  if (code.length !== 3 || !/^[\x20-\x7e]{3}$/.test(code)) {
    throw new OnairError("ONAIR_SI_FIELD_RANGE", `${name} must be three ASCII letters`, { name, value: code });
  }
  out[at] = code.charCodeAt(0);
  out[at + 1] = code.charCodeAt(1);
  out[at + 2] = code.charCodeAt(2);
}

function readAscii3(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2]);
}

function tooLong(kind: string, length: number): OnairError {
  return new OnairError("ONAIR_SI_DESCRIPTOR_TOO_LONG", `${kind} descriptor is longer than 255 bytes`, { kind, length });
}

/**
 * A descriptor made of fixed-size entries (content, parental_rating, local_time_offset):
 * checks the 255-byte body limit, writes tag and length, then `write` lays each entry at `at`.
 */
function encodeEntries<T>(
  tag: number,
  kind: string,
  list: readonly T[],
  size: number,
  write: (e: T, out: Uint8Array, at: number) => void,
): Uint8Array {
  const length = list.length * size;
  if (length > MAX_DESCRIPTOR_BODY) throw tooLong(kind, length);
  const out = new Uint8Array(2 + length);
  out[0] = tag;
  out[1] = length;
  list.forEach((e, i) => write(e, out, 2 + i * size));
  return out;
}

function encodeService(d: ServiceDescriptor, opts?: DvbTextOptions): Uint8Array {
  checkField("service_type", d.serviceType, 0xff);
  const provider = encodeDvbText(d.serviceProviderName, opts, 251);
  const name = encodeDvbText(d.serviceName, opts, 252 - provider.length);
  const out = new Uint8Array(2 + 3 + provider.length + name.length);
  out[0] = TAG_SERVICE;
  out[1] = out.length - 2;
  out[2] = d.serviceType;
  out[3] = provider.length;
  out.set(provider, 4);
  out[4 + provider.length] = name.length;
  out.set(name, 5 + provider.length);
  return out;
}

function decodeService(b: Uint8Array, at: number, end: number): DvbDescriptor {
  if (end - at < 3) throw bad("service", "too short");
  const pl = b[at + 1];
  const nl = b[at + 2 + pl];
  if (at + 3 + pl + nl > end) throw bad("service", "names overrun");
  return {
    kind: "service",
    serviceType: b[at],
    serviceProviderName: decodeDvbText(b, at + 2, at + 2 + pl),
    serviceName: decodeDvbText(b, at + 3 + pl, at + 3 + pl + nl),
  };
}

function encodeShortEvent(d: ShortEventDescriptor, opts?: DvbTextOptions): Uint8Array {
  // name gets first claim on the 250 bytes left after language and the two lengths
  const name = encodeDvbText(d.eventName, opts, 250);
  const text = encodeDvbText(d.text, opts, 250 - name.length);
  const out = new Uint8Array(2 + 5 + name.length + text.length);
  out[0] = TAG_SHORT_EVENT;
  out[1] = out.length - 2;
  ascii3(d.iso639LanguageCode, out, 2, "ISO_639_language_code");
  out[5] = name.length;
  out.set(name, 6);
  out[6 + name.length] = text.length;
  out.set(text, 7 + name.length);
  return out;
}

function decodeShortEvent(b: Uint8Array, at: number, end: number): DvbDescriptor {
  if (end - at < 5) throw bad("short_event", "too short");
  const nl = b[at + 3];
  if (at + 5 + nl > end) throw bad("short_event", "name overruns");
  const tl = b[at + 4 + nl];
  if (at + 5 + nl + tl > end) throw bad("short_event", "text overruns");
  return {
    kind: "shortEvent",
    iso639LanguageCode: readAscii3(b, at),
    eventName: decodeDvbText(b, at + 4, at + 4 + nl),
    text: decodeDvbText(b, at + 5 + nl, at + 5 + nl + tl),
  };
}

function encodeExtendedEvent(d: ExtendedEventDescriptor, opts?: DvbTextOptions): Uint8Array {
  checkField("descriptor_number", d.descriptorNumber, 15);
  checkField("last_descriptor_number", d.lastDescriptorNumber, 15);
  const parts: Uint8Array[] = [];
  let itemsLength = 0;
  for (const it of d.items) {
    const desc = encodeDvbText(it.itemDescription, opts);
    const item = encodeDvbText(it.item, opts);
    parts.push(desc, item);
    itemsLength += 2 + desc.length + item.length;
  }
  const text = encodeDvbText(d.text, opts, Math.max(0, 249 - itemsLength));
  const bodyLength = 6 + itemsLength + text.length;
  if (bodyLength > MAX_DESCRIPTOR_BODY) throw tooLong(d.kind, bodyLength);
  const out = new Uint8Array(2 + bodyLength);
  out[0] = TAG_EXTENDED_EVENT;
  out[1] = bodyLength;
  out[2] = (d.descriptorNumber << 4) | d.lastDescriptorNumber;
  ascii3(d.iso639LanguageCode, out, 3, "ISO_639_language_code");
  out[6] = itemsLength;
  let p = 7;
  for (const b of parts) {
    out[p++] = b.length;
    out.set(b, p);
    p += b.length;
  }
  out[p++] = text.length;
  out.set(text, p);
  return out;
}

function decodeExtendedEvent(b: Uint8Array, at: number, end: number): DvbDescriptor {
  if (end - at < 6) throw bad("extended_event", "too short");
  const il = b[at + 4];
  const itemsEnd = at + 5 + il;
  if (itemsEnd + 1 > end) throw bad("extended_event", "items overrun");
  const items: ExtendedEventItem[] = [];
  let p = at + 5;
  while (p < itemsEnd) {
    const dl = b[p];
    const il2 = b[p + 1 + dl];
    if (p + 2 + dl + il2 > itemsEnd) throw bad("extended_event", "item overruns");
    items.push({ itemDescription: decodeDvbText(b, p + 1, p + 1 + dl), item: decodeDvbText(b, p + 2 + dl, p + 2 + dl + il2) });
    p += 2 + dl + il2;
  }
  const tl = b[itemsEnd];
  if (itemsEnd + 1 + tl > end) throw bad("extended_event", "text overruns");
  return {
    kind: "extendedEvent",
    descriptorNumber: b[at] >> 4,
    lastDescriptorNumber: b[at] & 0x0f,
    iso639LanguageCode: readAscii3(b, at + 1),
    items,
    text: decodeDvbText(b, itemsEnd + 1, itemsEnd + 1 + tl),
  };
}

function encodeContent(d: ContentDescriptor): Uint8Array {
  return encodeEntries(TAG_CONTENT, d.kind, d.items, 2, (it, out, at) => {
    checkField("content_nibble_level_1", it.contentNibbleLevel1, 15);
    checkField("content_nibble_level_2", it.contentNibbleLevel2, 15);
    checkField("user_byte", it.userByte, 0xff);
    out[at] = (it.contentNibbleLevel1 << 4) | it.contentNibbleLevel2;
    out[at + 1] = it.userByte;
  });
}

function decodeContent(b: Uint8Array, at: number, end: number): DvbDescriptor {
  const items: ContentItem[] = [];
  for (let p = at; p + 1 < end; p += 2) {
    items.push({ contentNibbleLevel1: b[p] >> 4, contentNibbleLevel2: b[p] & 0x0f, userByte: b[p + 1] });
  }
  return { kind: "content", items };
}

function encodeParentalRating(d: ParentalRatingDescriptor): Uint8Array {
  return encodeEntries(TAG_PARENTAL_RATING, d.kind, d.ratings, 4, (r, out, at) => {
    ascii3(r.countryCode, out, at, "country_code");
    checkField("rating", r.rating, 0xff);
    out[at + 3] = r.rating;
  });
}

function decodeParentalRating(b: Uint8Array, at: number, end: number): DvbDescriptor {
  const ratings: ParentalRating[] = [];
  for (let p = at; p + 3 < end; p += 4) ratings.push({ countryCode: readAscii3(b, p), rating: b[p + 3] });
  return { kind: "parentalRating", ratings };
}

function encodeLocalTimeOffset(d: LocalTimeOffsetDescriptor): Uint8Array {
  return encodeEntries(TAG_LOCAL_TIME_OFFSET, d.kind, d.regions, 13, (r, out, at) => {
    ascii3(r.countryCode, out, at, "country_code");
    checkField("country_region_id", r.countryRegionId, 63);
    checkField("local_time_offset", r.localTimeOffset, 99 * 60 + 59);
    checkField("next_time_offset", r.nextTimeOffset, 99 * 60 + 59);
    out[at + 3] = (r.countryRegionId << 2) | 0x02 | r.localTimeOffsetPolarity;
    writeBcdHhmm(out, at + 4, r.localTimeOffset);
    writeUtcTime(out, at + 6, r.timeOfChange);
    writeBcdHhmm(out, at + 11, r.nextTimeOffset);
  });
}

function decodeLocalTimeOffset(b: Uint8Array, at: number, end: number): DvbDescriptor {
  const regions: LocalTimeOffsetRegion[] = [];
  for (let p = at; p + 12 < end; p += 13) {
    regions.push({
      countryCode: readAscii3(b, p),
      countryRegionId: b[p + 3] >> 2,
      localTimeOffsetPolarity: (b[p + 3] & 1) as 0 | 1,
      localTimeOffset: readBcdHhmm(b, p + 4),
      timeOfChange: readUtcTime(b, p + 6),
      nextTimeOffset: readBcdHhmm(b, p + 11),
    });
  }
  return { kind: "localTimeOffset", regions };
}

function encodeUnknown(d: UnknownDescriptor): Uint8Array {
  checkField("descriptor_tag", d.tag, 0xff);
  if (d.data.length > MAX_DESCRIPTOR_BODY) throw tooLong(d.kind, d.data.length);
  const out = new Uint8Array(2 + d.data.length);
  out[0] = d.tag;
  out[1] = d.data.length;
  out.set(d.data, 2);
  return out;
}

const ENCODERS: { [K in DvbDescriptor["kind"]]: (d: Extract<DvbDescriptor, { kind: K }>, opts?: DvbTextOptions) => Uint8Array } = {
  service: encodeService,
  shortEvent: encodeShortEvent,
  extendedEvent: encodeExtendedEvent,
  content: encodeContent,
  parentalRating: encodeParentalRating,
  localTimeOffset: encodeLocalTimeOffset,
  unknown: encodeUnknown,
};

/** Encodes one descriptor (tag, length, body). Text that does not fit is cut. */
export function encodeDescriptor(d: DvbDescriptor, opts?: DvbTextOptions): Uint8Array {
  return (ENCODERS[d.kind] as (d: DvbDescriptor, opts?: DvbTextOptions) => Uint8Array)(d, opts);
}

/** Encodes a descriptor loop (concatenation). */
export function encodeDescriptors(list: readonly DvbDescriptor[], opts?: DvbTextOptions): Uint8Array {
  const parts = list.map((d) => encodeDescriptor(d, opts));
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bad(kind: string, detail: string): OnairError {
  return new OnairError("ONAIR_SI_DESCRIPTOR", `malformed ${kind} descriptor: ${detail}`, { kind });
}

const DECODERS: ReadonlyMap<number, (b: Uint8Array, at: number, end: number) => DvbDescriptor> = new Map([
  [TAG_SERVICE, decodeService],
  [TAG_SHORT_EVENT, decodeShortEvent],
  [TAG_EXTENDED_EVENT, decodeExtendedEvent],
  [TAG_CONTENT, decodeContent],
  [TAG_PARENTAL_RATING, decodeParentalRating],
  [TAG_LOCAL_TIME_OFFSET, decodeLocalTimeOffset],
]);

/** Decodes one descriptor body b[at, end) with tag `tag`. */
function decodeBody(tag: number, b: Uint8Array, at: number, end: number): DvbDescriptor {
  const decode = DECODERS.get(tag);
  return decode ? decode(b, at, end) : { kind: "unknown", tag, data: b.slice(at, end) };
}

/** Decodes the descriptor loop b[start, end). */
export function decodeDescriptors(b: Uint8Array, start: number, end: number): DvbDescriptor[] {
  const out: DvbDescriptor[] = [];
  if (walkDescriptors(b, start, end, (tag, from, to) => out.push(decodeBody(tag, b, from, to))) >= 0) {
    throw bad("loop", "descriptor overruns the loop");
  }
  return out;
}

/** Text bytes available in one extended_event descriptor without items (255 − 6). */
export const EXTENDED_TEXT_BYTES = 249;

/**
 * Splits `text` across extended_event descriptors numbered 0…last (at most 16, the
 * 4-bit numbering limit, and at most `maxTotalBytes` of descriptors), each cut at a
 * character boundary. Text beyond that is dropped.
 */
export function splitExtendedEvent(
  iso639LanguageCode: string,
  text: string,
  opts?: DvbTextOptions,
  maxTotalBytes = 16 * 257,
): ExtendedEventDescriptor[] {
  const chunks: string[] = [];
  let start = 0;
  let budget = maxTotalBytes;
  while (start < text.length && chunks.length < 16 && budget > 8) {
    const limit = Math.min(EXTENDED_TEXT_BYTES, budget - 8);
    // Each descriptor's text is encoded on its own and may pick another table than the
    // whole text did (e.g. a 3-byte 8859-1 selector instead of 0x15): shrink until the
    // chunk fits by itself.
    let chunk = "";
    let size = 0;
    let end = start;
    for (let b = limit; b > 3; b -= 2) {
      const part = encodeDvbTextPart(text, start, b, opts);
      chunk = text.slice(start, part.end);
      size = encodeDvbText(chunk, opts, 4096).length;
      end = part.end;
      if (size <= limit) break;
    }
    if (end === start || size > limit) break;
    chunks.push(chunk);
    budget -= 8 + size;
    start = end;
  }
  return chunks.map((chunk, i) => ({
    kind: "extendedEvent",
    descriptorNumber: i,
    lastDescriptorNumber: chunks.length - 1,
    iso639LanguageCode,
    items: [],
    text: chunk,
  }));
}
