/**
 * The store: one SQLite file (better-sqlite3) holding the schedule, standalone breaks, the
 * DVB event_id and splice_event_id cursors and leases (event-ids.ts), cues and the as-run
 * log. Schedule imports are in schedule-write.ts, retention in retention.ts.
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
import type { ItemBreak, ScheduleItem, ScheduleItemInput, StandaloneBreak } from "../schedule/model.js";
import { MAX_ITEM_DURATION_MS, allocateSpliceId, idSpaceOf, type IdSpace } from "./event-ids.js";
import { MIGRATIONS } from "./migrations.js";
import { timeStatement, timed, type QueryObserver } from "./query-timing.js";
import { replaceWindow, type ReplaceResult, type StandaloneBreakInput } from "./schedule-write.js";
import type { AsRunEntry, AsRunInput, AsRunQuery, CueInput, CueRecord } from "./types.js";

export type { AsRunEntry, AsRunInput, AsRunQuery, CueInput, CueRecord } from "./types.js";
export type { ReplaceResult } from "./schedule-write.js";
export { MAX_ITEM_DURATION_MS, SPLICE_EVENT_ID_MAX, type IdSpace } from "./event-ids.js";

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenStoreOptions {
  clock?: Clock;
  /** busy_timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Size of the DVB event_id and splice_event_id spaces (defaults: 65535, 2^32 − 1); tests shrink them. */
  idSpace?: Partial<IdSpace>;
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
    return new OnairError(
      "ONAIR_STORE_OPEN_FAILED",
      `cannot use store ${path} (${what}): ${msg}`,
      { path, sqliteCode: code },
      { cause: e },
    );
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
    db.pragma("synchronous = FULL");
    // foreign keys off while migrating (better-sqlite3 turns them on by default): a table
    // rebuild (migration 6) must not cascade
    db.pragma("foreign_keys = OFF");
    migrate(db, path);
    db.pragma("foreign_keys = ON");
  } catch (e) {
    db.close();
    throw storeError(e, "open", path);
  }
  return new Store(db, path, opts.clock ?? systemClock, idSpaceOf(opts.idSpace));
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
    const broken = db.pragma("foreign_key_check") as unknown[];
    if (broken.length > 0) throw new Error(`migration left ${broken.length} broken foreign key(s)`);
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
    /** The id spaces allocation wraps in (event-ids.ts). */
    readonly idSpace: IdSpace = idSpaceOf(undefined),
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

  /**
   * A transaction whose loss at a power cut is harmless (retention's deletes, redone by the
   * next run): committed with synchronous=NORMAL, so without the fsync that a FULL commit
   * costs the event loop. WAL keeps the file consistent; commits before and after it stay
   * FULL (the pragma is restored before anything else can write on this connection).
   */
  relaxedTransaction<T>(what: string, fn: () => T): T {
    if (this.db.inTransaction) return this.transaction(what, fn);
    this.db.pragma("synchronous = NORMAL");
    try {
      return this.transaction(what, fn);
    } finally {
      this.db.pragma("synchronous = FULL");
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
    breaks?: StandaloneBreakInput[],
  ): ReplaceResult {
    const w = { channel, fromMs: windowStartMs, toMs: windowEndMs, nowMs: this.clock.now(), eventIdMax: this.idSpace.eventIdMax };
    return this.transaction("schedule import", () => replaceWindow(this, w, items, breaks));
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
        const itemBreak: ItemBreak = { offsetMs: b.offset_ms, durationMs: b.duration_ms };
        if (b.break_id !== null) itemBreak.breakId = b.break_id;
        list.push(itemBreak);
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
      const items = this.st("DELETE FROM schedule_items WHERE channel = ? AND start_ms >= ? AND start_ms < ?").run(
        channel,
        from,
        to,
      ).changes;
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
   * Hands out the channel's next free splice_event_id and persists it, with its lease, before
   * returning (one IMMEDIATE transaction, synchronous=FULL), so an id still in use is never
   * handed out again, across restarts, crashes and concurrent processes. Ids run 1…2^32−1
   * and wrap to 1, skipping ids in use; 0 is never used (some splicers treat 0 as "no id").
   * `breakEndMs`: when the break ends, if known (the lease rules are in event-ids.ts).
   */
  allocateSpliceEventId(channel: string, opts: { breakEndMs?: number } = {}): number {
    return this.transaction("splice_event_id allocation", () =>
      allocateSpliceId(this, channel, this.clock.now(), this.idSpace.spliceEventIdMax, opts.breakEndMs),
    );
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
    ) as CueRow[];
    return rows.map(cueRecord);
  }

  /** The channel's most recent cue (one indexed row, whatever the history's length). */
  lastCue(channel: string): CueRecord | undefined {
    const row = this.st("SELECT * FROM cues WHERE channel = ? ORDER BY id DESC LIMIT 1").get(channel) as CueRow | undefined;
    return row && cueRecord(row);
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

type CueRow = {
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
};

const cueRecord = (r: CueRow): CueRecord => ({
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
});
