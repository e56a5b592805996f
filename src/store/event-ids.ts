/**
 * Id allocation that never runs out (issue #23): DVB event_ids (EN 300 468, 16 bits) for
 * schedule items and splice_event_ids (SCTE 35, 32 bits) for cues, per channel.
 *
 * Both use a wrapping cursor (event_id_counters, splice_counters: the last id handed out)
 * that moves on to the next id not in use, 1…max then 1 again (0 is never used). An id comes
 * round again only when nothing live holds it:
 * - event_id: EN 300 468 wants it unique within the service at a time, i.e. while the event
 *   can be in an EIT. An id is in use while a stored item holding it has not ended, and for
 *   `EVENT_ID_REUSE_AFTER_MS` (2 days) after it ended: one day to leave the EIT p/f and the
 *   EIT schedule (whose window starts at the current day's midnight), one more for receiver
 *   caches and the as-run log. Past items keep their id in the table until retention prunes
 *   them; several past items may hold the same id.
 * - splice_event_id: SCTE 35 wants it unique for the event's life. Each allocation holds a
 *   lease (table splice_event_ids) until the break is over plus `SPLICE_ID_REUSE_MARGIN_MS`
 *   (1 h, past its as-run row, written when its cue goes out): a cue request leases until its
 *   break ends (extended when it airs later than asked); an allocation that does not say
 *   when its break ends (the injector's planner, which plans at most an hour ahead) leases
 *   `SPLICE_ID_DEFAULT_HOLD_MS` (1 day). A pending cue request holds its id whatever its lease.
 *
 * Only a true "every id in use at once" fails: ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED or
 * ONAIR_SPLICE_EVENT_IDS_EXHAUSTED. The id spaces are store options (`idSpace`) so tests
 * shrink them. Callers run these inside the store's IMMEDIATE transaction.
 */
import { OnairError } from "../core/errors.js";
import { EVENT_ID_MAX } from "../schedule/model.js";
import type { Store } from "./db.js";

export const SPLICE_EVENT_ID_MAX = 0xffffffff;
/** A stored item's event_id is free again this long after the item ended. */
export const EVENT_ID_REUSE_AFTER_MS = 2 * 86_400_000;
/** A splice_event_id is free again this long after its break ended. */
export const SPLICE_ID_REUSE_MARGIN_MS = 3_600_000;
/** Lease of a splice_event_id allocated without a break end (the planner's). */
export const SPLICE_ID_DEFAULT_HOLD_MS = 86_400_000;
/** Longest item the store accepts (7 days); lets range queries use the start index. */
export const MAX_ITEM_DURATION_MS = 7 * 24 * 3600_000;

/** The largest id of each space (ids run 1…max). */
export interface IdSpace {
  /** DVB event_id, default 65535 (at most 65535). */
  eventIdMax: number;
  /** splice_event_id, default 2^32 − 1 (at most that). */
  spliceEventIdMax: number;
}

export const DEFAULT_ID_SPACE: IdSpace = { eventIdMax: EVENT_ID_MAX, spliceEventIdMax: SPLICE_EVENT_ID_MAX };

/** Checks and completes a store's `idSpace` option. */
export function idSpaceOf(o: Partial<IdSpace> | undefined): IdSpace {
  const pick = (v: number | undefined, max: number): number => {
    if (v === undefined) return max;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`id space must be 1…${max}, got ${v}`);
    return v;
  };
  return { eventIdMax: pick(o?.eventIdMax, EVENT_ID_MAX), spliceEventIdMax: pick(o?.spliceEventIdMax, SPLICE_EVENT_ID_MAX) };
}

/** Event ids of the channel's items still in use at `nowMs` (not ended, or ended less than EVENT_ID_REUSE_AFTER_MS ago). */
export function eventIdsInUse(store: Store, channel: string, nowMs: number): Set<number> {
  const cutoff = nowMs - EVENT_ID_REUSE_AFTER_MS;
  const ids = store
    .prepared("SELECT event_id FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms + duration_ms > ?")
    .pluck()
    .all(channel, cutoff - MAX_ITEM_DURATION_MS, cutoff) as number[];
  return new Set(ids);
}

