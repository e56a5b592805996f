/**
 * What a schedule import would change, computed without writing (POST
 * /api/v1/channels/:id/schedule/preview, docs/api.md): a pure diff of the items the store holds
 * in the file's window against the items parsed from the file, by the rules of
 * `Store.replaceItems` (store/schedule-write.ts).
 *
 * Items are matched by their start (a channel's items never overlap, so a start names one):
 * - `added`: a parsed item with no stored item at its start;
 * - `removed`: a stored item starting inside the window with no parsed item at its start;
 * - `changed`: same start, and any of these differ: title, end (the duration), sub-title,
 *   description, language, genre, content nibbles, parental rating, episode numbers, and, for
 *   JSON files (which carry them), the item's breaks and media. An XMLTV import keeps the
 *   breaks and media of an item whose start, duration and title stay, so for XMLTV they are not
 *   compared. Each change names its `fields`. A stored item that starts before the window and
 *   runs into it is cut at the window start: it is listed as changed (`end`);
 * - `unchanged`: the rest (a count).
 * For JSON files, the standalone breaks inside the window are counted too (`standaloneBreaks`).
 *
 * `basisOf` is a digest of what the window holds now (its items, cut ones included, and its
 * standalone breaks): an import sent with the preview's basis is refused when the window
 * changed since (routes.ts: 409 ONAIR_SCHEDULE_CHANGED).
 */
import { createHash } from "node:crypto";
import type { ParsedSchedule, ScheduleItem, ScheduleItemInput, StandaloneBreak } from "../schedule/model.js";

/** An item as the preview shows it. */
export interface PreviewItem {
  start: string;
  end: string;
  title: string;
  /** the stored item's DVB event_id (stored items only) */
  eventId?: number;
  subtitle?: string;
  description?: string;
  language?: string;
  genre?: string;
  media?: string;
  breaks: { offsetSeconds: number; durationSeconds: number; breakId?: string }[];
}

export interface SchedulePreview {
  from: string;
  to: string;
  added: PreviewItem[];
  changed: { before: PreviewItem; after: PreviewItem; fields: string[] }[];
  removed: PreviewItem[];
  unchanged: number;
  /** JSON files only: the window's standalone breaks */
  standaloneBreaks?: { added: number; removed: number; unchanged: number };
}

/** What the window holds now (`Store.listItems` and `listBreaks` over the window). */
export interface WindowNow {
  /** items overlapping the window, by start */
  items: readonly ScheduleItem[];
  /** standalone breaks starting inside the window */
  breaks: readonly StandaloneBreak[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function previewItem(i: ScheduleItemInput & { eventId?: number }): PreviewItem {
  const p: PreviewItem = {
    start: iso(i.startMs),
    end: iso(i.startMs + i.durationMs),
    title: i.title,
    breaks: (i.breaks ?? []).map((b) => ({
      offsetSeconds: b.offsetMs / 1000,
      durationSeconds: b.durationMs / 1000,
      ...(b.breakId !== undefined ? { breakId: b.breakId } : {}),
    })),
  };
  if (i.eventId !== undefined) p.eventId = i.eventId;
  for (const k of ["subtitle", "description", "language", "genre", "media"] as const) if (i[k] !== undefined) p[k] = i[k];
  return p;
}

/** The compared fields of an item, each as a comparable string. */
function fieldsOf(i: ScheduleItemInput, withExtras: boolean): Record<string, string> {
  const f: Record<string, string> = {
    title: i.title,
    end: String(i.startMs + i.durationMs),
    subtitle: i.subtitle ?? "",
    description: i.description ?? "",
    language: i.language ?? "",
    genre: i.genre ?? "",
    content: i.content ? `${i.content.level1}/${i.content.level2}` : "",
    rating: i.parentalRating
      ? JSON.stringify([i.parentalRating.system ?? "", i.parentalRating.value, i.parentalRating.minAge ?? null])
      : "",
    episodeNums: JSON.stringify((i.episodeNums ?? []).map((e) => [e.system, e.value])),
  };
  if (withExtras) {
    f.breaks = JSON.stringify((i.breaks ?? []).map((b) => [b.offsetMs, b.durationMs, b.breakId ?? null]));
    f.media = i.media ?? "";
  }
  return f;
}

/** The names of the fields that differ. */
export function changedFields(before: ScheduleItemInput, after: ScheduleItemInput, withExtras: boolean): string[] {
  const a = fieldsOf(before, withExtras);
  const b = fieldsOf(after, withExtras);
  return Object.keys(a).filter((k) => a[k] !== b[k]);
}

/** The preview of importing `parsed` over what the window holds now (`now`: see `WindowNow`). */
export function previewSchedule(parsed: ParsedSchedule, now: WindowNow): SchedulePreview {
  const from = parsed.windowStartMs;
  const withExtras = parsed.breaks !== undefined; // JSON: breaks and media as the file says
  const stored = new Map<number, ScheduleItem>();
  const changed: SchedulePreview["changed"] = [];
  for (const s of now.items) {
    if (s.startMs >= from) stored.set(s.startMs, s);
    else if (s.startMs + s.durationMs > from) {
      const cut = { ...s, durationMs: from - s.startMs, breaks: s.breaks.filter((b) => b.offsetMs < from - s.startMs) };
      changed.push({ before: previewItem(s), after: previewItem(cut), fields: ["end"] });
    }
  }
  const added: PreviewItem[] = [];
  let unchanged = 0;
  for (const p of parsed.items) {
    const s = stored.get(p.startMs);
    if (!s) {
      added.push(previewItem(p));
      continue;
    }
    stored.delete(p.startMs);
    // XMLTV: an item whose start, duration and title stay keeps its breaks and media
    const keeps = !withExtras && s.title === p.title && s.durationMs === p.durationMs;
    const after = keeps ? { ...p, breaks: s.breaks, media: s.media, eventId: s.eventId } : p;
    const fields = changedFields(s, after, withExtras);
    if (fields.length === 0) unchanged++;
    else changed.push({ before: previewItem(s), after: previewItem(after), fields });
  }
  const removed = [...stored.values()].map(previewItem);
  const out: SchedulePreview = { from: iso(from), to: iso(parsed.windowEndMs), added, changed, removed, unchanged };
  if (parsed.breaks) out.standaloneBreaks = diffBreaks(now.breaks, parsed.breaks);
  return out;
}

function diffBreaks(
  before: readonly StandaloneBreak[],
  after: readonly { startMs: number; durationMs: number; breakId?: string | undefined }[],
): { added: number; removed: number; unchanged: number } {
  const key = (b: { startMs: number; durationMs: number; breakId?: string | undefined }): string =>
    `${b.startMs}|${b.durationMs}|${b.breakId ?? ""}`;
  const old = new Map<string, number>();
  for (const b of before) old.set(key(b), (old.get(key(b)) ?? 0) + 1);
  let unchanged = 0;
  let added = 0;
  for (const b of after) {
    const n = old.get(key(b)) ?? 0;
    if (n > 0) {
      old.set(key(b), n - 1);
      unchanged++;
    } else added++;
  }
  return { added, removed: before.length - unchanged, unchanged };
}

/** A digest of what the window holds now (see the file comment): 32 hex digits. */
export function basisOf(now: WindowNow): string {
  const h = createHash("sha256");
  for (const i of now.items) {
    h.update(JSON.stringify([i.startMs, i.eventId, fieldsOf(i, true)]));
    h.update("\n");
  }
  h.update("--\n");
  for (const b of now.breaks) h.update(`${b.startMs}|${b.durationMs}|${b.breakId ?? ""}\n`);
  return h.digest("hex").slice(0, 32);
}
