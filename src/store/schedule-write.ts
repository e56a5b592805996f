/**
 * Schedule import into the store (`Store.replaceItems`): replaces a channel's items inside a
 * window, keeping the event_id (and, for XMLTV, the breaks and media) of unchanged items.
 * Runs inside the caller's transaction; the rules are on `Store.replaceItems`.
 */
import { eventKey, type ItemBreak, type ScheduleItemInput } from "../schedule/model.js";
import type { Store } from "./db.js";
import { MAX_ITEM_DURATION_MS, allocateEventIds, eventIdsInUse } from "./event-ids.js";

export interface ReplaceResult {
  /** Items written. */
  inserted: number;
  /** Of those, items that kept the event_id of an identical stored item. */
  keptEventIds: number;
  /** Stored items removed from the window. */
  removed: number;
  /** Stored items that started before the window and were cut at its start. */
  truncated: number;
  /** Standalone breaks written (JSON imports). */
  breaks: number;
}

export interface StandaloneBreakInput {
  startMs: number;
  durationMs: number;
  breakId?: string | undefined;
}

export interface ReplaceWindow {
  channel: string;
  fromMs: number;
  toMs: number;
  /** The store clock's now: which event_ids are still in use. */
  nowMs: number;
  eventIdMax: number;
}

/** What the replaced items leave to identical imported ones. */
interface Replaced {
  count: number;
  /** eventKey → event_id of the removed items */
  reusable: Map<string, number>;
  /** event_id → media (XMLTV: an unchanged item keeps it) */
  media: Map<number, string>;
  /** event_id → item breaks (XMLTV: an unchanged item keeps them) */
  breaks: Map<number, ItemBreak[]>;
}