/**
 * `count` DVB event_ids for new items, none in `inUse` (which gains them), from the channel's
 * cursor on; the cursor is stored.
 */
export function allocateEventIds(store: Store, channel: string, count: number, inUse: Set<number>, max: number): number[] {
  if (count === 0) return [];
  if (inUse.size + count > max) {
    throw new OnairError(
      "ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED",
      `channel ${channel} has no free DVB event_id left: ${inUse.size} of ${max} in use by current and coming items`,
      { channel, inUse: inUse.size, needed: count, max },
    );
  }
  const counter = store.prepared("SELECT last_id FROM event_id_counters WHERE channel = ?").pluck().get(channel) as number | undefined;
  let last = counter ?? 0;
  const out: number[] = [];
  while (out.length < count) {
    last = last >= max ? 1 : last + 1;
    if (inUse.has(last)) continue;
    inUse.add(last);
    out.push(last);
  }
  store
    .prepared(
      "INSERT INTO event_id_counters (channel, last_id) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET last_id = excluded.last_id",
    )
    .run(channel, last);
  return out;
}

function spliceIdBusy(store: Store, channel: string, id: number, nowMs: number): boolean {
  return (
    store
      .prepared(
        `SELECT EXISTS (SELECT 1 FROM splice_event_ids WHERE channel = ? AND splice_event_id = ? AND busy_until_ms > ?)
             OR EXISTS (SELECT 1 FROM cue_requests WHERE channel = ? AND splice_event_id = ? AND state = 'pending')`,
      )
      .pluck()
      .get(channel, id, nowMs, channel, id) === 1
  );
}

function spliceIdsBusy(store: Store, channel: string, nowMs: number): number {
  return store
    .prepared(
      `SELECT count(*) FROM (SELECT splice_event_id FROM splice_event_ids WHERE channel = ? AND busy_until_ms > ?
       UNION SELECT splice_event_id FROM cue_requests WHERE channel = ? AND state = 'pending')`,
    )
    .pluck()
    .get(channel, nowMs, channel) as number;
}

/**
 * The channel's next free splice_event_id, leased until `breakEndMs` (default: now +
 * SPLICE_ID_DEFAULT_HOLD_MS) plus SPLICE_ID_REUSE_MARGIN_MS; cursor and lease are stored.
 */
export function allocateSpliceId(store: Store, channel: string, nowMs: number, max: number, breakEndMs?: number): number {
  const counter = store.prepared("SELECT last_id FROM splice_counters WHERE channel = ?").pluck().get(channel) as number | undefined;
  let id = counter ?? 0;
  let busy: number | undefined;
  for (let tries = 0; ; tries++) {
    id = id >= max ? 1 : id + 1;
    if (!spliceIdBusy(store, channel, id, nowMs)) break;
    busy ??= spliceIdsBusy(store, channel, nowMs);
    if (busy >= max || tries >= max) {
      throw new OnairError(
        "ONAIR_SPLICE_EVENT_IDS_EXHAUSTED",
        `channel ${channel} has no free splice_event_id left: ${busy} of ${max} held by breaks not yet over`,
        { channel, inUse: busy, max },
      );
    }
  }
  store
    .prepared("INSERT INTO splice_counters (channel, last_id) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET last_id = excluded.last_id")
    .run(channel, id);
  const until = Math.max(nowMs, breakEndMs ?? nowMs + SPLICE_ID_DEFAULT_HOLD_MS) + SPLICE_ID_REUSE_MARGIN_MS;
  store
    .prepared(
      `INSERT INTO splice_event_ids (channel, splice_event_id, busy_until_ms) VALUES (?, ?, ?)
       ON CONFLICT (channel, splice_event_id) DO UPDATE SET busy_until_ms = excluded.busy_until_ms`,
    )
    .run(channel, id, until);
  return id;
}

/** Extends the lease of a splice_event_id to `breakEndMs` plus the margin (a break that aired later than asked). */
export function extendSpliceLease(store: Store, channel: string, id: number, breakEndMs: number): void {
  store
    .prepared("UPDATE splice_event_ids SET busy_until_ms = max(busy_until_ms, ?) WHERE channel = ? AND splice_event_id = ?")
    .run(breakEndMs + SPLICE_ID_REUSE_MARGIN_MS, channel, id);
}
