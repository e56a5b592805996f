/**
 * JSON schedule import/export. The schema (zod, strict: unknown keys are errors) is
 * documented in src/schedule/README.md:
 *
 * {
 *   "channel"?: "ID",                       // if given, must equal --channel
 *   "items": [{
 *     "start": "2025-06-01T12:00:00Z",      // ISO-8601 with Z or ±hh:mm
 *     "duration": 1800 | "stop": "…",       // seconds (may be fractional) or an ISO time; one of them
 *     "title": "…", "subtitle"?, "description"?, "language"?, "genre"?,
 *     "content"?: { "level1": 0-15, "level2": 0-15 },   // DVB nibbles; default from genre
 *     "rating"?: { "system"?: "FSK", "value": "12", "minAge"?: 12 } | 12,
 *     "episodeNum"?: [{ "system": "xmltv_ns", "value": "0.4." }],
 *     "breaks"?: [{ "start": ISO, "duration": seconds, "id"?: "…" }],  // inside the item
 *     "media"?: "clips/news.mp4"           // playlist inputs: path (relative to input.mediaDir) or URL
 *   }],
 *   "breaks"?: [{ "start": ISO, "duration": seconds, "id"?: "…" }]     // standalone
 * }
 */
import { z } from "zod";
import { OnairError, type OnairErrorCode } from "../core/errors.js";
import { ISO_TIME_RE, parseIsoTime } from "./calendar.js";
import { contentForCategory } from "./genre.js";
import { jsonLineOf, type JsonPath } from "./json-lines.js";
import { itemTextTooLong, outOfBoundsText, short, startInBounds, textTooLong, type StartBounds, type TextField } from "./limits.js";
import {
  endMs,
  minAgeFromRating,
  type ItemBreak,
  type ParentalRating,
  type ParsedSchedule,
  type ScheduleItem,
  type ScheduleItemInput,
  type StandaloneBreak,
} from "./model.js";

const MAX_DURATION_MS = 7 * 24 * 3600_000;
/** Zod issue params that give an issue its own error code (else ONAIR_SCHEDULE_BAD_JSON). */
const BAD_DATE = { onairCode: "ONAIR_SCHEDULE_BAD_DATE" } as const;
const BAD_DURATION = { onairCode: "ONAIR_SCHEDULE_BAD_DURATION" } as const;
/** The shortest item or break (EIT and SCTE-35 durations below a second mean nothing on air). */
const MIN_DURATION_S = 1;

const isoTime = z
  .string()
  .regex(ISO_TIME_RE, "expected an ISO-8601 time with Z or an offset, e.g. 2025-06-01T12:00:00Z")
  .refine((s) => !ISO_TIME_RE.test(s) || parseIsoTime(s) !== undefined, { message: "not a real calendar date and time", params: BAD_DATE });
const seconds = z
  .number()
  .positive()
  .max(MAX_DURATION_MS / 1000)
  .refine((v) => v >= MIN_DURATION_S, { message: `shorter than ${MIN_DURATION_S} s`, params: BAD_DURATION });

const breakSchema = z.strictObject({
  start: isoTime,
  duration: seconds,
  id: z.string().min(1).optional(),
});

const itemSchema = z
  .strictObject({
    start: isoTime,
    duration: seconds.optional(),
    stop: isoTime.optional(),
    title: z.string().trim().min(1),
    subtitle: z.string().optional(),
    description: z.string().optional(),
    language: z.string().min(2).max(8).optional(),
    genre: z.string().optional(),
    content: z.strictObject({ level1: z.number().int().min(0).max(15), level2: z.number().int().min(0).max(15) }).optional(),
    rating: z
      .union([
        z.number().int().min(0).max(21),
        z.strictObject({
          system: z.string().optional(),
          value: z.union([z.string().min(1), z.number()]),
          minAge: z.number().int().min(0).max(21).optional(),
        }),
      ])
      .optional(),
    episodeNum: z.array(z.strictObject({ system: z.string().min(1), value: z.string().min(1) })).optional(),
    breaks: z.array(breakSchema).optional(),
    media: z.string().trim().min(1).max(4096).optional(),
  })
  .refine((i) => (i.duration === undefined) !== (i.stop === undefined), { message: "give exactly one of duration or stop" });

