/**
 * The console's event list of each channel (GET /api/v1/channels/:id/events, the stream's
 * `event`):
 *
 * - a ring of the last `RING_SIZE` (500) events per channel, in memory, fed from the
 *   channel's own events (state changes, FFmpeg starts and exits, recoveries, slate, cues,
 *   input, stall, output and EPG trouble): each one row `{at, kind, level, text, source:
 *   "channel"}` with one human line of text (`describeChannelEvent`, pure);
 * - the channel's alerts, read from the store's alert outbox (rows with `channel` = id, one per
 *   alert however many chats it went to), text = the first line of the Telegram message:
 *   `source: "alert"`. The outbox is polled for new rows at most once a second (a rowid
 *   range scan), only when asked: by a view (`lastAlert`) or the event stream's tick.
 * `list` merges both, newest first. A channel's ring exists from `attach` (the registry added
 * it) to `detach` (stopped); rows appended are told to `on("event")` listeners.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { formatDuration, htmlToText } from "../alerts/text.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { ChannelEvents } from "../pipeline/channel-types.js";
import { channelAlerts, channelAlertsSince, lastOutboxId, type ChannelAlertRow } from "../store/outbox.js";
import type { Store } from "../store/db.js";

export const RING_SIZE = 500;
/** Longest text of one row (characters). */
const TEXT_MAX = 300;
/** The outbox is read for new alerts at most this often. */
const ALERT_POLL_MS = 1000;
/** New alert rows read by one poll, at most. */
const ALERT_POLL_LIMIT = 200;

export type EventLevel = "info" | "warn" | "error";

/** One row of the event list (docs/api.md). */
export interface ConsoleEvent {
  at: string;
  kind: string;
  level: EventLevel;
  text: string;
  source: "channel" | "alert";
}

/** A fixed-size ring, oldest overwritten. */
export class EventRing<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number = RING_SIZE) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The newest `limit` items, newest first. */
  newest(limit: number = this.capacity): T[] {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.items.length);
    const out: T[] = [];
    for (let k = 1; k <= n; k++) out.push(this.items[(this.next - k + this.items.length * 2) % this.items.length]);
    return out;
  }
}

/** The channel events the list shows. */
export const CHANNEL_EVENT_KINDS = [
  "state",
  "crashed",
  "recovered",
  "slate",
  "started",
  "cue",
  "input_lost",
  "input_restored",
  "stall",
  "output_error",
  "epg_empty",
  "cue_failed",
  "cue_late",
] as const satisfies readonly (keyof ChannelEvents)[];

export type ChannelEventKind = (typeof CHANNEL_EVENT_KINDS)[number];

const STATE_WORDS: Record<string, string> = {
  starting: "starting",
  on_air: "on air",
  slate: "slate",
  failed: "failed",
  stopped: "stopped",
};

/** One line: whitespace runs (newlines) made one space, cut to TEXT_MAX. */
function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > TEXT_MAX ? `${t.slice(0, TEXT_MAX - 1)}…` : t;
}

/** Why FFmpeg ended, in words (exit_code and signal say their number themselves). */
const EXIT_WORDS: Record<string, string> = {
  exit_code: "",
  signal: "",
  stall: "stalled",
  input_unreachable: "input unreachable",
  codec_error: "codec error",
  spawn_error: "could not start",
};

const cueName = (e: { spliceEventId?: number | undefined; breakId?: string | undefined }): string =>
  e.spliceEventId !== undefined ? `cue ${e.spliceEventId}` : e.breakId !== undefined ? `break ${e.breakId}` : "a cue";

/** The kind, level and text of a channel event (`payload`: its listener's argument). */
export function describeChannelEvent<K extends ChannelEventKind>(
  kind: K,
  payload: ChannelEvents[K][0],
): { kind: K; level: EventLevel; text: string } {
  const [level, text] = describe(kind, payload as never);
  return { kind, level, text: oneLine(text) };
}

