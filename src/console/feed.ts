/**
 * The console's feed: what the event stream (stream.ts) is sent, from the channels, their
 * event lists (events.ts) and the thumbnails.
 *
 * - A channel added (`added`) gets its event list and its thumbnailer; stopped (`removed`)
 *   loses both. Either way the stream gets a fresh `channels` list.
 * - Every channel event appends a row (the stream's `event`) and pushes the channel's view
 *   (`channel`) at once; the views of one burst of events (a restart emits several in one
 *   turn) are coalesced into one per channel, sent at the end of the turn.
 * - While a stream is open, a tick every second: a channel whose programme changed is pushed
 *   (it checks the time against the boundary the last view named, its current programme's
 *   end or the next one's start, so it reads nothing from the store in between; every 30 s it
 *   compares the programmes anyway, for imports made by another process); within 10 s of a
 *   break's start or end (the next cue's time, the break on air's return) the view is
 *   compared every tick, so a break going on air or ending reaches the page at once; a break
 *   newly planned (the injector's next splice, read in memory each tick) is pushed too; every second tick
 *   each channel's `counters` (so at most every 2 s); alerts new in the outbox become `event`s.
 * - `refused` after a reload; `thumbnail` when the thumbnailer has a new one.
 * - The thumbnailer is asked for pictures only while a stream is open (`setDemand`).
 */
import type { Logger } from "pino";
import { systemClock, type Clock } from "../core/clock.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { ChannelView } from "../observe/http.js";
import type { ConsoleEvents, EventSource } from "./events.js";
import type { StreamHub } from "./stream.js";

const TICK_MS = 1000;
/** Every this many ticks: counters (2 s). */
const COUNTERS_EVERY_TICKS = 2;
/** Every this many ticks: the programmes compared whatever the boundary says (30 s). */
const PROGRAMME_RECHECK_TICKS = 30;

/** A refused profile as the API shows it. */
export interface RefusedView {
  file: string;
  code: string;
  message: string;
}

/** The latest picture of a channel and the news of new ones (thumbnails.ts's ThumbnailPool fits). */
export interface ThumbnailSource {
  latest(id: string): { jpeg: Buffer; seq: number; atMs: number } | undefined;
  setDemand(on: boolean): void;
  on(event: "thumbnail", listener: (e: { channel: string; seq: number; atMs: number }) => void): unknown;
}

/** What the feed attaches a thumbnailer to (the pool takes the channel itself). */
export interface ThumbnailAttach<C> {
  attach(channel: C): void;
  detach(id: string): void;
}

/** What the feed reads of the daemon's channels (the registry, through console-wiring.ts). */
export interface ChannelsSource {
  ids(): string[];
  view(id: string): ChannelView | undefined;
  counters(id: string): unknown;
  refused(): RefusedView[];
  /** what the channel's next planned break is, read in memory (no store): a change is pushed at the next tick */
  breakKey?(id: string): string;
}

export interface ConsoleFeedOptions<C extends EventSource> {
  channels: ChannelsSource;
  events: ConsoleEvents;
  hub: StreamHub;
  thumbnails?: (ThumbnailSource & ThumbnailAttach<C>) | undefined;
  timers?: Timers | undefined;
  /** wall time, for programme boundaries (default the system clock) */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/** The `channels` event's data (and GET /api/v1/channels's body). */
export function channelsSnapshot(channels: ChannelsSource): { channels: ChannelView[]; refused: RefusedView[] } {
  const views: ChannelView[] = [];
  for (const id of channels.ids()) {
    const v = channels.view(id);
    if (v) views.push(v);
  }
  return { channels: views, refused: channels.refused() };
}

/** The programme and break part of a view: what the time of day changes without a channel event. */
function programmeKey(v: ChannelView): string {
  const item = (i: unknown): string =>
    i && typeof i === "object" ? `${String((i as ItemLike).start)}|${String((i as ItemLike).title)}` : "";
  const cue = (c: unknown): string => (c && typeof c === "object" ? String((c as { spliceEventId?: unknown }).spliceEventId) : "");
  return `${item(v.currentItem)}#${item(v.nextItem)}#${cue(v.nextCue)}#${cue(v.onAirCue)}`;
}

/** When a break of `v` starts or ends (its next cue's time, the break on air's return): the view changes around then. */
function cueTimes(v: ChannelView): number[] {
  const times: number[] = [];
  const at = (v.nextCue as { at?: unknown } | null)?.at;
  const back = (v.onAirCue as { returnAt?: unknown } | null | undefined)?.returnAt;
  for (const t of [at, back]) if (typeof t === "string") times.push(Date.parse(t));
  return times;
}

/** How near a break's start or end the views are compared every tick (the splice lands on an IDR near the time). */
const CUE_WATCH_MS = 10_000;

interface ItemLike {
  start?: unknown;
  end?: unknown;
  title?: unknown;
}

/** When the programme shown by `v` changes at the latest: its current item's end, else the next one's start. */
function boundaryMs(v: ChannelView): number {
  const cur = v.currentItem as ItemLike | null;
  const next = v.nextItem as ItemLike | null | undefined;
  const t = typeof cur?.end === "string" ? cur.end : typeof next?.start === "string" ? next.start : undefined;
  return t === undefined ? Number.POSITIVE_INFINITY : Date.parse(t);
}

export class ConsoleFeed<C extends EventSource> {
  private readonly timers: Timers;
  private tick: unknown;
  private ticks = 0;
  /** channels whose view is due at the end of this turn */
  private readonly dirty = new Set<string>();
  private flushQueued = false;
  /** per channel: the programme and breaks shown last, when the programme changes at the latest, and when a break starts or ends */
  private readonly programmes = new Map<string, { key: string; untilMs: number; cueMs: number[]; breaks?: string | undefined }>();
  private closed = false;