/** Reads, then deletes, the items starting inside the window. */
function removeWindow(store: Store, w: ReplaceWindow, keepExtras: boolean): Replaced {
  const old = store
    .prepared(
      "SELECT start_ms, duration_ms, title, event_id, media FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?",
    )
    .all(w.channel, w.fromMs, w.toMs) as { start_ms: number; duration_ms: number; title: string; event_id: number; media: string | null }[];
  const r: Replaced = { count: old.length, reusable: new Map(), media: new Map(), breaks: new Map() };
  for (const o of old) {
    r.reusable.set(eventKey({ startMs: o.start_ms, durationMs: o.duration_ms, title: o.title }), o.event_id);
    if (keepExtras && o.media !== null) r.media.set(o.event_id, o.media);
  }
  if (keepExtras && old.length > 0) {
    const rows = store
      .prepared(
        `SELECT i.event_id, b.offset_ms, b.duration_ms, b.break_id FROM item_breaks b JOIN schedule_items i ON i.id = b.item_id
         WHERE i.channel = ? AND i.start_ms >= ? AND i.start_ms < ? ORDER BY b.offset_ms`,
      )
      .all(w.channel, w.fromMs, w.toMs) as { event_id: number; offset_ms: number; duration_ms: number; break_id: string | null }[];
    for (const b of rows) {
      let l = r.breaks.get(b.event_id);
      if (!l) r.breaks.set(b.event_id, (l = []));
      l.push({ offsetMs: b.offset_ms, durationMs: b.duration_ms, breakId: b.break_id ?? undefined });
    }
  }
  store.prepared("DELETE FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(w.channel, w.fromMs, w.toMs);
  return r;
}

/** Cuts stored items that start before the window and run into it at the window start; returns how many. */
function truncateStraddling(store: Store, w: ReplaceWindow): number {
  const rows = store
    .prepared("SELECT id, start_ms FROM schedule_items WHERE channel = ? AND start_ms < ? AND start_ms >= ? AND start_ms + duration_ms > ?")
    .all(w.channel, w.fromMs, w.fromMs - MAX_ITEM_DURATION_MS, w.fromMs) as { id: number; start_ms: number }[];
  for (const r of rows) {
    const dur = w.fromMs - r.start_ms;
    store.prepared("UPDATE schedule_items SET duration_ms = ? WHERE id = ?").run(dur, r.id);
    store.prepared("DELETE FROM item_breaks WHERE item_id = ? AND offset_ms >= ?").run(r.id, dur);
  }
  return rows.length;
}

/** The event_id of each item (kept from an identical removed item, else newly allocated) and which ones were kept. */
function assignEventIds(
  store: Store,
  w: ReplaceWindow,
  items: ScheduleItemInput[],
  replaced: Replaced,
): { ids: number[]; kept: boolean[] } {
  const inUse = eventIdsInUse(store, w.channel, w.nowMs);
  const ids = new Array<number>(items.length);
  const kept = new Array<boolean>(items.length).fill(false);
  let fresh = 0;
  for (let i = 0; i < items.length; i++) {
    const key = eventKey(items[i]);
    const id = replaced.reusable.get(key);
    if (id !== undefined && !inUse.has(id)) {
      replaced.reusable.delete(key);
      inUse.add(id);
      ids[i] = id;
      kept[i] = true;
    } else {
      fresh++;
    }
  }
  const allocated = allocateEventIds(store, w.channel, fresh, inUse, w.eventIdMax);
  for (let i = 0, next = 0; i < items.length; i++) if (!kept[i]) ids[i] = allocated[next++];
  return { ids, kept };
}

function insertItems(
  store: Store,
  channel: string,
  items: ScheduleItemInput[],
  ids: { ids: number[]; kept: boolean[] },
  replaced: Replaced,
): void {
  const ins = store.prepared(
    `INSERT INTO schedule_items (channel, start_ms, duration_ms, title, subtitle, description, language, genre,
       content_l1, content_l2, rating_system, rating_value, rating_age, episode_nums, event_id, media)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insBreak = store.prepared("INSERT INTO item_breaks (item_id, offset_ms, duration_ms, break_id) VALUES (?, ?, ?, ?)");
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const id = ids.ids[i];
    const kept = ids.kept[i];
    const r = ins.run(
      channel,
      it.startMs,
      it.durationMs,
      it.title,
      it.subtitle ?? null,
      it.description ?? null,
      it.language ?? null,
      it.genre ?? null,
      it.content?.level1 ?? null,
      it.content?.level2 ?? null,
      it.parentalRating?.system ?? null,
      it.parentalRating?.value ?? null,
      it.parentalRating?.minAge ?? null,
      it.episodeNums && it.episodeNums.length > 0 ? JSON.stringify(it.episodeNums) : null,
      id,
      it.media ?? (kept ? replaced.media.get(id) : undefined) ?? null,
    );
    const itemBreaks = it.breaks && it.breaks.length > 0 ? it.breaks : kept ? replaced.breaks.get(id) : undefined;
    for (const b of itemBreaks ?? []) insBreak.run(r.lastInsertRowid, b.offsetMs, b.durationMs, b.breakId ?? null);
  }
}

function replaceBreaks(store: Store, w: ReplaceWindow, breaks: StandaloneBreakInput[]): void {
  store.prepared("DELETE FROM breaks WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(w.channel, w.fromMs, w.toMs);
  const ins = store.prepared("INSERT INTO breaks (channel, start_ms, duration_ms, break_id) VALUES (?, ?, ?, ?)");
  for (const b of breaks) ins.run(w.channel, b.startMs, b.durationMs, b.breakId ?? null);
}

/** The body of `Store.replaceItems`, inside its transaction. */
export function replaceWindow(store: Store, w: ReplaceWindow, items: ScheduleItemInput[], breaks?: StandaloneBreakInput[]): ReplaceResult {
  // XMLTV (no breaks given) carries no breaks or media: unchanged items keep theirs
  const replaced = removeWindow(store, w, !breaks);
  const truncated = truncateStraddling(store, w);
  const ids = assignEventIds(store, w, items, replaced);
  insertItems(store, w.channel, items, ids, replaced);
  if (breaks) replaceBreaks(store, w, breaks);
  return {
    inserted: items.length,
    keptEventIds: ids.kept.filter(Boolean).length,
    removed: replaced.count,
    truncated,
    breaks: breaks?.length ?? 0,
  };
}
