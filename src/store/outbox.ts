/**
 * The alert outbox (migration 2): one row per Telegram message and chat, written before
 * anything is sent and marked sent only after Telegram answered `ok: true`. Rows of one
 * queue (bot, chat) go out in id order; a queue's head blocks the rows behind it, so
 * `next_attempt_ms` on the head is the queue's retry time.
 *
 * Leases: a sender claims the head row (`lease_owner`, `lease_until_ms`) in an IMMEDIATE
 * transaction before its request, so two processes sharing the store (onair@A and
 * onair@B) never send the same row at once. A lease held by the same owner name (the same
 * unit after a restart) can be taken over at once; a stranger's lease only once expired.
 *
 * `alert_state` is a small key/value table (Telegram getUpdates offsets).
 *
 * Functions take the `Store` and use its raw handle; statements are cached per handle.
 */
import type Database from "better-sqlite3";
import type { Store } from "./db.js";

export interface OutboxInput {
  botId: string;
  chatId: string;
  channel?: string | undefined;
  kind: string;
  payload: string;
}

export interface OutboxRow extends OutboxInput {
  id: number;
  createdMs: number;
  attempts: number;
  nextAttemptMs: number;
  leaseOwner?: string | undefined;
  leaseUntilMs?: number | undefined;
  sentMs?: number | undefined;
  failedMs?: number | undefined;
  lastError?: string | undefined;
}

interface Row {
  id: number;
  bot_id: string;
  chat_id: string;
  channel: string | null;
  kind: string;
  created_ms: number;
  payload: string;
  attempts: number;
  next_attempt_ms: number;
  lease_owner: string | null;
  lease_until_ms: number | null;
  sent_ms: number | null;
  failed_ms: number | null;
  last_error: string | null;
}

