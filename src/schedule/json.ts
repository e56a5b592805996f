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
import { OnairError } from "../core/errors.js";
import { contentForCategory } from "./genre.js";
import { endMs, minAgeFromRating, type ItemBreak, type ParsedSchedule, type ScheduleItem, type ScheduleItemInput, type StandaloneBreak } from "./model.js";

const MAX_DURATION_MS = 7 * 24 * 3600_000;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

const isoTime = z
  .string()
  .regex(ISO_RE, "expected an ISO-8601 time with Z or an offset, e.g. 2025-06-01T12:00:00Z")
  .refine((s) => !Number.isNaN(Date.parse(s)), "not a valid date");
const seconds = z.number().positive().max(MAX_DURATION_MS / 1000);

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
        z.strictObject({ system: z.string().optional(), value: z.union([z.string().min(1), z.number()]), minAge: z.number().int().min(0).max(21).optional() }),
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

function pathText(path: readonly PropertyKey[]): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s === "" ? String(k) : `.${String(k)}`;
  return s || "(root)";
}

function fail(code: `ONAIR_${string}`, source: string, path: string, msg: string): never {
  throw new OnairError(code, `${source}: ${path}: ${msg}`, { source, path });
}

/** Parses a JSON schedule for `channel`; errors name the JSON path. */
export function parseJsonSchedule(jsonText: string, opts: { channel: string; source?: string }): ParsedSchedule {
  const source = opts.source ?? "JSON";
  if (jsonText.charCodeAt(0) === 0xfeff) jsonText = jsonText.slice(1);
  if (jsonText.trim() === "") throw new OnairError("ONAIR_SCHEDULE_EMPTY", `${source}: the file is empty`, { source });
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (e) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_JSON", `${source}: malformed JSON: ${e instanceof Error ? e.message : String(e)}`, { source });
  }
  const r = jsonScheduleSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    fail("ONAIR_SCHEDULE_BAD_JSON", source, pathText(issue.path), issue.message);
  }
  const doc = r.data;
  if (doc.channel !== undefined && doc.channel !== opts.channel) {
    fail("ONAIR_SCHEDULE_CHANNEL_MISMATCH", source, "channel", `the file is for channel "${doc.channel}", not "${opts.channel}"`);
  }

  const items: { item: ScheduleItemInput; k: number }[] = doc.items.map((it, k) => {
    const startMs = Date.parse(it.start);
    const stopMs = it.stop !== undefined ? Date.parse(it.stop) : startMs + Math.round((it.duration ?? 0) * 1000);
    if (stopMs <= startMs) fail("ONAIR_SCHEDULE_BAD_TIMES", source, `items[${k}].stop`, "stop is not after start");
    if (stopMs - startMs > MAX_DURATION_MS) fail("ONAIR_SCHEDULE_BAD_TIMES", source, `items[${k}]`, "lasts more than 7 days");
    const item: ScheduleItemInput = { startMs, durationMs: stopMs - startMs, title: it.title.trim() };
    if (it.subtitle) item.subtitle = it.subtitle;
    if (it.description) item.description = it.description;
    if (it.language) item.language = it.language;
    if (it.genre) item.genre = it.genre;
    const content = it.content ?? (it.genre ? contentForCategory(it.genre) : undefined);
    if (content) item.content = { level1: content.level1, level2: content.level2 };
    if (it.rating !== undefined) {
      if (typeof it.rating === "number") {
        item.parentalRating = { value: String(it.rating), minAge: it.rating };
      } else {
        const value = String(it.rating.value);
        item.parentalRating = { value };
        if (it.rating.system) item.parentalRating.system = it.rating.system;
        const age = it.rating.minAge ?? minAgeFromRating(value);
        if (age !== undefined) item.parentalRating.minAge = age;
      }
    }
    if (it.episodeNum && it.episodeNum.length > 0) item.episodeNums = it.episodeNum.map((e) => ({ system: e.system, value: e.value }));
    const breaks: ItemBreak[] = [];
    (it.breaks ?? []).forEach((b, j) => {
      const bs = Date.parse(b.start);
      const bd = Math.round(b.duration * 1000);
      if (bs < startMs || bs + bd > stopMs) {
        fail("ONAIR_SCHEDULE_BAD_BREAK", source, `items[${k}].breaks[${j}]`, "the break is not inside its item");
      }
      const br: ItemBreak = { offsetMs: bs - startMs, durationMs: bd };
      if (b.id) br.breakId = b.id;
      breaks.push(br);
    });
    breaks.sort((a, b) => a.offsetMs - b.offsetMs);
    for (let j = 1; j < breaks.length; j++) {
      if (breaks[j].offsetMs < breaks[j - 1].offsetMs + breaks[j - 1].durationMs) {
        fail("ONAIR_SCHEDULE_OVERLAP", source, `items[${k}].breaks`, "two breaks overlap");
      }
    }
    if (breaks.length > 0) item.breaks = breaks;
    if (it.media !== undefined) item.media = it.media;
    return { item, k };
  });

  const standalone = (doc.breaks ?? []).map((b, j) => {
    const sb: Omit<StandaloneBreak, "channel"> = { startMs: Date.parse(b.start), durationMs: Math.round(b.duration * 1000) };
    if (b.id) sb.breakId = b.id;
    return { b: sb, j };
  });
  standalone.sort((a, b) => a.b.startMs - b.b.startMs);
  for (let j = 1; j < standalone.length; j++) {
    const prev = standalone[j - 1].b;
    if (standalone[j].b.startMs < prev.startMs + prev.durationMs) {
      fail("ONAIR_SCHEDULE_OVERLAP", source, `breaks[${standalone[j].j}]`, `overlaps breaks[${standalone[j - 1].j}]`);
    }
  }

  if (items.length === 0 && standalone.length === 0) {
    throw new OnairError("ONAIR_SCHEDULE_NO_PROGRAMMES", `${source}: no items and no breaks`, { source });
  }
  items.sort((a, b) => a.item.startMs - b.item.startMs || a.k - b.k);
  for (let i = 1; i < items.length; i++) {
    if (items[i].item.startMs < endMs(items[i - 1].item)) {
      fail("ONAIR_SCHEDULE_OVERLAP", source, `items[${items[i].k}]`, `overlaps items[${items[i - 1].k}]`);
    }
  }
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
          const x: { start: string; duration: number; id?: string } = { start: iso(it.startMs + b.offsetMs), duration: b.durationMs / 1000 };
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
