/**
 * The console's live state, kept per channel so that an update re-renders only what it touches:
 * a `counters` event for one channel wakes that channel's subscribers and nobody else; the list
 * of tiles wakes its subscribers only when channels come or go.
 *
 * Every state or source change it is given is recorded in `window.onairConsole.history`
 * (`{channel, state, source, at}`, the first sighting included): the browser tests read it.
 */
import type {
  ChannelsSnapshot,
  ChannelView,
  CountersUpdate,
  EventRow,
  RefusedProfile,
  SessionInfo,
  ThumbnailUpdate,
  TileState,
} from "./api";

type Listener = () => void;

class Signal {
  private readonly listeners = new Set<Listener>();
  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(): void {
    for (const l of [...this.listeners]) l();
  }
}

export interface HistoryEntry {
  channel: string;
  state: TileState;
  source: string | null;
  at: string;
}

declare global {
  interface Window {
    onairConsole: { history: HistoryEntry[] };
  }
}

export type Connection = "connecting" | "open" | "lost";

export interface TileList {
  /** channel ids, in the daemon's order */
  ids: readonly string[];
  refused: readonly RefusedProfile[];
  /** false until the first list arrived */
  loaded: boolean;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class ConsoleStore {
  private readonly views = new Map<string, ChannelView>();
  private readonly channelSignals = new Map<string, Signal>();
  private readonly lastShown = new Map<string, string>();
  private list: TileList = { ids: [], refused: [], loaded: false };
  private conn: Connection = "connecting";
  private sess: SessionInfo | undefined;
  private snapshots = 0;
  private streamSnapshots = 0;
  readonly listSignal = new Signal();
  readonly connectionSignal = new Signal();
  readonly sessionSignal = new Signal();
  /** fires when any tile's state or source changes (the wall's summary line) */
  readonly stateSignal = new Signal();
  /** fires on each reconnection of the stream (its second and later `channels` lists): pages refetch what they show */
  readonly reconnectSignal = new Signal();
  private readonly eventListeners = new Set<(e: EventRow & { channel: string }) => void>();

  constructor(private readonly history: HistoryEntry[]) {}

  channel(id: string): ChannelView | undefined {
    return this.views.get(id);
  }
  tiles(): TileList {
    return this.list;
  }
  connection(): Connection {
    return this.conn;
  }
  session(): SessionInfo | undefined {
    return this.sess;
  }
  snapshotCount(): number {
    return this.snapshots;
  }
  /** Reconnections of the stream so far (effects keyed on it refetch what the stream may have missed). */
  reconnects(): number {
    return Math.max(0, this.streamSnapshots - 1);
  }

  onChannel(id: string, l: Listener): () => void {
    let s = this.channelSignals.get(id);
    if (!s) this.channelSignals.set(id, (s = new Signal()));
    return s.on(l);
  }

  onEvent(l: (e: EventRow & { channel: string }) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  setConnection(c: Connection): void {
    if (c === this.conn) return;
    this.conn = c;
    this.connectionSignal.emit();
  }

  setSession(s: SessionInfo): void {
    this.sess = s;
    this.sessionSignal.emit();
  }

  /** A full list (`channels` event, or GET /api/v1/channels when `fromStream` is false): replaces everything. */
  applySnapshot(s: ChannelsSnapshot, fromStream = true): void {
    const ids = s.channels.map((c) => c.id);
    for (const id of [...this.views.keys()]) {
      if (!ids.includes(id)) {
        this.views.delete(id);
        this.lastShown.delete(id);
        this.notify(id);
      }
    }
    for (const v of s.channels) this.put(v);
    this.setList(ids, s.refused ?? []);
    this.snapshots++;
    if (fromStream && ++this.streamSnapshots > 1) this.reconnectSignal.emit();
  }

  applyChannel(v: ChannelView): void {
    this.put(v);
    if (!this.list.ids.includes(v.id)) this.setList([...this.list.ids, v.id], this.list.refused);
  }

  applyCounters(c: CountersUpdate): void {
    const v = this.views.get(c.id);
    if (!v) return;
    this.views.set(c.id, { ...v, outputBitrateBps: c.outputBitrateBps, tr101290: c.tr101290, up: c.up });
    this.notify(c.id);
  }

  applyThumbnail(t: ThumbnailUpdate): void {
    const v = this.views.get(t.channel);
    if (!v) return;
    const url = v.thumbnail?.url ?? `/api/v1/channels/${encodeURIComponent(t.channel)}/thumbnail.jpg`;
    this.views.set(t.channel, { ...v, thumbnail: { url, seq: t.seq, at: t.at } });
    this.notify(t.channel);
  }

  applyRefused(refused: RefusedProfile[] | undefined): void {
    this.setList(this.list.ids, refused ?? []);
  }

  applyEvent(e: EventRow & { channel: string }): void {
    for (const l of [...this.eventListeners]) l(e);
  }

  private put(v: ChannelView): void {
    this.views.set(v.id, v);
    this.record(v.id, v.state, v.source);
    this.notify(v.id);
  }

  private setList(ids: readonly string[], refused: readonly RefusedProfile[]): void {
    for (const r of this.list.refused) if (!refused.some((n) => n.file === r.file)) this.lastShown.delete(r.file);
    for (const r of refused) this.record(r.file, "refused", null);
    const sameRefused =
      refused.length === this.list.refused.length &&
      refused.every(
        (r, i) =>
          r.file === this.list.refused[i].file && r.code === this.list.refused[i].code && r.message === this.list.refused[i].message,
      );
    if (this.list.loaded && sameList(ids, this.list.ids) && sameRefused) return;
    this.list = { ids, refused, loaded: true };
    this.listSignal.emit();
  }

  private record(channel: string, state: TileState, source: string | null): void {
    const key = `${state}/${source ?? ""}`;
    if (this.lastShown.get(channel) === key) return;
    this.lastShown.set(channel, key);
    this.history.push({ channel, state, source, at: new Date().toISOString() });
    this.stateSignal.emit();
  }

  private notify(id: string): void {
    this.channelSignals.get(id)?.emit();
  }
}

window.onairConsole ??= { history: [] };

/** The page's one store. */
export const store = new ConsoleStore(window.onairConsole.history);