export const jsonScheduleSchema = z.strictObject({
  channel: z.string().min(1).optional(),
  items: z.array(itemSchema),
  breaks: z.array(breakSchema).optional(),
});

export type JsonSchedule = z.infer<typeof jsonScheduleSchema>;

/** Epoch ms of a time the schema has checked. */
function isoMs(s: string): number {
  return parseIsoTime(s) ?? Number.NaN;
}

function pathText(path: JsonPath): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s === "" ? String(k) : `.${String(k)}`;
  return s || "(root)";
}

export interface JsonImportOptions {
  channel: string;
  source?: string | undefined;
  /** Accepted item and break starts (ONAIR_SCHEDULE_OUT_OF_RANGE); undefined: any. */
  starts?: StartBounds | undefined;
}

type JsonItem = JsonSchedule["items"][number];
type JsonBreak = NonNullable<JsonSchedule["breaks"]>[number];
/** Throws an OnairError naming the file, the line and the JSON path of the value at fault. */
type Fail = (code: OnairErrorCode, path: JsonPath, msg: string, fields?: Record<string, unknown>) => never;

/** The JSON key each limited text comes from. */
const JSON_KEY: Record<TextField, string> = {
  title: "title",
  subtitle: "subtitle",
  description: "description",
  genre: "genre",
  language: "language",
  rating: "rating",
  episodeNum: "episodeNum",
  breakId: "breaks",
};

/** Parses a JSON schedule for `channel`; errors name the line and the JSON path. */
export function parseJsonSchedule(jsonText: string, opts: JsonImportOptions): ParsedSchedule {
  const source = opts.source ?? "JSON";
  if (jsonText.charCodeAt(0) === 0xfeff) jsonText = jsonText.slice(1);
  if (jsonText.trim() === "") throw new OnairError("ONAIR_SCHEDULE_EMPTY", `${source}: the file is empty`, { source });
  const fail: Fail = (code, path, msg, fields = {}) => {
    const line = jsonLineOf(jsonText, path);
    const where = `${source}${line === undefined ? "" : `:${line}`}`;
    throw new OnairError(code, `${where}: ${pathText(path)}: ${msg}`, { source, path: pathText(path), line, ...fields });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (e) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_JSON", `${source}: malformed JSON: ${e instanceof Error ? e.message : String(e)}`, { source });
  }
  const r = jsonScheduleSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const own = issue.code === "custom" ? [BAD_DATE, BAD_DURATION].find((c) => c.onairCode === issue.params?.onairCode) : undefined;
    const code = own?.onairCode ?? "ONAIR_SCHEDULE_BAD_JSON";
    fail(code, issue.path as JsonPath, issue.message);
  }
  const doc = r.data;
  if (doc.channel !== undefined && doc.channel !== opts.channel) {
    fail("ONAIR_SCHEDULE_CHANNEL_MISMATCH", ["channel"], `the file is for channel "${short(doc.channel)}", not "${opts.channel}"`);
  }
  const items = doc.items.map((it, k) => ({ item: jsonItem(it, k, fail, opts.starts), k }));
  const standalone = (doc.breaks ?? []).map((b, j) => ({ b: standaloneBreak(b, j, fail, opts.starts), j }));
  if (items.length === 0 && standalone.length === 0) {
    throw new OnairError("ONAIR_SCHEDULE_NO_PROGRAMMES", `${source}: no items and no breaks`, { source });
  }
  refuseOverlaps(items, standalone, fail);
  let ws = Number.POSITIVE_INFINITY;
  let we = Number.NEGATIVE_INFINITY;
  for (const { item } of items) {
    ws = Math.min(ws, item.startMs);
    we = Math.max(we, endMs(item));
  }
  for (const { b } of standalone) {
    ws = Math.min(ws, b.startMs);
    we = Math.max(we, b.startMs + b.durationMs);
  }
  return { items: items.map((x) => x.item), breaks: standalone.map((x) => x.b), windowStartMs: ws, windowEndMs: we };
}

