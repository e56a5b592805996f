/**
 * The console's feed (src/console/feed.ts): what the event stream is sent. A channel's burst
 * of events gives its rows and one view; a programme change is pushed on its boundary, read
 * from the last view (hand-driven timers and clock); counters every 2 s; `channels` when a
 * channel comes or goes, `refused` after a reload; thumbnails follow the channels and demand.
 * The hub is the real StreamHub with its `send` recorded.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsoleEvents } from "../../src/console/events.js";
import { ConsoleFeed, type ChannelsSource, type ThumbnailAttach, type ThumbnailSource } from "../../src/console/feed.js";
import { StreamHub } from "../../src/console/stream.js";
import type { ChannelView } from "../../src/observe/http.js";
import type { ChannelEvents } from "../../src/pipeline/channel-types.js";
import { openStore, type Store } from "../../src/store/db.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const T0 = Date.UTC(2026, 3, 1, 10, 0, 0);

class FakeChannel extends EventEmitter<ChannelEvents> {
  constructor(readonly id: string) {
    super();
  }
}

/** The real hub, its sends recorded and one stream taken as open. */
class RecordingHub extends StreamHub {
  readonly sent: [string, unknown][] = [];
  open_ = 1;
  override get size(): number {
    return this.open_;
  }
  override send(event: string, data: unknown): void {
    this.sent.push([event, data]);
  }
  names(): string[] {
    return this.sent.map(([e]) => e);
  }
}

class Thumbs
  extends EventEmitter<{ thumbnail: [{ channel: string; seq: number; atMs: number }] }>
  implements ThumbnailSource, ThumbnailAttach<FakeChannel>
{
  readonly calls: string[] = [];
  latest(): undefined {
    return undefined;
  }
  setDemand(on: boolean): void {
    this.calls.push(`demand ${on}`);
  }
  attach(c: FakeChannel): void {
    this.calls.push(`attach ${c.id}`);
  }
  detach(id: string): void {
    this.calls.push(`detach ${id}`);
  }
}

