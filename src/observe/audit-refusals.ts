/**
 * Refused requests in the audit log, aggregated: a refusal (HTTP 401, 403 or 429) is not
 * one line each but one line per peer, caller and reason per wall-clock minute, with a
 * count. A client hammering the API without a token so adds a line a minute, not one per
 * request (issue #18: 11.7 MB in 20 s before).
 *
 * Contract:
 * - `add()` counts a refusal in the aggregate of its minute (`floor(now / 60 s)`) under the
 *   key (remote, who, status, detail); a refusal of a later minute first emits every
 *   aggregate of the earlier minutes.
 * - `flushEnded(now)` emits the aggregates of the minutes that ended before `now` (the owner
 *   calls it at each minute boundary); `flush()` emits everything pending (shutdown).
 *   Nothing counted is lost: every refusal is in exactly one emitted line.
 * - At most `maxKeys` aggregates are pending; refusals past that (many peers at once) go to
 *   one overflow aggregate of the minute with `remote: "*"`.
 * - Emitted in the order the aggregates were opened. The line: `when` = the first refusal,
 *   `last` = the last one, `count`, `actions` = refusals per action (`cue.add`, …);
 *   `action` is `"refused"`. The channel is left out (a client can vary it without bound).
 */
import type { Clock } from "../core/clock.js";
import type { AuditEntry, AuditInput } from "./audit.js";

/** HTTP statuses whose audit entries are aggregated. */
export const REFUSED_STATUSES: ReadonlySet<number> = new Set([401, 403, 429]);
export const REFUSAL_WINDOW_MS = 60_000;
export const DEFAULT_MAX_REFUSAL_KEYS = 1000;
/** The `remote` of the overflow aggregate. */
export const OVERFLOW_REMOTE = "*";

export const isRefusal = (entry: Pick<AuditInput, "status">): boolean => entry.status !== undefined && REFUSED_STATUSES.has(entry.status);

/** An aggregate line: an audit entry plus its count, last time and actions. */
export interface RefusalLine extends AuditEntry {
  count: number;
  /** ISO 8601 time of the last refusal counted. */
  last: string;
  actions: Record<string, number>;
}

interface Pending {
  minute: number;
  line: RefusalLine;
}

export interface RefusalAggregatorOptions {
  clock: Clock;
  emit: (line: RefusalLine) => void;
  maxKeys?: number;
}

export class RefusalAggregator {
  private readonly pending = new Map<string, Pending>();
  private readonly maxKeys: number;

  constructor(private readonly opts: RefusalAggregatorOptions) {
    this.maxKeys = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_REFUSAL_KEYS);
  }

  /** Refusals counted and not yet emitted. */
  get size(): number {
    return this.pending.size;
  }

  /** Counts one refusal (its `when`, else the clock's now). */
  add(entry: AuditInput): void {
    const at = entry.when !== undefined ? Date.parse(entry.when) : this.opts.clock.now();
    const minute = Math.floor(at / REFUSAL_WINDOW_MS);
    this.flushBeforeMinute(minute);
    let remote = entry.remote ?? "unknown";
    let key = keyOf(minute, remote, entry);
    if (!this.pending.has(key) && this.pending.size >= this.maxKeys) {
      remote = OVERFLOW_REMOTE;
      key = keyOf(minute, remote, entry);
    }
    const when = new Date(at).toISOString();
    const p = this.pending.get(key) ?? this.open(key, minute, remote, entry, when);
    p.line.count++;
    p.line.last = when;
    p.line.actions[entry.action] = (p.line.actions[entry.action] ?? 0) + 1;
  }

  /** Emits the aggregates of minutes that ended before `now`. */
  flushEnded(now: number = this.opts.clock.now()): void {
    this.flushBeforeMinute(Math.floor(now / REFUSAL_WINDOW_MS));
  }

  /** Emits every pending aggregate (shutdown). */
  flush(): void {
    this.flushBeforeMinute(Infinity);
  }

  /** Milliseconds from `now` to the end of the oldest pending minute; undefined when none. */
  msToBoundary(now: number = this.opts.clock.now()): number | undefined {
    let oldest = Infinity;
    for (const p of this.pending.values()) oldest = Math.min(oldest, p.minute);
    return oldest === Infinity ? undefined : Math.max(0, (oldest + 1) * REFUSAL_WINDOW_MS - now);
  }

  private open(key: string, minute: number, remote: string, entry: AuditInput, when: string): Pending {
    const line: RefusalLine = {
      when,
      who: entry.who,
      via: entry.via,
      action: "refused",
      result: entry.result,
      ...(entry.status !== undefined ? { status: entry.status } : {}),
      ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
      remote,
      count: 0,
      last: when,
      actions: {},
    };
    const p = { minute, line };
    this.pending.set(key, p);
    return p;
  }

  private flushBeforeMinute(minute: number): void {
    for (const [key, p] of this.pending) {
      if (p.minute >= minute) continue;
      this.pending.delete(key);
      this.opts.emit(p.line);
    }
  }
}

function keyOf(minute: number, remote: string, e: AuditInput): string {
  return JSON.stringify([minute, remote, e.who, e.status ?? null, e.detail ?? null]);
}