function checkStart(startMs: number, path: JsonPath, fail: Fail, starts: StartBounds | undefined): void {
  if (!startInBounds(startMs, starts)) fail("ONAIR_SCHEDULE_OUT_OF_RANGE", path, outOfBoundsText(startMs, starts!), { startMs });
}

/** One item of the file, its times, texts and breaks checked. */
function jsonItem(it: JsonItem, k: number, fail: Fail, starts: StartBounds | undefined): ScheduleItemInput {
  const startMs = isoMs(it.start);
  checkStart(startMs, ["items", k, "start"], fail, starts);
  const stopMs = it.stop !== undefined ? isoMs(it.stop) : startMs + Math.round((it.duration ?? 0) * 1000);
  if (stopMs <= startMs) fail("ONAIR_SCHEDULE_BAD_TIMES", ["items", k, "stop"], "stop is not after start");
  if (stopMs - startMs > MAX_DURATION_MS) fail("ONAIR_SCHEDULE_BAD_TIMES", ["items", k], "lasts more than 7 days");
  const item: ScheduleItemInput = { startMs, durationMs: stopMs - startMs, title: it.title.trim() };
  if (it.subtitle) item.subtitle = it.subtitle;
  if (it.description) item.description = it.description;
  if (it.language) item.language = it.language;
  if (it.genre) item.genre = it.genre;
  const content = it.content ?? (it.genre ? contentForCategory(it.genre) : undefined);
  if (content) item.content = { level1: content.level1, level2: content.level2 };
  if (it.rating !== undefined) item.parentalRating = jsonRating(it.rating);
  if (it.episodeNum && it.episodeNum.length > 0) item.episodeNums = it.episodeNum.map((e) => ({ system: e.system, value: e.value }));
  const breaks = itemBreaks(it, k, startMs, stopMs, fail);
  if (breaks.length > 0) item.breaks = breaks;
  if (it.media !== undefined) item.media = it.media;
  const long = itemTextTooLong(item);
  if (long) {
    fail("ONAIR_SCHEDULE_TEXT_TOO_LONG", ["items", k, JSON_KEY[long.field]], `${long.bytes} bytes of UTF-8; the limit is ${long.limit}`, {
      field: long.field,
      bytes: long.bytes,
      limit: long.limit,
    });
  }
  return item;
}

function jsonRating(rating: NonNullable<JsonItem["rating"]>): ParentalRating {
  if (typeof rating === "number") return { value: String(rating), minAge: rating };
  const value = String(rating.value);
  const r: ParentalRating = { value };
  if (rating.system) r.system = rating.system;
  const age = rating.minAge ?? minAgeFromRating(value);
  if (age !== undefined) r.minAge = age;
  return r;
}

/** An item's breaks, inside the item and not overlapping, by offset. */
function itemBreaks(it: JsonItem, k: number, startMs: number, stopMs: number, fail: Fail): ItemBreak[] {
  const breaks: ItemBreak[] = [];
  (it.breaks ?? []).forEach((b, j) => {
    const bs = isoMs(b.start);
    const bd = Math.round(b.duration * 1000);
    if (bs < startMs || bs + bd > stopMs) fail("ONAIR_SCHEDULE_BAD_BREAK", ["items", k, "breaks", j], "the break is not inside its item");
    const br: ItemBreak = { offsetMs: bs - startMs, durationMs: bd };
    if (b.id) br.breakId = b.id;
    breaks.push(br);
  });
  breaks.sort((a, b) => a.offsetMs - b.offsetMs);
  for (let j = 1; j < breaks.length; j++) {
    if (breaks[j].offsetMs < breaks[j - 1].offsetMs + breaks[j - 1].durationMs)
      fail("ONAIR_SCHEDULE_OVERLAP", ["items", k, "breaks"], "two breaks overlap");
  }
  return breaks;
}

