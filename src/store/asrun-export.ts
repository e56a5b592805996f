/**
 * The as-run log out of the store: what aired (kind "item"), every cue sent (kind "cue",
 * written by the channel) and anything else recorded, with scheduled and actual time, PTS
 * and event id; as CSV (RFC 4180, one header line) or JSON. Also `recordItemAired`, which
 * the channel calls when a schedule item goes on air.
 */
import type { ScheduleItem } from "../schedule/model.js";
import type { AsRunEntry, Store } from "./db.js";

export type AsRunFormat = "csv" | "json";

export interface AsRunExportQuery {
  channel: string;
  /** actual time >= fromMs */
  fromMs?: number | undefined;
  /** actual time < toMs */
  toMs?: number | undefined;
  kind?: string | undefined;
}

/** One exported row: times as ISO-8601 UTC with milliseconds plus the raw epoch ms. */
export interface AsRunRow {
  id: number;
  channel: string;
  kind: string;
  scheduled: string | null;
  actual: string;
  scheduledMs: number | null;
  actualMs: number;
  /** actual − scheduled, ms (positive: late) */
  offsetMs: number | null;
  /** 90 kHz PTS of the splice point / first frame, when known */
  pts: number | null;
  /** DVB event_id for items, splice_event_id for cues */
  eventId: number | null;
  /** the title (items) or the command (cues), when the details carry one */
  title: string | null;
  details: unknown;
}

export const CSV_COLUMNS = ["id", "channel", "kind", "scheduled", "actual", "offset_ms", "pts", "event_id", "title", "details"] as const;

const iso = (ms: number): string => new Date(ms).toISOString();

function titleOf(details: unknown): string | null {
  if (details && typeof details === "object") {
    const d = details as Record<string, unknown>;
    for (const k of ["title", "command", "kind"]) if (typeof d[k] === "string") return d[k];
  }
  return null;
}

export function toRow(e: AsRunEntry): AsRunRow {
  return {
    id: e.id,
    channel: e.channel,
    kind: e.kind,
    scheduled: e.scheduledMs === undefined ? null : iso(e.scheduledMs),
    actual: iso(e.actualMs),
    scheduledMs: e.scheduledMs ?? null,
    actualMs: e.actualMs,
    offsetMs: e.scheduledMs === undefined ? null : e.actualMs - e.scheduledMs,
    pts: e.pts ?? null,
    eventId: e.eventId ?? null,
    title: titleOf(e.details),
    details: e.details ?? null,
  };
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; a leading =+-@ is prefixed with ' (spreadsheet formula injection). */
export function csvField(v: string | number | null): string {
  if (v === null) return "";
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function asRunCsv(rows: AsRunRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.id,
        r.channel,
        r.kind,
        r.scheduled,
        r.actual,
        r.offsetMs,
        r.pts,
        r.eventId,
        r.title,
        r.details === null ? null : JSON.stringify(r.details),
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

export function asRunJson(q: AsRunExportQuery, rows: AsRunRow[]): string {
  return `${JSON.stringify(
    {
      channel: q.channel,
      from: q.fromMs === undefined ? null : iso(q.fromMs),
      to: q.toMs === undefined ? null : iso(q.toMs),
      count: rows.length,
      entries: rows,
    },
    null,
    2,
  )}\n`;
}

/** The channel's as-run rows with actual time in [fromMs, toMs), oldest first. */
export function queryAsRunRows(store: Store, q: AsRunExportQuery): AsRunRow[] {
  const query: { channel: string; fromMs?: number; toMs?: number; kind?: string } = { channel: q.channel };
  if (q.fromMs !== undefined) query.fromMs = q.fromMs;
  if (q.toMs !== undefined) query.toMs = q.toMs;
  if (q.kind !== undefined) query.kind = q.kind;
  return store.queryAsRun(query).map(toRow);
}

export function exportAsRun(store: Store, q: AsRunExportQuery, format: AsRunFormat): string {
  const rows = queryAsRunRows(store, q);
  return format === "csv" ? asRunCsv(rows) : asRunJson(q, rows);
}

/**
 * Records that a schedule item went on air: kind "item", scheduled = the item's start,
 * actual = when its first frame left (`actualMs`), the DVB event_id, and the PTS of that
 * frame when known. Returns the as-run row id. The channel calls it once per item, when the
 * item becomes the present one on the output.
 */
export function recordItemAired(
  store: Store,
  channel: string,
  item: Pick<ScheduleItem, "startMs" | "durationMs" | "title" | "eventId"> & { subtitle?: string | undefined },
  actualMs: number,
  pts?: number,
  /** more details, e.g. `{ joined_late: true }` for the item already running at start */
  extra?: Record<string, unknown>,
): number {
  const details: Record<string, unknown> = { title: item.title, durationMs: item.durationMs };
  if (item.subtitle) details.subtitle = item.subtitle;
  if (extra) Object.assign(details, extra);
  return store.insertAsRun({
    channel,
    kind: "item",
    scheduledMs: item.startMs,
    actualMs,
    pts,
    eventId: item.eventId,
    details,
  });
}
