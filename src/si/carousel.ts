/**
 * SI carousel: decides which section goes out next, so that every section repeats within
 * its table's maximum interval (ETSI TS 101 211 / TR 101 290) and the sections of a table
 * are spread evenly over time instead of leaving in bursts.
 *
 * The injector calls {@link SiCarousel.next} with the stream's wall time whenever it
 * has a free null packet and is not in the middle of a section; it gets a section (the
 * same Uint8Array each time until the table gets a new version, so its packets can be
 * cached by identity) or `undefined`. A call with nothing due is one comparison; no call
 * allocates.
 *
 * Scheduling, per section: a target period T = maxInterval × margin (0.8 by default,
 * leaving 20 % for late null slots and other tables); section i of n starts at phase
 * i·T/n, so a table's sections are evenly spaced. The most overdue ready section wins.
 * Two sections of the same PID, table_id and table_id_extension never go out less than
 * `minSpacingMs` (25 ms, EN 300 468 §5.1.4) apart. When a table gets new sections (a new
 * version), they go out at once, spread over at most `changeSpreadMs`, and fall back to
 * the even phase afterwards.
 */

/** Repetition limits (ms) from TS 101 211 / TR 101 290 for actual tables, sat/cable. */
export const SI_MAX_INTERVAL_MS = {
  sdt: 2_000,
  eitPresentFollowing: 2_000,
  eitScheduleNear: 10_000,
  eitScheduleFar: 30_000,
  tdt: 30_000,
  tot: 30_000,
} as const;

/**
 * Our target periods for TDT and TOT, well inside the 30 s limit: receivers set their
 * clock from the TDT after tuning, so it goes every 5 s (one packet); the TOT every 10 s.
 */
export const TDT_PERIOD_MS = 5_000;
export const TOT_PERIOD_MS = 10_000;

export interface CarouselTable {
  /** Unique name of the table in this carousel, e.g. "sdt", "eit-pf", "eit-0x50", "tdt". */
  key: string;
  pid: number;
  /** Sections in sending order (section_number order). */
  sections: readonly Uint8Array[];
  /** Longest allowed interval between two copies of each section: one value or one per section. */
  maxIntervalMs: number | readonly number[];
  /** Target period instead of maxInterval × margin: one value or one per section. */
  periodMs?: number | readonly number[];
  /**
   * Rewrites a section in place just before it goes out (TDT/TOT time and CRC). Such
   * sections are reported as `dynamic`: their packets must not be cached.
   */
  refresh?: (section: Uint8Array, nowMs: number) => void;
}

/** What {@link SiCarousel.next} hands out. The object is reused: read it before the next call. */
export interface CarouselSlot {
  readonly table: string;
  readonly pid: number;
  readonly section: Uint8Array;
  /** Index of the section in its table. */
  readonly index: number;
  /** True if the bytes were rewritten for this emission (TDT/TOT): do not cache packets. */
  readonly dynamic: boolean;
}

export interface CarouselTableStats {
  key: string;
  pid: number;
  sections: number;
  /** version_number of the current sections (long sections only). */
  versionNumber: number | undefined;
  sectionsSent: number;
  /** How many times the table got new sections after the first. */
  versionChanges: number;
  /** Longest gap seen between two copies of any one section index (ms). */
  longestIntervalMs: number;
}

export interface CarouselOptions {
  /** Target period = maxInterval × margin. Default 0.8. */
  margin?: number;
  /** Minimum gap between sections of one PID/table_id/extension. Default 25 ms. */
  minSpacingMs?: number;
  /** A new version goes out within this time. Default 1000 ms. */
  changeSpreadMs?: number;
}

interface Group {
  lastSentMs: number;
}

interface TableState {
  key: string;
  pid: number;
  entries: Entry[];
  refresh: ((section: Uint8Array, nowMs: number) => void) | undefined;
  sectionsSent: number;
  versionChanges: number;
  longestIntervalMs: number;
}

class Entry implements CarouselSlot {
  dueMs: number;
  lastSentMs = -Infinity;
  constructor(
    readonly table: string,
    readonly pid: number,
    readonly section: Uint8Array,
    readonly index: number,
    readonly dynamic: boolean,
    readonly group: Group,
    readonly periodMs: number,
    public nominalMs: number,
    readonly state: TableState,
  ) {
    this.dueMs = nominalMs;
  }
}

function pick(v: number | readonly number[] | undefined, i: number): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === "number" ? v : v[i];
}

export class SiCarousel {
  private readonly margin: number;
  private readonly minSpacingMs: number;
  private readonly changeSpreadMs: number;
  private readonly tables = new Map<string, TableState>();
  private readonly groups = new Map<string, Group>();
  private entries: Entry[] = [];
  private nextReadyMs = Infinity;

