/**
 * Schedule import into the store: read, decode, parse and validate the whole file first, then
 * write it in one transaction (`Store.replaceItems`). Any error leaves the store unchanged.
 * Every way in (a file, bytes, text) goes through the same checks: size (MAX_IMPORT_BYTES),
 * encoding (decode.ts), text lengths and item starts (limits.ts), then the format's own rules.
 * The replace window is the span of what the file brings: from its earliest start to its
 * latest end (items, and JSON standalone breaks), never more.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import type { ReplaceResult, Store } from "../store/db.js";
import { decodeScheduleBytes } from "./decode.js";
import { exportJsonSchedule, parseJsonSchedule } from "./json.js";
import { MAX_IMPORT_BYTES, startBounds } from "./limits.js";
import type { ParsedSchedule } from "./model.js";
import { exportXmltv, parseXmltv } from "./xmltv.js";

export type ScheduleFormat = "xmltv" | "json";

export { MAX_IMPORT_BYTES };

export interface ImportOptions {
  channel: string;
  format?: ScheduleFormat | undefined;
  /** XMLTV channel id of the programmes to import (default: `channel`). */
  xmltvChannel?: string | undefined;
  /** Name used in messages (default: the file's base name). */
  source?: string | undefined;
  /** Accept item starts outside [now − 30 days, now + 400 days] (`--force`). */
  force?: boolean | undefined;
  /** What "now" is for that window (default: the system clock). */
  clock?: Clock | undefined;
}

export interface ImportResult extends ReplaceResult {
  channel: string;
  format: ScheduleFormat;
  windowStartMs: number;
  windowEndMs: number;
}

export function formatFromFileName(file: string): ScheduleFormat {
  const ext = extname(file).toLowerCase();
  if (ext === ".xml" || ext === ".xmltv") return "xmltv";
  if (ext === ".json") return "json";
  throw new OnairError("ONAIR_SCHEDULE_UNKNOWN_FORMAT", `cannot tell the format of ${file} from its extension; pass --format xmltv|json`, {
    file,
  });
}

/** Parses text in a format, without touching the store. */
export function parseSchedule(text: string, format: ScheduleFormat, opts: ImportOptions): ParsedSchedule {
  const starts = opts.force ? undefined : startBounds((opts.clock ?? systemClock).now());
  return format === "xmltv"
    ? parseXmltv(text, { xmltvChannel: opts.xmltvChannel ?? opts.channel, source: opts.source ?? "XMLTV", starts })
    : parseJsonSchedule(text, { channel: opts.channel, source: opts.source ?? "JSON", starts });
}

function refuseSize(bytes: number, source: string): void {
  if (bytes > MAX_IMPORT_BYTES) {
    throw new OnairError(
      "ONAIR_SCHEDULE_TOO_LARGE",
      `${source} is ${bytes} bytes; the limit is ${MAX_IMPORT_BYTES} bytes (split the file by time window)`,
      { source, size: bytes, limit: MAX_IMPORT_BYTES },
    );
  }
}

/** Imports schedule text (its size counted in UTF-8) into the store: all or nothing. */
export function importScheduleText(store: Store, text: string, format: ScheduleFormat, opts: ImportOptions): ImportResult {
  refuseSize(Buffer.byteLength(text, "utf8"), opts.source ?? "the schedule");
  return importDecoded(store, text, format, opts);
}

function importDecoded(store: Store, text: string, format: ScheduleFormat, opts: ImportOptions): ImportResult {
  const parsed = parseSchedule(text, format, opts);
  const r = store.replaceItems(opts.channel, parsed.windowStartMs, parsed.windowEndMs, parsed.items, parsed.breaks);
  return { ...r, channel: opts.channel, format, windowStartMs: parsed.windowStartMs, windowEndMs: parsed.windowEndMs };
}

/**
 * Decodes and parses the bytes of a schedule file with every check an import makes (size,
 * encoding, limits, the format's rules), without touching the store: what an import of the
 * same bytes would write (the console's preview, src/console/schedule-preview.ts).
 */
export function parseScheduleBytes(bytes: Uint8Array, format: ScheduleFormat, opts: ImportOptions): ParsedSchedule {
  const source = opts.source ?? "the schedule";
  refuseSize(bytes.length, source);
  return parseSchedule(decodeScheduleBytes(bytes, format, source), format, opts);
}

/** Imports the bytes of a schedule file (decoded as decode.ts says) into the store: all or nothing. */
export function importScheduleBytes(store: Store, bytes: Uint8Array, format: ScheduleFormat, opts: ImportOptions): ImportResult {
  const source = opts.source ?? "the schedule";
  refuseSize(bytes.length, source);
  return importDecoded(store, decodeScheduleBytes(bytes, format, source), format, opts);
}

/** Imports a schedule file into the store: all or nothing. */
export function importScheduleFile(store: Store, file: string, opts: ImportOptions): ImportResult {
  const format = opts.format ?? formatFromFileName(file);
  let bytes: Buffer;
  try {
    // the size first: a file over the limit is never read
    refuseSize(statSync(file).size, file);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof OnairError) throw e;
    throw new OnairError("ONAIR_SCHEDULE_READ_FAILED", `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  return importScheduleBytes(store, bytes, format, { ...opts, source: opts.source ?? basename(file) });
}

/** Exports the channel's schedule (optionally a window) in a format that imports back. */
export function exportSchedule(store: Store, channel: string, format: ScheduleFormat, fromMs?: number, toMs?: number): string {
  const items = store.listItems(channel, fromMs, toMs);
  return format === "xmltv" ? exportXmltv(channel, items) : exportJsonSchedule(channel, items, store.listBreaks(channel, fromMs, toMs));
}