function standaloneBreak(b: JsonBreak, j: number, fail: Fail, starts: StartBounds | undefined): Omit<StandaloneBreak, "channel"> {
  const sb: Omit<StandaloneBreak, "channel"> = { startMs: isoMs(b.start), durationMs: Math.round(b.duration * 1000) };
  checkStart(sb.startMs, ["breaks", j, "start"], fail, starts);
  if (b.id) {
    const long = textTooLong("breakId", b.id);
    if (long)
      fail("ONAIR_SCHEDULE_TEXT_TOO_LONG", ["breaks", j, "id"], `${long.bytes} bytes of UTF-8; the limit is ${long.limit}`, { ...long });
    sb.breakId = b.id;
  }
  return sb;
}

/** Sorts items and standalone breaks by start (file order for ties) and refuses overlaps among each. */
function refuseOverlaps(
  items: { item: ScheduleItemInput; k: number }[],
  standalone: { b: Omit<StandaloneBreak, "channel">; j: number }[],
  fail: Fail,
): void {
  standalone.sort((a, b) => a.b.startMs - b.b.startMs || a.j - b.j);
  for (let j = 1; j < standalone.length; j++) {
    const prev = standalone[j - 1].b;
    if (standalone[j].b.startMs < prev.startMs + prev.durationMs) {
      fail("ONAIR_SCHEDULE_OVERLAP", ["breaks", standalone[j].j], `overlaps breaks[${standalone[j - 1].j}]`);
    }
  }
  items.sort((a, b) => a.item.startMs - b.item.startMs || a.k - b.k);
  for (let i = 1; i < items.length; i++) {
    if (items[i].item.startMs < endMs(items[i - 1].item))
      fail("ONAIR_SCHEDULE_OVERLAP", ["items", items[i].k], `overlaps items[${items[i - 1].k}]`);
  }
}

/** Writes a channel's items and standalone breaks as a JSON schedule (the import schema). */
export function exportJsonSchedule(channel: string, items: ScheduleItem[], breaks: StandaloneBreak[] = []): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const doc: JsonSchedule = {
    channel,
    items: items.map((it) => {
      const o: JsonSchedule["items"][number] = { start: iso(it.startMs), duration: it.durationMs / 1000, title: it.title };
      if (it.subtitle !== undefined) o.subtitle = it.subtitle;
      if (it.description !== undefined) o.description = it.description;
      if (it.language !== undefined) o.language = it.language;
      if (it.genre !== undefined) o.genre = it.genre;
      if (it.content) o.content = { level1: it.content.level1, level2: it.content.level2 };
      if (it.parentalRating) {
        const r: { system?: string; value: string; minAge?: number } = { value: it.parentalRating.value };
        if (it.parentalRating.system !== undefined) r.system = it.parentalRating.system;
        if (it.parentalRating.minAge !== undefined) r.minAge = it.parentalRating.minAge;
        o.rating = r;
      }
      if (it.episodeNums && it.episodeNums.length > 0) o.episodeNum = it.episodeNums.map((e) => ({ system: e.system, value: e.value }));
      if (it.media !== undefined) o.media = it.media;
      if (it.breaks.length > 0) {
        o.breaks = it.breaks.map((b) => {
          const x: { start: string; duration: number; id?: string } = {
            start: iso(it.startMs + b.offsetMs),
            duration: b.durationMs / 1000,
          };
          if (b.breakId !== undefined) x.id = b.breakId;
          return x;
        });
      }
      return o;
    }),
  };
  if (breaks.length > 0) {
    doc.breaks = breaks.map((b) => {
      const x: { start: string; duration: number; id?: string } = { start: iso(b.startMs), duration: b.durationMs / 1000 };
      if (b.breakId !== undefined) x.id = b.breakId;
      return x;
    });
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