  constructor(opts: CarouselOptions = {}) {
    this.margin = opts.margin ?? 0.8;
    this.minSpacingMs = opts.minSpacingMs ?? 25;
    this.changeSpreadMs = opts.changeSpreadMs ?? 1000;
  }

  /**
   * Adds a table or replaces its sections. Passing the same Uint8Arrays as before only
   * updates the intervals; other sections count as a new version and go out promptly.
   */
  set(table: CarouselTable, nowMs: number): void {
    const old = this.tables.get(table.key);
    const n = table.sections.length;
    if (n === 0) {
      this.remove(table.key);
      return;
    }
    const unchanged = old !== undefined && old.entries.length === n && old.entries.every((e, i) => e.section === table.sections[i]);
    const state: TableState = old ?? {
      key: table.key,
      pid: table.pid,
      entries: [],
      refresh: table.refresh,
      sectionsSent: 0,
      versionChanges: 0,
      longestIntervalMs: 0,
    };
    state.pid = table.pid;
    state.refresh = table.refresh;
    if (old && !unchanged) state.versionChanges++;
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const section = table.sections[i];
      const max = pick(table.maxIntervalMs, i) ?? 2000;
      const period = Math.max(1, pick(table.periodMs, i) ?? max * this.margin);
      const before = old?.entries[i];
      const nominal = before ? before.nominalMs : nowMs + (i * period) / n;
      const e = new Entry(
        table.key,
        table.pid,
        section,
        i,
        table.refresh !== undefined,
        this.group(table.pid, section),
        period,
        nominal,
        state,
      );
      if (before) {
        e.lastSentMs = before.lastSentMs;
        e.dueMs = unchanged ? Math.min(before.dueMs, nominal) : Math.min(nominal, nowMs + (i * Math.min(period, this.changeSpreadMs)) / n);
      }
      entries.push(e);
    }
    state.entries = entries;
    this.tables.set(table.key, state);
    this.rebuild();
  }

  /** Stops sending a table. */
  remove(key: string): void {
    if (this.tables.delete(key)) this.rebuild();
  }

  /** Earliest time at which {@link next} can return a section (Infinity if empty). */
  nextDueMs(): number {
    return this.nextReadyMs;
  }

  /**
   * The section to send now, or `undefined` if none is due. Call once per free null
   * packet while no section is being packetized; the returned slot is reused internally.
   */
  next(nowMs: number): CarouselSlot | undefined {
    if (nowMs < this.nextReadyMs) return undefined;
    const spacing = this.minSpacingMs;
    let best: Entry | undefined;
    for (const e of this.entries) {
      if (e.dueMs > nowMs || e.group.lastSentMs + spacing > nowMs) continue;
      if (best === undefined || e.dueMs < best.dueMs) best = e;
    }
    if (best) this.emit(best, nowMs);
    this.recomputeReady();
    return best;
  }

  /** Counters per table, for metrics and logs. */
  stats(): CarouselTableStats[] {
    return [...this.tables.values()].map((t) => {
      const s = t.entries[0]?.section;
      return {
        key: t.key,
        pid: t.pid,
        sections: t.entries.length,
        versionNumber: s && s.length > 5 && (s[1] & 0x80) !== 0 ? (s[5] >> 1) & 0x1f : undefined,
        sectionsSent: t.sectionsSent,
        versionChanges: t.versionChanges,
        longestIntervalMs: t.longestIntervalMs,
      };
    });
  }

  private emit(e: Entry, nowMs: number): void {
    const st = e.state;
    if (e.lastSentMs > -Infinity && nowMs - e.lastSentMs > st.longestIntervalMs) st.longestIntervalMs = nowMs - e.lastSentMs;
    e.lastSentMs = nowMs;
    e.group.lastSentMs = nowMs;
    st.sectionsSent++;
    if (e.nominalMs <= nowMs) e.nominalMs += Math.ceil((nowMs - e.nominalMs + 1) / e.periodMs) * e.periodMs;
    e.dueMs = e.nominalMs;
    if (st.refresh) st.refresh(e.section, nowMs);
  }

  private recomputeReady(): void {
    const spacing = this.minSpacingMs;
    let ready = Infinity;
    for (const e of this.entries) {
      const r = Math.max(e.dueMs, e.group.lastSentMs + spacing);
      if (r < ready) ready = r;
    }
    this.nextReadyMs = ready;
  }

  private rebuild(): void {
    this.entries = [];
    for (const t of this.tables.values()) this.entries.push(...t.entries);
    this.recomputeReady();
  }

  private group(pid: number, section: Uint8Array): Group {
    const long = section.length >= 5 && (section[1] & 0x80) !== 0;
    const key = long ? `${pid}/${section[0]}/${(section[3] << 8) | section[4]}` : `${pid}/${section[0]}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { lastSentMs: -Infinity };
      this.groups.set(key, g);
    }
    return g;
  }
}
