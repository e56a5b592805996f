/**
 * The console's API routes (docs/api.md, "Reads for the console" and the schedule actions):
 *
 *   GET  /api/v1/channels/:id/schedule?from=ISO&to=ISO   items and breaks overlapping the window
 *                                                        (default now ± 7 days, at most 15 days)
 *   GET  /api/v1/channels/:id/asrun?day=YYYY-MM-DD&kind=item|cue&format=json|csv
 *                                                        the as-run of a day in the channel's EPG
 *                                                        time zone (default: today there)
 *   GET  /api/v1/channels/:id/events?limit=N             the event list (events.ts), newest first
 *   GET  /api/v1/channels/:id/thumbnail.jpg              the latest confidence thumbnail
 *   GET  /api/v1/stream                                  the event stream (stream.ts)
 *   POST /api/v1/channels/:id/schedule/preview           what an import of the body would change,
 *                                                        writing nothing (schedule-preview.ts)
 *   POST /api/v1/channels/:id/schedule[?basis=…]         imports the body (all or nothing)
 *
 * Reads need no token. A query that cannot be read is 400 ONAIR_API_BAD_QUERY; an unknown
 * channel 404 ONAIR_CHANNEL_NOT_FOUND. The two POSTs are actions: admitted by the gate like
 * the control API's (`mutate`: token or session, rate limit, audit as "schedule.preview" and
 * "schedule.import"), except that the body is the schedule file itself, read up to the import
 * limit (MAX_IMPORT_BYTES), not the API's 64 KiB. Its format is `?format=xmltv|json`, else
 * the content type (…xml → XMLTV, …json → JSON), else 415. A file the parser refuses is 400
 * with the parser's code, message and `line`, and nothing changes. An import with the
 * `basis` of a preview is refused with 409 ONAIR_SCHEDULE_CHANGED when the window's items
 * changed since; the check and the write are one transaction.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isOnairError } from "../core/errors.js";
import { mutate, type Admit, type ControlRoutesOptions, type Outcome } from "../observe/http-control.js";
import { HTTP_ERROR_CODES, HttpError, notFoundChannel, send } from "../observe/http-respond.js";
import { channelIdOf, type RouteGroup } from "../observe/http-router.js";
import { parseIsoTime } from "../schedule/calendar.js";
import { MAX_IMPORT_BYTES, parseScheduleBytes, type ScheduleFormat } from "../schedule/import.js";
import type { ParsedSchedule } from "../schedule/model.js";
import { asRunCsv, queryAsRunRows } from "../store/asrun-export.js";
import type { Store } from "../store/db.js";
import type { ConsoleEvents } from "./events.js";
import type { ThumbnailSource } from "./feed.js";
import { basisOf, previewSchedule, type WindowNow } from "./schedule-preview.js";
import type { StreamHub } from "./stream.js";
import { dayBounds, dayIn } from "./zone-day.js";

const DAY_MS = 86_400_000;
export const SCHEDULE_DEFAULT_SPAN_MS = 7 * DAY_MS;
export const SCHEDULE_MAX_SPAN_MS = 15 * DAY_MS;
const EVENTS_DEFAULT_LIMIT = 100;
const EVENTS_MAX_LIMIT = 1000;

/** The console's own error codes. */
export const CONSOLE_ERROR_CODES = {
  badQuery: "ONAIR_API_BAD_QUERY",
  scheduleChanged: "ONAIR_SCHEDULE_CHANGED",
  thumbnailNone: "ONAIR_THUMBNAIL_NONE",
} as const;

export interface ConsoleRoutesOptions extends ControlRoutesOptions {
  store: Store;
  /** the channel's EPG time zone; undefined: no such channel (404) */
  timeZone(id: string): string | undefined;
  events: ConsoleEvents;
  hub: StreamHub;
  thumbnails?: Pick<ThumbnailSource, "latest"> | undefined;
  /** a schedule was imported through the console */
  imported?(id: string, who: string, counts: { added: number; changed: number; removed: number; unchanged: number }): void;
}

const badQuery = (message: string, param: string): HttpError => new HttpError(400, CONSOLE_ERROR_CODES.badQuery, message, { param });

function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://localhost").searchParams;
}

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const ms = parseIsoTime(v);
  if (ms === undefined) throw badQuery(`${name} is not an ISO-8601 time with Z or an offset`, name);
  return ms;
}

function oneOf<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw badQuery(`${name} must be one of ${allowed.join(", ")}`, name);
  return v as T;
}