  constructor(private readonly o: ConsoleFeedOptions<C>) {
    this.timers = o.timers ?? backgroundTimers;
    o.events.on("event", (channel, row) => {
      o.hub.send("event", { channel, ...row });
      this.changed(channel);
    });
    o.thumbnails?.on("thumbnail", (e) => o.hub.send("thumbnail", { channel: e.channel, seq: e.seq, at: new Date(e.atMs).toISOString() }));
  }

  /** A channel was added: its event list and thumbnailer start; streams get the new list. */
  added(c: C): void {
    this.o.events.attach(c);
    this.o.thumbnails?.attach(c);
    this.sendChannels();
  }

  /** A channel was stopped: its event list and thumbnailer end; streams get the new list. */
  removed(id: string): void {
    this.o.events.detach(id);
    this.o.thumbnails?.detach(id);
    this.programmes.delete(id);
    this.dirty.delete(id);
    this.sendChannels();
  }

  /** The refused profiles after a reload. */
  refused(list: readonly RefusedView[], reload: boolean): void {
    if (reload) this.o.hub.send("refused", { refused: list.map((r) => ({ file: r.file, code: r.code, message: r.message })) });
  }

  /** The `channels` event's data for a stream that opens (the programmes it shows noted for the tick). */
  snapshot(): { channels: ChannelView[]; refused: RefusedView[] } {
    const snap = channelsSnapshot(this.o.channels);
    for (const v of snap.channels) this.note(v);
    return snap;
  }

  /** The hub's demand: the first stream opened or the last one ended. */
  demand(on: boolean): void {
    this.o.thumbnails?.setDemand(on);
    if (on && this.tick === undefined && !this.closed) {
      this.ticks = 0;
      this.tick = this.timers.setInterval(() => this.onTick(), TICK_MS);
    } else if (!on) this.stopTick();
  }

  /** The channel's view changed (an event, an import): pushed at the end of this turn. */
  changed(id: string): void {
    if (this.o.hub.size === 0) return;
    this.dirty.add(id);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  close(): void {
    this.closed = true;
    this.stopTick();
  }

  private flush(): void {
    this.flushQueued = false;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) this.pushView(id);
  }

  private pushView(id: string): ChannelView | undefined {
    const v = this.o.channels.view(id);
    if (!v) return undefined;
    this.note(v);
    this.o.hub.send("channel", v);
    return v;
  }

  /**
   * What a view sent shows: its programme and breaks, and when they change at the latest. The
   * cue times of the views before stay watched for `CUE_WATCH_MS` after them: the view just
   * after a splice may already name the next break and not yet the one on air (the stream's
   * clock places the splice a moment later).
   */
  private note(v: ChannelView): void {
    const now = (this.o.clock ?? systemClock).now();
    const before = (this.programmes.get(v.id)?.cueMs ?? []).filter((t) => now - t <= CUE_WATCH_MS);
    const cueMs = [...new Set([...cueTimes(v), ...before])];
    this.programmes.set(v.id, { key: programmeKey(v), untilMs: boundaryMs(v), cueMs, breaks: this.o.channels.breakKey?.(v.id) });
  }

  private sendChannels(): void {
    if (this.o.hub.size > 0) this.o.hub.send("channels", this.snapshot());
  }

  private onTick(): void {
    this.ticks++;
    const recheck = this.ticks % PROGRAMME_RECHECK_TICKS === 0;
    const now = (this.o.clock ?? systemClock).now();
    for (const id of this.o.channels.ids()) {
      const p = this.programmes.get(id);
      if (!p || now >= p.untilMs || (p.breaks !== undefined && this.o.channels.breakKey?.(id) !== p.breaks)) this.pushView(id);
      else if (recheck || p.cueMs.some((t) => Math.abs(now - t) <= CUE_WATCH_MS)) {
        const v = this.o.channels.view(id);
        if (v && programmeKey(v) !== p.key) this.pushView(id);
      }
      if (this.ticks % COUNTERS_EVERY_TICKS === 0) {
        const counters = this.o.channels.counters(id);
        if (counters) this.o.hub.send("counters", counters);
      }
    }
    this.o.events.pollAlerts();
  }

  private stopTick(): void {
    if (this.tick === undefined) return;
    this.timers.clearInterval(this.tick);
    this.tick = undefined;
  }
}