function describe(kind: ChannelEventKind, e: never): [EventLevel, string] {
  switch (kind) {
    case "state": {
      const s = e as ChannelEvents["state"][0];
      return [s === "failed" ? "error" : s === "slate" ? "warn" : "info", `state: ${STATE_WORDS[s] ?? s}`];
    }
    case "crashed": {
      const x = e as ChannelEvents["crashed"][0];
      const how = [EXIT_WORDS[x.reason] ?? x.reason, x.code !== null ? `exit code ${x.code}` : "", x.signal ? `signal ${x.signal}` : ""]
        .filter(Boolean)
        .join(", ");
      const next =
        x.restartNumber !== null && x.nextRetryInMs !== null
          ? `restart ${x.restartNumber} in ${formatDuration(x.nextRetryInMs)}`
          : "no restart";
      return ["error", `FFmpeg ended (${how || "no reason"}); ${next}`];
    }
    case "recovered": {
      const x = e as ChannelEvents["recovered"][0];
      return ["info", `recovered after ${formatDuration(x.outageMs)} (${x.restarts} restart${x.restarts === 1 ? "" : "s"})`];
    }
    case "slate": {
      const x = e as ChannelEvents["slate"][0];
      return x.on ? ["warn", `slate on air${x.reason ? ` (${x.reason})` : ""}`] : ["info", "slate off, programme back on air"];
    }
    case "started": {
      const x = e as ChannelEvents["started"][0];
      const pid = x.pid !== undefined ? `, pid ${x.pid}` : "";
      return ["info", x.spawn > 1 ? `FFmpeg restarted (start ${x.spawn}${pid})` : `FFmpeg started${pid ? ` (${pid.slice(2)})` : ""}`];
    }
    case "cue": {
      const x = e as ChannelEvents["cue"][0];
      return ["info", `cue ${x.kind} sent, splice_event_id ${x.spliceEventId}, ${x.leadSeconds.toFixed(1)} s ahead`];
    }
    case "input_lost": {
      const x = e as ChannelEvents["input_lost"][0];
      return ["error", `input lost (${x.reason === "silent" ? "silent" : "unreachable"}${x.detail ? `: ${x.detail}` : ""})`];
    }
    case "input_restored":
      return ["info", `input back after ${formatDuration((e as ChannelEvents["input_restored"][0]).downMs)}`];
    case "stall": {
      const x = e as ChannelEvents["stall"][0];
      return ["warn", `FFmpeg stalled: no TS for ${formatDuration(x.silentMs)}${x.neverProduced ? " (none since it started)" : ""}`];
    }
    case "output_error": {
      const x = e as ChannelEvents["output_error"][0];
      return ["error", `output ${x.output} failing: ${x.error}`];
    }
    case "epg_empty":
      return ["warn", `EPG empty: no programme now nor in the next ${(e as ChannelEvents["epg_empty"][0]).days} day(s)`];
    case "cue_failed": {
      const x = e as ChannelEvents["cue_failed"][0];
      return ["error", `${cueName(x)} failed: ${x.reason}`];
    }
    case "cue_late": {
      const x = e as ChannelEvents["cue_late"][0];
      return ["warn", `${cueName(x)} late by ${formatDuration(x.lateMs)}`];
    }
  }
}

/** Alert kinds that are good news (info); trouble that stops the picture is an error, the rest a warning. */
const ALERT_INFO = new Set(["recovered", "slate_off", "input_restored", "store_recovered", "disk_ok"]);
const ALERT_ERROR = new Set(["channel_crashed", "input_lost", "cue_failed", "flapping", "output_error", "store_write_failed"]);

export function alertLevel(kind: string): EventLevel {
  return ALERT_INFO.has(kind) ? "info" : ALERT_ERROR.has(kind) ? "error" : "warn";
}

/** An outbox row as an event row: the first line of the message's plain text. */
export function alertEvent(r: Pick<ChannelAlertRow, "kind" | "createdMs" | "payload">): ConsoleEvent & { atMs: number } {
  const text =
    htmlToText(r.payload)
      .split("\n")
      .find((l) => l.trim() !== "") ?? r.kind;
  return {
    at: new Date(r.createdMs).toISOString(),
    atMs: r.createdMs,
    kind: r.kind,
    level: alertLevel(r.kind),
    text: oneLine(text),
    source: "alert",
  };
}

/** What a channel is to the event list: its id and its events (a `Channel` fits). */
export interface EventSource {
  readonly id: string;
  on(event: ChannelEventKind, listener: (payload: never) => void): unknown;
  off(event: ChannelEventKind, listener: (payload: never) => void): unknown;
}

type Row = ConsoleEvent & { atMs: number };

interface Attached {
  source: EventSource;
  ring: EventRing<Row>;
  listeners: [ChannelEventKind, (payload: never) => void][];
  lastAlert?: Row | undefined;
}

export interface ConsoleEventsOptions {
  store: Store;
  clock?: Clock;
  logger?: Logger | undefined;
}

export interface ConsoleEventsEvents {
  /** a row appended to a channel's list (its ring, or a new alert) */
  event: [channel: string, row: ConsoleEvent];
}

