/**
 * The store: one SQLite file (better-sqlite3) holding the schedule, standalone breaks, the
 * DVB event_id and splice_event_id counters, cues and the as-run log.
 *
 * Pragmas: WAL, busy_timeout 5000 ms, foreign_keys ON, synchronous FULL. FULL rather than
 * NORMAL because a splice_event_id must survive a power cut once its cue may have been
 * sent; in WAL mode FULL costs one fsync per commit, and imports are one transaction.
 *
 * Files: the store and its -wal/-shm are mode 0600 whatever the umask (SQLite gives -wal and
 * -shm the store's mode), an existing store is tightened to 0600 when onair owns it; a
 * missing directory is created 0700.
 */
import Database from "better-sqlite3";
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError, isOnairError } from "../core/errors.js";
import {
  EVENT_ID_MAX,
  EVENT_ID_MIN,
  eventKey,
  type ItemBreak,
  type ScheduleItem,
  type ScheduleItemInput,
  type StandaloneBreak,
} from "../schedule/model.js";
import { MIGRATIONS } from "./migrations.js";
import { timeStatement, timed, type QueryObserver } from "./query-timing.js";

export const SCHEMA_VERSION = MIGRATIONS.length;
export const SPLICE_EVENT_ID_MAX = 0xffffffff;
/** Longest item the store accepts (7 days); lets range queries use the start index. */
export const MAX_ITEM_DURATION_MS = 7 * 24 * 3600_000;

export interface OpenStoreOptions {
  clock?: Clock;
  /** busy_timeout in ms (default 5000). */
  busyTimeoutMs?: number;
}

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

export interface CueInput {
  channel: string;
  spliceEventId: number;
  /** e.g. "out", "in", "cancel", "time_signal", "null" */
  kind: string;
  scheduledMs?: number | undefined;
  pts?: number | undefined;
  /** base64 of the splice_info_section */
  section?: string | undefined;
  details?: unknown;
}

export interface CueRecord extends CueInput {
  id: number;
  createdMs: number;
  sentMs?: number | undefined;
}

export interface AsRunInput {
  channel: string;
  /** e.g. "item", "cue", "break", "slate" */
  kind: string;
  scheduledMs?: number | undefined;
  /** defaults to the store clock's now */
  actualMs?: number | undefined;
  pts?: number | undefined;
  /** DVB event_id for items, splice_event_id for cues */
  eventId?: number | undefined;
  details?: unknown;
}

export interface AsRunEntry {
  id: number;
  channel: string;
  kind: string;
  scheduledMs?: number | undefined;
  actualMs: number;
  pts?: number | undefined;
  eventId?: number | undefined;
  details?: unknown;
}

export interface AsRunQuery {
  channel?: string;
  kind?: string;
  fromMs?: number;
  toMs?: number;
  limit?: number;
}

interface ItemRow {
  id: number;
  channel: string;
  start_ms: number;
  duration_ms: number;
  title: string;
  subtitle: string | null;
  description: string | null;
  language: string | null;
  genre: string | null;
  content_l1: number | null;
  content_l2: number | null;
  rating_system: string | null;
  rating_value: string | null;
  rating_age: number | null;
  episode_nums: string | null;
  event_id: number;
  media: string | null;
}

interface BreakRow {
  item_id: number;
  offset_ms: number;
  duration_ms: number;
  break_id: string | null;
}

const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function storeError(e: unknown, what: string, path: string): OnairError {
  if (isOnairError(e)) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new OnairError("ONAIR_STORE_BUSY", `store ${path} is busy (${what}): ${msg}`, { path, sqliteCode: code }, { cause: e });
  }
  if (code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN" || code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new OnairError("ONAIR_STORE_OPEN_FAILED", `cannot use store ${path} (${what}): ${msg}`, { path, sqliteCode: code }, { cause: e });
  }
  return new OnairError("ONAIR_STORE_FAILED", `store ${path}: ${what} failed: ${msg}`, { path, sqliteCode: code }, { cause: e });
}

/** Opens (creating it and its directory if needed) and migrates the store at `path`. */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  let db: Database.Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new Database(path);
  } catch (e) {
    throw storeError(e, "open", path);
  }
  // before journal_mode = WAL creates the -wal and -shm files with the store's mode
  if (path !== ":memory:") keepPrivate(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = FULL");
    migrate(db, path);
  } catch (e) {
    db.close();
    throw storeError(e, "open", path);
  }
  return new Store(db, path, opts.clock ?? systemClock);
}

/** Store file mode. */
export const STORE_FILE_MODE = 0o600;