describe("console feed", () => {
  let dir = "";
  let store: Store;
  let timers: ManualTimers;
  let hub: RecordingHub;
  let thumbs: Thumbs;
  let views: number;
  let item: { title: string; start: string; end: string } | null;
  let nextCue: ChannelView["nextCue"];
  let breakKey: string;
  let onAirCue: { spliceEventId: number; at: string; returnAt: string } | null;
  let feed: ConsoleFeed<FakeChannel>;

  const channels: ChannelsSource = {
    ids: () => ["news"],
    view: (id) => {
      views++;
      return {
        id,
        enabled: true,
        state: "on_air",
        up: true,
        slateActive: false,
        currentItem: item,
        nextItem: null,
        lastCue: null,
        nextCue,
        onAirCue,
      };
    },
    counters: (id) => ({ id, outputBitrateBps: 1_500_000, tr101290: {}, up: true }),
    refused: () => [],
    breakKey: () => breakKey,
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-console-feed-"));
    timers = new ManualTimers();
    timers.clock.advance(T0);
    store = openStore(join(dir, "onair.db"));
    hub = new RecordingHub({ maxStreams: 1, snapshot: () => null, timers });
    thumbs = new Thumbs();
    views = 0;
    item = null;
    nextCue = null;
    onAirCue = null;
    breakKey = "";
    const events = new ConsoleEvents({ store, clock: timers.clock });
    feed = new ConsoleFeed<FakeChannel>({ channels, events, hub, thumbnails: thumbs, timers, clock: timers.clock });
  });
  afterEach(() => {
    feed.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends each event row at once and one view per burst of events, at the end of the turn", async () => {
    const c = new FakeChannel("news");
    feed.added(c);
    hub.sent.length = 0;
    views = 0;
    c.emit("crashed", {
      reason: "exit_code",
      code: 1,
      signal: null,
      stderrTail: [],
      errorLines: [],
      runMs: 5,
      restartNumber: 1,
      nextRetryInMs: 100,
    });
    c.emit("slate", { on: true, gapMs: 0, reason: "live_exited" });
    c.emit("state", "slate");
    expect(hub.names()).toEqual(["event", "event", "event"]);
    expect(hub.sent[0][1]).toMatchObject({ channel: "news", kind: "crashed", level: "error", source: "channel" });
    await Promise.resolve();
    expect(hub.names()).toEqual(["event", "event", "event", "channel"]);
    expect(views).toBe(1);
  });

  it("reads no view while no stream is open", async () => {
    const c = new FakeChannel("news");
    hub.open_ = 0;
    feed.added(c);
    c.emit("state", "on_air");
    await Promise.resolve();
    expect(views).toBe(0);
  });

  it("pushes a programme change when the last view's programme ends, and counters every 2 s, only while someone watches", () => {
    item = { title: "News", start: new Date(T0 - 60_000).toISOString(), end: new Date(T0 + 2500).toISOString() };
    feed.added(new FakeChannel("news"));
    feed.snapshot(); // a stream opened: its channel list names the programme
    hub.sent.length = 0;
    feed.demand(true);
    expect(thumbs.calls).toContain("demand true");
    timers.advance(2000);
    expect(hub.names()).toEqual(["counters"]);
    item = { title: "Weather", start: new Date(T0 + 2500).toISOString(), end: new Date(T0 + 600_000).toISOString() };
    timers.advance(1000);
    expect(hub.names()).toEqual(["counters", "channel"]);
    expect((hub.sent[1][1] as ChannelView).currentItem).toMatchObject({ title: "Weather" });
    timers.advance(1000);
    expect(hub.names()).toEqual(["counters", "channel", "counters"]);
    feed.demand(false);
    expect(thumbs.calls).toContain("demand false");
    expect(timers.size).toBe(0);
  });

  it("pushes the view when a break goes on air and when it ends, though no channel event says so", () => {
    const iso = (ms: number): string => new Date(ms).toISOString();
    nextCue = { spliceEventId: 7, command: "splice_insert", at: iso(T0 + 60_000), durationSeconds: 30 };
    feed.added(new FakeChannel("news"));
    feed.snapshot();
    feed.demand(true);
    timers.advance(45_000);
    hub.sent.length = 0;
    views = 0;
    // 15 s before the break nothing is read; from 10 s before, the view is compared every tick
    timers.advance(4000);
    expect(views).toBe(0);
    timers.advance(1000);
    expect(views).toBe(1);
    expect(hub.names()).not.toContain("channel");
    // at the splice the next break is planned at once (a view pushed), while the stream's clock
    // puts the break on air a moment later: that view names no cue time near now any more
    timers.advance(10_000);
    nextCue = { spliceEventId: 8, command: "splice_insert", at: iso(T0 + 3_600_000), durationSeconds: 30 };
    breakKey = "8";
    timers.advance(1000);
    expect(hub.sent.filter(([n]) => n === "channel").map(([, v]) => (v as ChannelView).onAirCue)).toEqual([null]);
    hub.sent.length = 0;
    onAirCue = { spliceEventId: 7, at: iso(T0 + 60_200), returnAt: iso(T0 + 90_200) };
    timers.advance(1000);
    expect(hub.names().filter((n) => n === "channel")).toHaveLength(1);
    expect(hub.sent.find(([n]) => n === "channel")?.[1]).toMatchObject({ onAirCue: { spliceEventId: 7 } });
    timers.advance(28_000);
    onAirCue = null;
    timers.advance(1000);
    const pushed = hub.sent.filter(([n]) => n === "channel").map(([, v]) => (v as ChannelView).onAirCue);
    expect(pushed).toEqual([expect.objectContaining({ spliceEventId: 7 }), null]);
  });

  it("pushes the view at the next tick when the injector plans a new break, reading no view meanwhile", () => {
    feed.added(new FakeChannel("news"));
    feed.snapshot();
    feed.demand(true);
    hub.sent.length = 0;
    views = 0;
    timers.advance(3000);
    expect(views).toBe(0);
    breakKey = "12";
    nextCue = { spliceEventId: 12, command: "splice_insert", at: new Date(T0 + 600_000).toISOString(), durationSeconds: 30 };
    timers.advance(1000);
    expect(views).toBe(1);
    expect(hub.sent.filter(([n]) => n === "channel").map(([, v]) => (v as ChannelView).nextCue?.spliceEventId)).toEqual([12]);
    timers.advance(5000);
    expect(views).toBe(1);
  });

  it("sends the channel list when a channel comes or goes, and the refused profiles after a reload only", () => {
    const c = new FakeChannel("news");
    feed.added(c);
    feed.refused([{ file: "bad.onair", code: "ONAIR_PROFILE_AUTH_FAILED", message: "tampered" }], false);
    feed.removed("news");
    feed.refused([{ file: "bad.onair", code: "ONAIR_PROFILE_AUTH_FAILED", message: "tampered" }], true);
    expect(hub.names()).toEqual(["channels", "channels", "refused"]);
    expect(hub.sent[2][1]).toEqual({ refused: [{ file: "bad.onair", code: "ONAIR_PROFILE_AUTH_FAILED", message: "tampered" }] });
    expect(thumbs.calls).toEqual(["attach news", "detach news"]);
    expect(c.eventNames()).toEqual([]);
  });

  it("tells the stream of a new thumbnail", () => {
    thumbs.emit("thumbnail", { channel: "news", seq: 3, atMs: T0 });
    expect(hub.sent).toEqual([["thumbnail", { channel: "news", seq: 3, at: new Date(T0).toISOString() }]]);
  });
});