/** The event lists of the channels (see the file comment). */
export class ConsoleEvents extends EventEmitter<ConsoleEventsEvents> {
  private readonly channels = new Map<string, Attached>();
  private readonly clock: Clock;
  /** the outbox row up to which alerts were read; undefined until the first read */
  private alertsAfter: number | undefined;
  private polledAt = Number.NEGATIVE_INFINITY;
  private storeFailing = false;

  constructor(private readonly o: ConsoleEventsOptions) {
    super();
    this.clock = o.clock ?? systemClock;
  }

  /** Starts the channel's list: its ring, fed from its events; its last alert read from the outbox. */
  attach(c: EventSource): void {
    this.detach(c.id);
    const a: Attached = { source: c, ring: new EventRing<Row>(RING_SIZE), listeners: [] };
    for (const kind of CHANNEL_EVENT_KINDS) {
      const listener = (payload: never): void => this.append(c.id, describeChannelEvent(kind, payload));
      c.on(kind, listener);
      a.listeners.push([kind, listener]);
    }
    this.channels.set(c.id, a);
    this.readStore(() => {
      // alerts from here on are news to `pollAlerts`; the last one before is read now
      this.alertsAfter ??= lastOutboxId(this.o.store);
      const last = channelAlerts(this.o.store, c.id, 1)[0];
      a.lastAlert = last ? alertEvent(last) : undefined;
    });
  }

  /** Ends the channel's list (it was stopped): its listeners off, its ring dropped. */
  detach(id: string): void {
    const a = this.channels.get(id);
    if (a) for (const [kind, l] of a.listeners) a.source.off(kind, l);
    this.channels.delete(id);
  }

  has(id: string): boolean {
    return this.channels.has(id);
  }

  /** Appends a row of the daemon's own (an import through the console, say) to a channel's list. */
  note(channel: string, e: { kind: string; level: EventLevel; text: string }): void {
    this.append(channel, { kind: e.kind, level: e.level, text: oneLine(e.text) });
  }

  /** The channel's events, newest first: its ring and its alerts from the outbox, merged; at most `limit`. */
  list(id: string, limit: number): ConsoleEvent[] {
    const a = this.channels.get(id);
    if (!a) return [];
    const ring = a.ring.newest(limit);
    let alerts: Row[] = [];
    this.readStore(() => (alerts = channelAlerts(this.o.store, id, limit).map(alertEvent)));
    const merged = [...ring, ...alerts].sort((x, y) => y.atMs - x.atMs);
    return merged.slice(0, limit).map(strip);
  }

  /** The channel's newest alert (the outbox read first when it was not read for a second). */
  lastAlert(id: string): { atMs: number; kind: string; text: string } | undefined {
    this.pollAlerts();
    const last = this.channels.get(id)?.lastAlert;
    return last && { atMs: last.atMs, kind: last.kind, text: last.text };
  }

  /**
   * Reads alerts written to the outbox since the last read (at most once a second): each
   * becomes its channel's last alert and an `event`.
   */
  pollAlerts(): void {
    const now = this.clock.monotonic();
    if (now - this.polledAt < ALERT_POLL_MS) return;
    this.polledAt = now;
    this.readStore(() => {
      if (this.alertsAfter === undefined) {
        this.alertsAfter = lastOutboxId(this.o.store);
        return;
      }
      for (const r of channelAlertsSince(this.o.store, this.alertsAfter, ALERT_POLL_LIMIT)) {
        this.alertsAfter = Math.max(this.alertsAfter, r.id);
        const a = this.channels.get(r.channel);
        if (!a) continue;
        const row = alertEvent(r);
        if (!a.lastAlert || row.atMs >= a.lastAlert.atMs) a.lastAlert = row;
        this.emit("event", r.channel, strip(row));
      }
    });
  }

  private append(channel: string, e: { kind: string; level: EventLevel; text: string }): void {
    const a = this.channels.get(channel);
    if (!a) return;
    const atMs = this.clock.now();
    const row: Row = { at: new Date(atMs).toISOString(), atMs, kind: e.kind, level: e.level, text: e.text, source: "channel" };
    a.ring.push(row);
    this.emit("event", channel, strip(row));
  }

  /** A store read that may fail (a locked or full store): logged once per failing spell, the list goes on without it. */
  private readStore(read: () => void): void {
    try {
      read();
      this.storeFailing = false;
    } catch (err) {
      if (!this.storeFailing) this.o.logger?.warn({ event: "console_alerts_unreadable", err }, "cannot read alerts from the outbox");
      this.storeFailing = true;
    }
  }
}

function strip(r: Row): ConsoleEvent {
  return { at: r.at, kind: r.kind, level: r.level, text: r.text, source: r.source };
}