/** chmod 0600 the store and its -wal/-shm where group or others have access; best effort (a file of another owner keeps its mode). */
function keepPrivate(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, STORE_FILE_MODE);
    } catch {
      // missing (-wal/-shm before first use) or not ours
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  const check = (version: number): void => {
    if (version > MIGRATIONS.length) {
      throw new OnairError(
        "ONAIR_STORE_TOO_NEW",
        `store ${path} has schema version ${version}, this onair knows up to ${MIGRATIONS.length}`,
        { path, version, known: MIGRATIONS.length },
      );
    }
  };
  const userVersion = (): number => db.pragma("user_version", { simple: true }) as number;
  check(userVersion());
  if (userVersion() === MIGRATIONS.length) return;
  // One IMMEDIATE transaction, re-reading the version inside it: two processes opening a new
  // store at once migrate it once.
  db.transaction(() => {
    const version = userVersion();
    check(version);
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

export class Store {
  private readonly stmts = new Map<string, Database.Statement>();
  /** Gets the duration of each statement and transaction (onair_store_query_duration_seconds). */
  onQuery: QueryObserver | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly clock: Clock,
  ) {}

  /** The better-sqlite3 handle, for backup and tests. */
  get raw(): Database.Database {
    return this.db;
  }

  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Cached prepared statement. */
  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = timeStatement(this.db.prepare(sql), () => this.onQuery);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs the read `fn` without the write lock; a failure is the store's OnairError, as for a transaction. */
  read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storeError(e, what, this.path);
    }
  }

  /** A cached, timed prepared statement, for the store's companion modules (cue-requests.ts). */
  prepared(sql: string): Database.Statement {
    return this.st(sql);
  }

  /** Runs `fn` in one IMMEDIATE transaction; any throw rolls everything back. */
  transaction<T>(what: string, fn: () => T): T {
    try {
      return timed(this.onQuery, "transaction", () => this.db.transaction(fn).immediate());
    } catch (e) {
      throw storeError(e, what, this.path);
    }
  }

  // ---------------------------------------------------------------- schedule

  /**
   * Replaces the channel's schedule inside [windowStartMs, windowEndMs) with `items`, in one
   * transaction:
   * - stored items that start inside the window are removed;
   * - a stored item that starts before the window and runs into it is cut at the window
   *   start (it keeps its event_id; its breaks past the new end are dropped);
   * - items starting at or after the window end are untouched;
   * - an imported item keeps the event_id of a removed item with the same start, duration
   *   and title (`eventKey`); others get the next free id from the channel's counter;
   * - when `breaks` is given (the format carries breaks: JSON), standalone breaks starting
   *   inside the window are replaced too; when it is undefined (XMLTV), standalone breaks stay
   *   and an imported item without breaks that keeps its event_id also keeps its item breaks,
   *   so an EPG refresh does not wipe the break plan of unchanged programmes.
   * `items` must be sorted, non-overlapping and inside the window (the importers check).
   */
  replaceItems(
    channel: string,
    windowStartMs: number,
    windowEndMs: number,
    items: ScheduleItemInput[],
    breaks?: { startMs: number; durationMs: number; breakId?: string | undefined }[],
  ): ReplaceResult {
    return this.transaction("schedule import", () => {
      const old = this.st(
        "SELECT id, start_ms, duration_ms, title, event_id, media FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?",
      ).all(channel, windowStartMs, windowEndMs) as Pick<ItemRow, "id" | "start_ms" | "duration_ms" | "title" | "event_id" | "media">[];
      // XMLTV carries no media: an unchanged item (event_id kept) keeps its media, like its breaks
      const oldMedia = new Map<number, string>();
      if (!breaks) for (const r of old) if (r.media !== null) oldMedia.set(r.event_id, r.media);
      const reusable = new Map<string, number>();
      const oldBreaks = new Map<number, ItemBreak[]>();
      for (const r of old) reusable.set(eventKey({ startMs: r.start_ms, durationMs: r.duration_ms, title: r.title }), r.event_id);
      if (!breaks && old.length > 0) {
        const rows = this.st(
          `SELECT i.event_id, b.offset_ms, b.duration_ms, b.break_id FROM item_breaks b JOIN schedule_items i ON i.id = b.item_id
           WHERE i.channel = ? AND i.start_ms >= ? AND i.start_ms < ? ORDER BY b.offset_ms`,
        ).all(channel, windowStartMs, windowEndMs) as { event_id: number; offset_ms: number; duration_ms: number; break_id: string | null }[];
        for (const b of rows) {
          let l = oldBreaks.get(b.event_id);
          if (!l) oldBreaks.set(b.event_id, (l = []));
          l.push({ offsetMs: b.offset_ms, durationMs: b.duration_ms, breakId: b.break_id ?? undefined });
        }
      }
      this.st("DELETE FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(channel, windowStartMs, windowEndMs);

      const straddling = this.st(
        "SELECT id, start_ms FROM schedule_items WHERE channel = ? AND start_ms < ? AND start_ms >= ? AND start_ms + duration_ms > ?",
      ).all(channel, windowStartMs, windowStartMs - MAX_ITEM_DURATION_MS, windowStartMs) as { id: number; start_ms: number }[];
      for (const r of straddling) {
        const dur = windowStartMs - r.start_ms;
        this.st("UPDATE schedule_items SET duration_ms = ? WHERE id = ?").run(dur, r.id);
        this.st("DELETE FROM item_breaks WHERE item_id = ? AND offset_ms >= ?").run(r.id, dur);
      }

      const inUse = new Set<number>(
        (this.st("SELECT event_id FROM schedule_items WHERE channel = ?").pluck().all(channel) as number[]),
      );
      const assigned: number[] = new Array<number>(items.length);
      const keptId: boolean[] = new Array<boolean>(items.length).fill(false);
      let kept = 0;
      for (let i = 0; i < items.length; i++) {
        const key = eventKey(items[i]);
        const id = reusable.get(key);
        if (id !== undefined && !inUse.has(id)) {
          reusable.delete(key);
          inUse.add(id);
          assigned[i] = id;
          keptId[i] = true;
          kept++;
        }
      }
      const counter = this.st("SELECT last_id FROM event_id_counters WHERE channel = ?").pluck().get(channel) as number | undefined;
      let last = counter ?? 0;
      for (let i = 0; i < items.length; i++) {
        if (assigned[i] !== undefined) continue;
        let tries = 0;
        do {
          last = last >= EVENT_ID_MAX ? EVENT_ID_MIN : last + 1;
          if (++tries > EVENT_ID_MAX) {
            throw new OnairError("ONAIR_SCHEDULE_EVENT_IDS_EXHAUSTED", `channel ${channel} has no free DVB event_id left`, { channel });
          }
        } while (inUse.has(last));
        inUse.add(last);
        assigned[i] = last;
      }
      if (last !== (counter ?? 0)) {
        this.st(
          "INSERT INTO event_id_counters (channel, last_id) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET last_id = excluded.last_id",
        ).run(channel, last);
      }

      const ins = this.st(
        `INSERT INTO schedule_items (channel, start_ms, duration_ms, title, subtitle, description, language, genre,
           content_l1, content_l2, rating_system, rating_value, rating_age, episode_nums, event_id, media)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const insBreak = this.st("INSERT INTO item_breaks (item_id, offset_ms, duration_ms, break_id) VALUES (?, ?, ?, ?)");
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
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
          assigned[i],
          it.media ?? (keptId[i] ? oldMedia.get(assigned[i]) : undefined) ?? null,
        );
        const itemBreaks = it.breaks && it.breaks.length > 0 ? it.breaks : keptId[i] ? oldBreaks.get(assigned[i]) : undefined;
        if (itemBreaks) {
          for (const b of itemBreaks) insBreak.run(r.lastInsertRowid, b.offsetMs, b.durationMs, b.breakId ?? null);
        }
      }

      let breakCount = 0;
      if (breaks) {
        this.st("DELETE FROM breaks WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(channel, windowStartMs, windowEndMs);
        const insB = this.st("INSERT INTO breaks (channel, start_ms, duration_ms, break_id) VALUES (?, ?, ?, ?)");
        for (const b of breaks) insB.run(channel, b.startMs, b.durationMs, b.breakId ?? null);
        breakCount = breaks.length;
      }
      return { inserted: items.length, keptEventIds: kept, removed: old.length, truncated: straddling.length, breaks: breakCount };
    });
  }

  /** Items of the channel that overlap [fromMs, toMs) (whole schedule without bounds), by start. */
  listItems(channel: string, fromMs?: number, toMs?: number): ScheduleItem[] {
    const from = fromMs ?? Number.MIN_SAFE_INTEGER;
    const to = toMs ?? Number.MAX_SAFE_INTEGER;
    try {
      const rows = this.st(
        `SELECT * FROM schedule_items WHERE channel = ? AND start_ms < ? AND start_ms >= ? AND start_ms + duration_ms > ?
         ORDER BY start_ms`,
      ).all(channel, to, Math.max(Number.MIN_SAFE_INTEGER, from - MAX_ITEM_DURATION_MS), from) as ItemRow[];
      if (rows.length === 0) return [];
      const breakRows = this.st(
        `SELECT b.item_id, b.offset_ms, b.duration_ms, b.break_id FROM item_breaks b JOIN schedule_items i ON i.id = b.item_id
         WHERE i.channel = ? AND i.start_ms < ? AND i.start_ms >= ? AND i.start_ms + i.duration_ms > ?
         ORDER BY b.item_id, b.offset_ms`,
      ).all(channel, to, Math.max(Number.MIN_SAFE_INTEGER, from - MAX_ITEM_DURATION_MS), from) as BreakRow[];
      const byItem = new Map<number, ItemBreak[]>();
      for (const b of breakRows) {
        let list = byItem.get(b.item_id);
        if (!list) byItem.set(b.item_id, (list = []));
        list.push(b.break_id === null ? { offsetMs: b.offset_ms, durationMs: b.duration_ms } : { offsetMs: b.offset_ms, durationMs: b.duration_ms, breakId: b.break_id });
      }
      return rows.map((r) => rowToItem(r, byItem.get(r.id) ?? []));
    } catch (e) {
      throw storeError(e, "schedule query", this.path);
    }
  }

  /** Items for DVB EIT: those overlapping [fromMs, toMs), sorted by start. */
  eventsForSi(channel: string, fromMs: number, toMs: number): ScheduleItem[] {
    return this.listItems(channel, fromMs, toMs);
  }

  /** EIT present/following at `atMs`: the item running then (if any) and the next one. */
  presentFollowing(channel: string, atMs: number): { present?: ScheduleItem; following?: ScheduleItem } {
    const present = this.listItems(channel, atMs, atMs + 1)[0];
    const nextRow = this.st("SELECT start_ms FROM schedule_items WHERE channel = ? AND start_ms > ? ORDER BY start_ms LIMIT 1")
      .pluck()
      .get(channel, atMs) as number | undefined;
    const following = nextRow === undefined ? undefined : this.listItems(channel, nextRow, nextRow + 1)[0];
    const res: { present?: ScheduleItem; following?: ScheduleItem } = {};
    if (present) res.present = present;
    if (following) res.following = following;
    return res;
  }

  /** Standalone breaks of the channel starting in [fromMs, toMs), by start. */
  listBreaks(channel: string, fromMs?: number, toMs?: number): StandaloneBreak[] {
    const rows = this.st("SELECT * FROM breaks WHERE channel = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms").all(
      channel,
      fromMs ?? Number.MIN_SAFE_INTEGER,
      toMs ?? Number.MAX_SAFE_INTEGER,
    ) as { channel: string; start_ms: number; duration_ms: number; break_id: string | null }[];
    return rows.map((r) => {
      const b: StandaloneBreak = { channel: r.channel, startMs: r.start_ms, durationMs: r.duration_ms };
      if (r.break_id !== null) b.breakId = r.break_id;
      return b;
    });
  }

  /**
   * Removes the channel's items and standalone breaks that start in [fromMs, toMs) (all of
   * them without bounds). Returns how many items were removed.
   */
  clearSchedule(channel: string, fromMs?: number, toMs?: number): { items: number; breaks: number } {
    const from = fromMs ?? Number.MIN_SAFE_INTEGER;
    const to = toMs ?? Number.MAX_SAFE_INTEGER;
    return this.transaction("schedule clear", () => {
      const items = this.st("DELETE FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(channel, from, to).changes;
      const breaks = this.st("DELETE FROM breaks WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(channel, from, to).changes;
      return { items, breaks };
    });
  }

  /** Channels that have schedule items. */
  scheduleChannels(): string[] {
    return this.st("SELECT DISTINCT channel FROM schedule_items ORDER BY channel").pluck().all() as string[];
  }

  // ---------------------------------------------------------------- splice ids, cues

  /**
   * Hands out the channel's next splice_event_id and persists it before returning (one
   * IMMEDIATE transaction, synchronous=FULL), so an id is never handed out twice, across
   * restarts, crashes and concurrent processes. Ids run 1…2^32−1 and wrap to 1; 0 is never
   * used (some splicers treat 0 as "no id").
   */
  allocateSpliceEventId(channel: string): number {
    return this.transaction("splice_event_id allocation", () => {
      return this.st(
        `INSERT INTO splice_counters (channel, last_id) VALUES (?, 1)
         ON CONFLICT (channel) DO UPDATE SET last_id = CASE WHEN last_id >= ${SPLICE_EVENT_ID_MAX} THEN 1 ELSE last_id + 1 END
         RETURNING last_id`,
      )
        .pluck()
        .get(channel) as number;
    });
  }

  /** Records a planned cue (before it is sent). Returns its row id. */
  recordCue(cue: CueInput): number {
    return this.transaction("cue record", () => {
      const r = this.st(
        "INSERT INTO cues (channel, splice_event_id, kind, scheduled_ms, created_ms, pts, section, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        cue.channel,
        cue.spliceEventId,
        cue.kind,
        cue.scheduledMs ?? null,
        this.clock.now(),
        cue.pts ?? null,
        cue.section ?? null,
        cue.details === undefined ? null : JSON.stringify(cue.details),
      );
      return Number(r.lastInsertRowid);
    });
  }

  /** Marks a recorded cue as sent (first send time is kept). */
  markCueSent(id: number, sentMs: number = this.clock.now()): void {
    this.transaction("cue update", () => {
      this.st("UPDATE cues SET sent_ms = coalesce(sent_ms, ?) WHERE id = ?").run(sentMs, id);
    });
  }

  listCues(channel: string, opts: { spliceEventId?: number } = {}): CueRecord[] {
    const rows = (
      opts.spliceEventId === undefined
        ? this.st("SELECT * FROM cues WHERE channel = ? ORDER BY id").all(channel)
        : this.st("SELECT * FROM cues WHERE channel = ? AND splice_event_id = ? ORDER BY id").all(channel, opts.spliceEventId)
    ) as {
      id: number;
      channel: string;
      splice_event_id: number;
      kind: string;
      scheduled_ms: number | null;
      created_ms: number;
      sent_ms: number | null;
      pts: number | null;
      section: string | null;
      details: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      spliceEventId: r.splice_event_id,
      kind: r.kind,
      scheduledMs: u(r.scheduled_ms),
      createdMs: r.created_ms,
      sentMs: u(r.sent_ms),
      pts: u(r.pts),
      section: u(r.section),
      details: r.details === null ? undefined : (JSON.parse(r.details) as unknown),
    }));
  }

  // ---------------------------------------------------------------- as-run

  /** Appends an as-run entry (what actually aired or was sent). Returns its row id. */
  insertAsRun(e: AsRunInput): number {
    return this.transaction("as-run insert", () => {
      const r = this.st(
        "INSERT INTO asrun (channel, kind, scheduled_ms, actual_ms, pts, event_id, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(
        e.channel,
        e.kind,
        e.scheduledMs ?? null,
        e.actualMs ?? this.clock.now(),
        e.pts ?? null,
        e.eventId ?? null,
        e.details === undefined ? null : JSON.stringify(e.details),
      );
      return Number(r.lastInsertRowid);
    });
  }

  /** As-run entries with actual time in [fromMs, toMs), oldest first. */
  queryAsRun(q: AsRunQuery = {}): AsRunEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (cond: string, v: string | number | undefined): void => {
      if (v === undefined) return;
      where.push(cond);
      args.push(v);
    };
    add("channel = ?", q.channel);
    add("kind = ?", q.kind);
    add("actual_ms >= ?", q.fromMs);
    add("actual_ms < ?", q.toMs);
    const sql = `SELECT * FROM asrun${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY actual_ms, id${
      q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : ""
    }`;
    const rows = this.st(sql).all(...args) as {
      id: number;
      channel: string;
      kind: string;
      scheduled_ms: number | null;
      actual_ms: number;
      pts: number | null;
      event_id: number | null;
      details: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      kind: r.kind,
      scheduledMs: u(r.scheduled_ms),
      actualMs: r.actual_ms,
      pts: u(r.pts),
      eventId: u(r.event_id),
      details: r.details === null ? undefined : (JSON.parse(r.details) as unknown),
    }));
  }
}

function rowToItem(r: ItemRow, breaks: ItemBreak[]): ScheduleItem {
  const item: ScheduleItem = {
    id: r.id,
    channel: r.channel,
    startMs: r.start_ms,
    durationMs: r.duration_ms,
    title: r.title,
    eventId: r.event_id,
    breaks,
  };
  if (r.subtitle !== null) item.subtitle = r.subtitle;
  if (r.description !== null) item.description = r.description;
  if (r.language !== null) item.language = r.language;
  if (r.genre !== null) item.genre = r.genre;
  if (r.content_l1 !== null && r.content_l2 !== null) item.content = { level1: r.content_l1, level2: r.content_l2 };
  if (r.rating_value !== null) {
    item.parentalRating = { value: r.rating_value };
    if (r.rating_system !== null) item.parentalRating.system = r.rating_system;
    if (r.rating_age !== null) item.parentalRating.minAge = r.rating_age;
  }
  if (r.episode_nums !== null) item.episodeNums = JSON.parse(r.episode_nums) as ScheduleItem["episodeNums"];
  if (r.media !== null) item.media = r.media;
  return item;
}
