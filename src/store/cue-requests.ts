/**
 * Cues accepted from the control API, in the store from the moment they are accepted until
 * they air or can no longer air (table `cue_requests`, migration 4):
 * - `acceptCueRequest` allocates the splice_event_id and writes the request in one
 *   transaction, so an accepted cue (the API's 201) survives any restart, kill -9 included;
 * - `pendingCueRequests` is what a (re)started channel arms;
 * - `closeCueRequest` marks one `aired` (its first out cue is on air; the channel writes it in
 *   the transaction of the cue's as-run row, so a restart never airs it twice) or `missed`
 *   (its time passed while nothing could air it);
 * - `endCueRequest` marks one `returned` (ended early, from `aired`) or `cancelled` (from
 *   `pending`, or `aired` when only its out cue went out ahead of the splice time).
 */
import type { Store } from "./db.js";
import { extendSpliceLease } from "./event-ids.js";

export type CueRequestState = "pending" | "aired" | "missed" | "returned" | "cancelled";

export interface CueRequestInput {
  channel: string;
  /** the splice time asked for (UTC epoch ms); for an immediate cue the time of the request */
  atMs: number;
  /** "now": the first IDR after the preroll from `atMs` */
  immediate: boolean;
  durationMs: number;
}

export interface CueRequest extends CueRequestInput {
  spliceEventId: number;
  createdMs: number;
  state: CueRequestState;
  doneMs?: number | undefined;
}

interface Row {
  channel: string;
  splice_event_id: number;
  at_ms: number;
  immediate: number;
  duration_ms: number;
  created_ms: number;
  state: CueRequestState;
  done_ms: number | null;
}

const fromRow = (r: Row): CueRequest => ({
  channel: r.channel,
  spliceEventId: r.splice_event_id,
  atMs: r.at_ms,
  immediate: r.immediate === 1,
  durationMs: r.duration_ms,
  createdMs: r.created_ms,
  state: r.state,
  doneMs: r.done_ms ?? undefined,
});

/** Allocates the cue's splice_event_id and stores the request, in one transaction. */
export function acceptCueRequest(store: Store, req: CueRequestInput): CueRequest {
  return store.transaction("cue request", () => {
    const createdMs = store.clock.now();
    const spliceEventId = store.allocateSpliceEventId(req.channel, { breakEndMs: Math.max(req.atMs, createdMs) + req.durationMs });
    // an id comes round again only when its break is over (event-ids.ts): the old request is closed
    store
      .prepared(
        `INSERT INTO cue_requests (channel, splice_event_id, at_ms, immediate, duration_ms, created_ms, state, done_ms)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL)
         ON CONFLICT (channel, splice_event_id) DO UPDATE SET at_ms = excluded.at_ms, immediate = excluded.immediate,
           duration_ms = excluded.duration_ms, created_ms = excluded.created_ms, state = 'pending', done_ms = NULL`,
      )
      .run(req.channel, spliceEventId, Math.round(req.atMs), req.immediate ? 1 : 0, Math.round(req.durationMs), createdMs);
    return { ...req, spliceEventId, createdMs, state: "pending" as const };
  });
}

/** The channel's pending requests with a splice time up to `untilMs` (all without it), by time. */
export function pendingCueRequests(store: Store, channel: string, untilMs = Number.MAX_SAFE_INTEGER): CueRequest[] {
  const sql = "SELECT * FROM cue_requests WHERE channel = ? AND state = 'pending' AND at_ms <= ? ORDER BY at_ms, splice_event_id";
  return store.read("cue request query", () => store.prepared(sql).all(channel, untilMs) as Row[]).map(fromRow);
}

/** Every request of the channel, oldest first (status, tests). */
export function listCueRequests(store: Store, channel: string): CueRequest[] {
  const sql = "SELECT * FROM cue_requests WHERE channel = ? ORDER BY created_ms, splice_event_id";
  return store.read("cue request query", () => store.prepared(sql).all(channel) as Row[]).map(fromRow);
}

/**
 * Closes a pending request as aired or missed; false when there is none pending under that id.
 * An aired break keeps its splice_event_id leased until it is over (from `atMs`, when it aired).
 */
export function closeCueRequest(store: Store, channel: string, spliceEventId: number, state: "aired" | "missed", atMs: number): boolean {
  return store.transaction("cue request update", () => {
    const r = store
      .prepared("UPDATE cue_requests SET state = ?, done_ms = ? WHERE channel = ? AND splice_event_id = ? AND state = 'pending'")
      .run(state, Math.round(atMs), channel, spliceEventId);
    if (r.changes > 0 && state === "aired") {
      const durationMs = store
        .prepared("SELECT duration_ms FROM cue_requests WHERE channel = ? AND splice_event_id = ?")
        .pluck()
        .get(channel, spliceEventId) as number;
      extendSpliceLease(store, channel, spliceEventId, Math.round(atMs) + durationMs);
    }
    return r.changes > 0;
  });
}

/** One request of the channel by its splice_event_id, or undefined. */
export function getCueRequest(store: Store, channel: string, spliceEventId: number): CueRequest | undefined {
  const sql = "SELECT * FROM cue_requests WHERE channel = ? AND splice_event_id = ?";
  const row = store.read("cue request query", () => store.prepared(sql).get(channel, spliceEventId) as Row | undefined);
  return row ? fromRow(row) : undefined;
}

/**
 * Closes a request as `returned` (it was `aired`) or `cancelled` (it was `pending` or
 * `aired`) at `atMs`; false when it was in neither state.
 */
export function endCueRequest(
  store: Store,
  channel: string,
  spliceEventId: number,
  state: "returned" | "cancelled",
  atMs: number,
): boolean {
  const from = state === "returned" ? "('aired')" : "('pending', 'aired')";
  const sql = `UPDATE cue_requests SET state = ?, done_ms = ? WHERE channel = ? AND splice_event_id = ? AND state IN ${from}`;
  return store.transaction(
    "cue request update",
    () => store.prepared(sql).run(state, Math.round(atMs), channel, spliceEventId).changes > 0,
  );
}