/** The window of GET …/schedule: from/to as given, a missing end 14 days from the other, at most 15 days. */
export function scheduleWindow(q: URLSearchParams, now: number): { fromMs: number; toMs: number } {
  const from = timeParam(q, "from");
  const to = timeParam(q, "to");
  const fromMs = from ?? (to !== undefined ? to - 2 * SCHEDULE_DEFAULT_SPAN_MS : now - SCHEDULE_DEFAULT_SPAN_MS);
  const toMs = to ?? (from !== undefined ? from + 2 * SCHEDULE_DEFAULT_SPAN_MS : now + SCHEDULE_DEFAULT_SPAN_MS);
  if (toMs <= fromMs) throw badQuery("to must be after from", "to");
  if (toMs - fromMs > SCHEDULE_MAX_SPAN_MS) throw badQuery("the window is at most 15 days", "to");
  return { fromMs, toMs };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function zoneOf(o: ConsoleRoutesOptions, id: string): string {
  const tz = o.timeZone(id);
  if (tz === undefined) throw notFoundChannel(id);
  return tz;
}

function getSchedule(o: ConsoleRoutesOptions, req: IncomingMessage, res: ServerResponse, id: string): void {
  const timeZone = zoneOf(o, id);
  const { fromMs, toMs } = scheduleWindow(queryOf(req), o.clock.now());
  const items = o.store.listItems(id, fromMs, toMs).map((i) => ({
    eventId: i.eventId,
    title: i.title,
    start: iso(i.startMs),
    end: iso(i.startMs + i.durationMs),
    breaks: i.breaks.map((b) => ({ offsetSeconds: b.offsetMs / 1000, durationSeconds: b.durationMs / 1000 })),
  }));
  const breaks = o.store.listBreaks(id, fromMs, toMs).map((b) => ({ at: iso(b.startMs), durationSeconds: b.durationMs / 1000 }));
  send(res, 200, { channel: id, timeZone, from: iso(fromMs), to: iso(toMs), items, breaks });
}

function getAsRun(o: ConsoleRoutesOptions, req: IncomingMessage, res: ServerResponse, id: string): void {
  const timeZone = zoneOf(o, id);
  const q = queryOf(req);
  const day = q.get("day") ?? dayIn(timeZone, o.clock.now());
  const bounds = dayBounds(day, timeZone);
  if (!bounds) throw badQuery("day must be a date YYYY-MM-DD", "day");
  const kind = oneOf(q, "kind", ["item", "cue"] as const);
  const format = oneOf(q, "format", ["json", "csv"] as const) ?? "json";
  const rows = queryAsRunRows(o.store, { channel: id, fromMs: bounds.fromMs, toMs: bounds.toMs, kind });
  if (format === "json") {
    send(res, 200, { channel: id, day, timeZone, rows });
    return;
  }
  const csv = asRunCsv(rows);
  res.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="asrun-${id}-${day}${kind ? `-${kind}` : ""}.csv"`,
    "content-length": String(Buffer.byteLength(csv)),
    "cache-control": "no-store",
  });
  res.end(csv);
}

function getEvents(o: ConsoleRoutesOptions, req: IncomingMessage, res: ServerResponse, id: string): void {
  zoneOf(o, id);
  const raw = queryOf(req).get("limit");
  const limit = raw === null ? EVENTS_DEFAULT_LIMIT : /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= EVENTS_MAX_LIMIT)) throw badQuery(`limit must be 1 to ${EVENTS_MAX_LIMIT}`, "limit");
  send(res, 200, { events: o.events.list(id, limit) });
}

function getThumbnail(o: ConsoleRoutesOptions, res: ServerResponse, id: string): void {
  zoneOf(o, id);
  const t = o.thumbnails?.latest(id);
  if (!t) {
    const why = o.thumbnails ? "no thumbnail yet (they are made while a console is connected)" : "thumbnails are off (console.thumbnails)";
    throw new HttpError(404, CONSOLE_ERROR_CODES.thumbnailNone, why, { channel: id });
  }
  res.writeHead(200, {
    "content-type": "image/jpeg",
    "content-length": String(t.jpeg.length),
    "cache-control": "no-store",
    "x-thumbnail-seq": String(t.seq),
    "last-modified": new Date(t.atMs).toUTCString(),
  });
  res.end(t.jpeg);
}

/** The upload's format: ?format=, else the content type. */
export function uploadFormat(req: IncomingMessage): ScheduleFormat {
  const asked = oneOf(queryOf(req), "format", ["xmltv", "json"] as const);
  if (asked) return asked;
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type.endsWith("xml")) return "xmltv";
  if (type.endsWith("json")) return "json";
  throw new HttpError(
    415,
    HTTP_ERROR_CODES.unsupportedMediaType,
    "send the schedule as application/xml (XMLTV) or application/json, or name it with ?format=xmltv|json",
  );
}

/** Parses the upload; a file the parser refuses is 400 with its code, message and line. */
function parseUpload(
  o: ConsoleRoutesOptions,
  req: IncomingMessage,
  id: string,
  body: unknown,
): { format: ScheduleFormat; parsed: ParsedSchedule } {
  const format = uploadFormat(req);
  const xmltvChannel = queryOf(req).get("xmltvChannel") ?? undefined;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  try {
    return { format, parsed: parseScheduleBytes(bytes, format, { channel: id, xmltvChannel, source: "the file", clock: o.clock }) };
  } catch (e) {
    if (!isOnairError(e)) throw e;
    const f = e.fields;
    const detail: Record<string, unknown> = { line: typeof f.line === "number" ? f.line : null };
    for (const k of ["programme", "path", "channel"]) if (f[k] !== undefined) detail[k] = f[k];
    throw new HttpError(400, e.code, e.message, detail);
  }
}

function windowNow(store: Store, id: string, p: ParsedSchedule): WindowNow {
  return { items: store.listItems(id, p.windowStartMs, p.windowEndMs), breaks: store.listBreaks(id, p.windowStartMs, p.windowEndMs) };
}

function preview(o: ConsoleRoutesOptions, req: IncomingMessage, id: string, body: unknown): Outcome {
  zoneOf(o, id);
  const { format, parsed } = parseUpload(o, req, id, body);
  const now = windowNow(o.store, id, parsed);
  const p = previewSchedule(parsed, now);
  const counts = { added: p.added.length, changed: p.changed.length, removed: p.removed.length, unchanged: p.unchanged };
  return { status: 200, body: { channel: id, format, ...p, basis: basisOf(now) }, params: { format, from: p.from, to: p.to, ...counts } };
}

function importSchedule(o: ConsoleRoutesOptions, req: IncomingMessage, id: string, body: unknown, who: string): Outcome {
  zoneOf(o, id);
  const basis = queryOf(req).get("basis") ?? undefined;
  const { format, parsed } = parseUpload(o, req, id, body);
  const done = o.store.transaction("console schedule import", () => {
    const now = windowNow(o.store, id, parsed);
    if (basis !== undefined && basisOf(now) !== basis) return undefined;
    const p = previewSchedule(parsed, now);
    return { p, r: o.store.replaceItems(id, parsed.windowStartMs, parsed.windowEndMs, parsed.items, parsed.breaks) };
  });
  if (!done) {
    throw new HttpError(409, CONSOLE_ERROR_CODES.scheduleChanged, "the schedule changed since the preview; preview the file again", {
      channel: id,
    });
  }
  const { p, r } = done;
  const counts = { added: p.added.length, changed: p.changed.length, removed: p.removed.length, unchanged: p.unchanged };
  o.imported?.(id, who, counts);
  // the store's own counts (`removed` there counts every stored item replaced, so it is left out)
  const answer = {
    channel: id,
    format,
    from: p.from,
    to: p.to,
    ...counts,
    inserted: r.inserted,
    keptEventIds: r.keptEventIds,
    truncated: r.truncated,
  };
  return { status: 200, body: answer, params: { format, from: p.from, to: p.to, ...counts, ...(basis ? { basis } : {}) } };
}

const T = {
  schedule: "/api/v1/channels/:id/schedule",
  preview: "/api/v1/channels/:id/schedule/preview",
  asrun: "/api/v1/channels/:id/asrun",
  events: "/api/v1/channels/:id/events",
  thumbnail: "/api/v1/channels/:id/thumbnail.jpg",
  stream: "/api/v1/stream",
} as const;

/** The console's API routes (see the file comment). */
export function consoleRoutes(o: ConsoleRoutesOptions): RouteGroup {
  // a schedule file: admitted like the API's calls, its body read as bytes up to the import limit
  const upload: Admit = (req, caller) => o.gate.admitRaw(req, caller, MAX_IMPORT_BYTES);
  const read = (run: () => void): Promise<void> => Promise.resolve().then(run);
  return ({ req, res, path, template, only }) => {
    if (template === T.stream && only("GET")) return read(() => o.hub.open(req, res));
    if (template === T.schedule) {
      const id = channelIdOf(path);
      if (req.method === "POST")
        return mutate(
          o,
          req,
          res,
          "schedule.import",
          id,
          (body, c) => Promise.resolve().then(() => importSchedule(o, req, id, body, c.who)),
          upload,
        );
      return only("GET") ? read(() => getSchedule(o, req, res, id)) : undefined;
    }
    if (template === T.preview && only("POST")) {
      const id = channelIdOf(path);
      return mutate(o, req, res, "schedule.preview", id, (body) => Promise.resolve().then(() => preview(o, req, id, body)), upload);
    }
    if (template === T.asrun && only("GET")) return read(() => getAsRun(o, req, res, channelIdOf(path)));
    if (template === T.events && only("GET")) return read(() => getEvents(o, req, res, channelIdOf(path)));
    if (template === T.thumbnail && only("GET")) return read(() => getThumbnail(o, res, channelIdOf(path)));
    return undefined;
  };
}
