/**
 * Alert rules, pure and driven by a monotonic time in ms (tests pass numbers):
 *
 * - **Flapping**: every `channel_crashed` is counted per channel; the crash that makes
 *   `restarts` crashes within `windowMs` is replaced by one `flapping` alert. While the
 *   channel flaps, crash alerts are suppressed; the episode ends with `recovered` (which
 *   is sent) or silently when a whole window passes without a crash. The crash history is
 *   kept across a recovery, so a channel that keeps crashing right after each recovery is
 *   reported as flapping again, which is what it is doing.
 * - **Dedupe**: an alert with the same dedupe key (channel + kind; path or file for
 *   box-wide kinds) as one accepted less than `dedupeWindowMs` ago is suppressed. The
 *   window runs from the last accepted alert, so a condition that persists is reminded
 *   once per window. An alert that ends a condition clears the dedupe of its opposite
 *   (`recovered` clears `channel_crashed`/`flapping`, `slate_off` clears `slate_on`,
 *   `store_recovered` clears `store_write_failed`, `disk_ok` clears `disk_low`, and the
 *   reverse), so a new episode is always reported.
 */
import { dedupeKey, type Alert, type AlertKind } from "./messages.js";

export interface FlappingSettings {
  /** crashes that make a channel flap (default 5) */
  restarts: number;
  /** within this many ms (default 10 minutes) */
  windowMs: number;
}

/**
 * The profile schema has no flapping setting yet: these defaults apply unless the daemon
 * passes one per channel (5 restarts in 10 minutes).
 */
export const DEFAULT_FLAPPING: FlappingSettings = { restarts: 5, windowMs: 10 * 60_000 };
export const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000;

export type SuppressReason = "duplicate" | "flapping";

export type Decision = { alert: Alert } | { suppressed: SuppressReason };

/** Kinds an accepted alert clears the dedupe of. */
const CLEARS: Partial<Record<AlertKind, AlertKind[]>> = {
  recovered: ["channel_crashed", "flapping"],
  channel_crashed: ["recovered"],
  flapping: ["recovered"],
  slate_off: ["slate_on"],
  slate_on: ["slate_off"],
  store_recovered: ["store_write_failed"],
  input_restored: ["input_lost"],
  input_lost: ["input_restored"],
  store_write_failed: ["store_recovered"],
  disk_low: ["disk_ok"],
  disk_ok: ["disk_low"],
};

interface ChannelState {
  crashes: number[];
  flapping: boolean;
}

export interface AlertRulesOptions {
  dedupeWindowMs?: number;
  /** flapping settings of a channel (default DEFAULT_FLAPPING) */
  flapping?: (channel: string) => FlappingSettings | undefined;
}

export class AlertRules {
  private readonly dedupeWindowMs: number;
  private readonly flappingOf: (channel: string) => FlappingSettings;
  private readonly lastAccepted = new Map<string, number>();
  private readonly channels = new Map<string, ChannelState>();

  constructor(o: AlertRulesOptions = {}) {
    this.dedupeWindowMs = o.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    const f = o.flapping;
    this.flappingOf = (ch) => f?.(ch) ?? DEFAULT_FLAPPING;
  }

  /** True while the channel is in a flapping episode. */
  isFlapping(channel: string): boolean {
    return this.channels.get(channel)?.flapping ?? false;
  }

  /** What to send for `a` at monotonic time `now`: the alert itself, a replacement, or nothing. */
  decide(a: Alert, now: number): Decision {
    this.prune(now);
    if (a.kind === "channel_crashed") {
      const st = this.state(a.channel);
      const f = this.flappingOf(a.channel);
      st.crashes = st.crashes.filter((t) => now - t < f.windowMs);
      if (st.crashes.length === 0) st.flapping = false; // a quiet window ended the episode
      st.crashes.push(now);
      if (st.flapping) return { suppressed: "flapping" };
      if (st.crashes.length >= f.restarts) {
        st.flapping = true;
        return this.accept({ kind: "flapping", channel: a.channel, restarts: st.crashes.length, windowMs: f.windowMs }, now);
      }
      return this.dedupe(a, now);
    }
    if (a.kind === "flapping") {
      const st = this.state(a.channel);
      if (st.flapping) return { suppressed: "flapping" };
      st.flapping = true;
      return this.dedupe(a, now);
    }
    if (a.kind === "recovered") this.state(a.channel).flapping = false;
    return this.dedupe(a, now);
  }

  private dedupe(a: Alert, now: number): Decision {
    const last = this.lastAccepted.get(dedupeKey(a));
    if (last !== undefined && now - last < this.dedupeWindowMs) return { suppressed: "duplicate" };
    return this.accept(a, now);
  }

  private accept(a: Alert, now: number): Decision {
    this.lastAccepted.set(dedupeKey(a), now);
    for (const k of CLEARS[a.kind] ?? []) this.lastAccepted.delete(dedupeKey({ ...a, kind: k } as Alert));
    return { alert: a };
  }

  private state(channel: string): ChannelState {
    let st = this.channels.get(channel);
    if (!st) this.channels.set(channel, (st = { crashes: [], flapping: false }));
    return st;
  }

  /** Forgets dedupe entries older than the window (keeps the map small). */
  private prune(now: number): void {
    if (this.lastAccepted.size < 256) return;
    for (const [k, t] of this.lastAccepted) if (now - t >= this.dedupeWindowMs) this.lastAccepted.delete(k);
  }
}

export interface RateLimitSettings {
  /** least time between two messages to one chat (Telegram: about 1 per second per chat) */
  minIntervalMs: number;
  /** most messages to one chat per minute (Telegram: 20 per minute in a group) */
  perMinute: number;
}

/** 1 message per second and 20 per minute per chat: Telegram's documented limits, the group one applied to every chat. */
export const DEFAULT_RATE_LIMIT: RateLimitSettings = { minIntervalMs: 1000, perMinute: 20 };

/** Per-chat send budget over monotonic ms. `waitMs` says how long until a send is allowed. */
export class ChatRateLimiter {
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly s: RateLimitSettings = DEFAULT_RATE_LIMIT) {}

  waitMs(key: string, now: number): number {
    const times = this.sent.get(key);
    if (!times || times.length === 0) return 0;
    let wait = times[times.length - 1] + this.s.minIntervalMs - now;
    const recent = times.filter((t) => now - t < 60_000);
    if (recent.length >= this.s.perMinute) wait = Math.max(wait, recent[recent.length - this.s.perMinute] + 60_000 - now);
    return Math.max(0, wait);
  }

  /** Records a send (an attempt counts: Telegram counts requests, not successes). */
  record(key: string, now: number): void {
    let times = this.sent.get(key);
    if (!times) this.sent.set(key, (times = []));
    times.push(now);
    const keep = Math.max(this.s.perMinute, 1);
    if (times.length > keep) times.splice(0, times.length - keep);
  }
}