const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toRow(r: Row): OutboxRow {
  return {
    id: r.id,
    botId: r.bot_id,
    chatId: r.chat_id,
    channel: u(r.channel),
    kind: r.kind,
    createdMs: r.created_ms,
    payload: r.payload,
    attempts: r.attempts,
    nextAttemptMs: r.next_attempt_ms,
    leaseOwner: u(r.lease_owner),
    leaseUntilMs: u(r.lease_until_ms),
    sentMs: u(r.sent_ms),
    failedMs: u(r.failed_ms),
    lastError: u(r.last_error),
  };
}

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function st(store: Store, sql: string): Database.Statement {
  const db = store.raw;
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map<string, Database.Statement>()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

const PENDING = "sent_ms IS NULL AND failed_ms IS NULL";

/** Appends rows (one transaction: all or none). Returns their ids, in order. */
export function enqueueOutbox(store: Store, rows: readonly OutboxInput[], nowMs: number): number[] {
  if (rows.length === 0) return [];
  return store.transaction("alert enqueue", () => {
    const ins = st(
      store,
      "INSERT INTO alert_outbox (bot_id, chat_id, channel, kind, created_ms, payload, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    return rows.map((r) => Number(ins.run(r.botId, r.chatId, r.channel ?? null, r.kind, nowMs, r.payload, nowMs).lastInsertRowid));
  });
}

/** The oldest pending row of every queue (bot, chat), by id. */
export function outboxHeads(store: Store): OutboxRow[] {
  const rows = st(
    store,
    `SELECT * FROM alert_outbox WHERE id IN (SELECT min(id) FROM alert_outbox WHERE ${PENDING} GROUP BY bot_id, chat_id) ORDER BY id`,
  ).all() as Row[];
  return rows.map(toRow);
}

/**
 * Claims a pending row for one request: takes the lease and counts the attempt. Returns
 * undefined when the row is gone, no longer pending, or leased by another live owner.
 */
export function claimOutboxRow(store: Store, id: number, owner: string, leaseUntilMs: number, nowMs: number): OutboxRow | undefined {
  return store.transaction("alert claim", () => {
    const r = st(
      store,
      `UPDATE alert_outbox SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1
       WHERE id = ? AND ${PENDING} AND (lease_owner IS NULL OR lease_owner = ? OR lease_until_ms <= ?)
       RETURNING *`,
    ).get(owner, leaseUntilMs, id, owner, nowMs) as Row | undefined;
    return r && toRow(r);
  });
}

/** Marks a row sent (after Telegram's ok) and drops its lease. False if it was not pending. */
export function markOutboxSent(store: Store, id: number, sentMs: number): boolean {
  return store.transaction("alert sent", () => {
    return (
      st(
        store,
        `UPDATE alert_outbox SET sent_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = NULL WHERE id = ? AND ${PENDING}`,
      ).run(sentMs, id).changes === 1
    );
  });
}

/** Puts a row back for a later attempt (drops the lease; the rows behind it wait too). */
export function markOutboxRetry(store: Store, id: number, nextAttemptMs: number, error: string | undefined): void {
  store.transaction("alert retry", () => {
    st(
      store,
      `UPDATE alert_outbox SET next_attempt_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = coalesce(?, last_error)
       WHERE id = ? AND ${PENDING}`,
    ).run(nextAttemptMs, error ?? null, id);
  });
}

/** Gives a row up for good (Telegram refused it: 400/403); the queue moves on. */
export function markOutboxFailed(store: Store, id: number, failedMs: number, error: string): void {
  store.transaction("alert failed", () => {
    st(
      store,
      `UPDATE alert_outbox SET failed_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = ? WHERE id = ? AND ${PENDING}`,
    ).run(failedMs, error, id);
  });
}

/** Rows waiting to be sent. */
export function outboxDepth(store: Store): number {
  return st(store, `SELECT count(*) FROM alert_outbox WHERE ${PENDING}`).pluck().get() as number;
}

export interface OutboxQuery {
  /** only rows not yet sent nor failed */
  pending?: boolean;
  chatId?: string;
  limit?: number;
}

/** Rows by id (tests, `onair status`). */
export function listOutbox(store: Store, q: OutboxQuery = {}): OutboxRow[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.pending) where.push(PENDING);
  if (q.chatId !== undefined) {
    where.push("chat_id = ?");
    args.push(q.chatId);
  }
  const sql = `SELECT * FROM alert_outbox${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id${
    q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : ""
  }`;
  return (st(store, sql).all(...args) as Row[]).map(toRow);
}

/** One channel alert as the console shows it: `id` is the last of its rows (one per chat). */
export interface ChannelAlertRow {
  id: number;
  channel: string;
  kind: string;
  createdMs: number;
  /** the Telegram HTML */
  payload: string;
}

/**
 * The channel's alerts, newest first, at most `limit`: one row per alert (an alert sent to
 * several chats has a row per chat with the same time, kind and payload). Bot replies have no
 * channel and never appear.
 */
export function channelAlerts(store: Store, channel: string, limit: number): ChannelAlertRow[] {
  const rows = st(
    store,
    `SELECT max(id) AS id, channel, kind, created_ms, payload FROM alert_outbox WHERE channel = ? AND kind <> 'reply'
     GROUP BY created_ms, kind, payload ORDER BY created_ms DESC, id DESC LIMIT ?`,
  ).all(channel, Math.max(0, Math.floor(limit))) as { id: number; channel: string; kind: string; created_ms: number; payload: string }[];
  return rows.map((r) => ({ id: r.id, channel: r.channel, kind: r.kind, createdMs: r.created_ms, payload: r.payload }));
}

/**
 * Channel alerts written after row `afterId`, oldest first, one per alert (see
 * `channelAlerts`), at most `limit`; a cheap rowid range scan for polling.
 */
export function channelAlertsSince(store: Store, afterId: number, limit: number): ChannelAlertRow[] {
  const rows = st(
    store,
    `SELECT max(id) AS id, channel, kind, created_ms, payload FROM alert_outbox WHERE id > ? AND channel IS NOT NULL AND kind <> 'reply'
     GROUP BY channel, created_ms, kind, payload ORDER BY max(id) LIMIT ?`,
  ).all(afterId, Math.max(0, Math.floor(limit))) as { id: number; channel: string; kind: string; created_ms: number; payload: string }[];
  return rows.map((r) => ({ id: r.id, channel: r.channel, kind: r.kind, createdMs: r.created_ms, payload: r.payload }));
}

/** The highest row id of the outbox (0 when empty). */
export function lastOutboxId(store: Store): number {
  return (st(store, "SELECT coalesce(max(id), 0) FROM alert_outbox").pluck().get() as number) ?? 0;
}

/** Deletes sent and failed rows older than `beforeMs`. Returns how many. */
export function pruneOutbox(store: Store, beforeMs: number): number {
  return store.transaction("alert prune", () => {
    return st(
      store,
      "DELETE FROM alert_outbox WHERE (sent_ms IS NOT NULL AND sent_ms < ?) OR (failed_ms IS NOT NULL AND failed_ms < ?)",
    ).run(beforeMs, beforeMs).changes;
  });
}

export function getAlertState(store: Store, key: string): string | undefined {
  return st(store, "SELECT value FROM alert_state WHERE key = ?").pluck().get(key) as string | undefined;
}

export function setAlertState(store: Store, key: string, value: string): void {
  store.transaction("alert state", () => {
    st(store, "INSERT INTO alert_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  });
}
