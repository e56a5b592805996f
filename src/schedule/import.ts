/**
 * Schedule import into the store: read, parse and validate the whole file first, then write
 * it in one transaction (`Store.replaceItems`). Any error leaves the store unchanged.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { OnairError } from "../core/errors.js";
import type { ReplaceResult, Store } from "../store/db.js";
import { exportJsonSchedule, parseJsonSchedule } from "./json.js";
import type { ParsedSchedule } from "./model.js";
import { exportXmltv, parseXmltv } from "./xmltv.js";

export type ScheduleFormat = "xmltv" | "json";

/** Largest import file accepted (256 MiB). A 50 MB XMLTV imports in a few seconds. */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

export interface ImportOptions {
  channel: string;
  format?: ScheduleFormat | undefined;
  /** XMLTV channel id of the programmes to import (default: `channel`). */
  xmltvChannel?: string | undefined;
  /** Name used in messages (default: the file's base name). */
  source?: string | undefined;
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
  throw new OnairError("ONAIR_SCHEDULE_UNKNOWN_FORMAT", `cannot tell the format of ${file} from its extension; pass --format xmltv|json`, { file });
}

/** Parses text in a format, without touching the store. */
export function parseSchedule(text: string, format: ScheduleFormat, opts: ImportOptions): ParsedSchedule {
  return format === "xmltv"
    ? parseXmltv(text, { xmltvChannel: opts.xmltvChannel ?? opts.channel, source: opts.source ?? "XMLTV" })
    : parseJsonSchedule(text, { channel: opts.channel, source: opts.source ?? "JSON" });
}

/** Imports schedule text into the store: all or nothing. */
export function importScheduleText(store: Store, text: string, format: ScheduleFormat, opts: ImportOptions): ImportResult {
  const parsed = parseSchedule(text, format, opts);
  const r = store.replaceItems(opts.channel, parsed.windowStartMs, parsed.windowEndMs, parsed.items, parsed.breaks);
  return { ...r, channel: opts.channel, format, windowStartMs: parsed.windowStartMs, windowEndMs: parsed.windowEndMs };
}

/** Imports a schedule file into the store: all or nothing. */
export function importScheduleFile(store: Store, file: string, opts: ImportOptions): ImportResult {
  const format = opts.format ?? formatFromFileName(file);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new OnairError("ONAIR_SCHEDULE_READ_FAILED", `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  if (size > MAX_IMPORT_BYTES) {
    throw new OnairError(
      "ONAIR_SCHEDULE_TOO_LARGE",
      `${file} is ${size} bytes; the limit is ${MAX_IMPORT_BYTES} bytes (split the file by time window)`,
      { file, size, limit: MAX_IMPORT_BYTES },
    );
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new OnairError("ONAIR_SCHEDULE_READ_FAILED", `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  return importScheduleText(store, text, format, { ...opts, source: opts.source ?? basename(file) });
}

/** Exports the channel's schedule (optionally a window) in a format that imports back. */
export function exportSchedule(store: Store, channel: string, format: ScheduleFormat, fromMs?: number, toMs?: number): string {
  const items = store.listItems(channel, fromMs, toMs);
  return format === "xmltv" ? exportXmltv(channel, items) : exportJsonSchedule(channel, items, store.listBreaks(channel, fromMs, toMs));
}
