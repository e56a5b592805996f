/**
 * The console's event lists (src/console/events.ts): the ring of 500 per channel fed from the
 * channel's events, one human line per event, the alerts read from a real store's outbox
 * (one row per alert however many chats), merged newest first, and the lists' life with the
 * channel (attach, detach).
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsoleEvents, EventRing, RING_SIZE, describeChannelEvent, type ConsoleEvent } from "../../src/console/events.js";
import { ManualClock } from "../../src/core/clock.js";
import type { ChannelEvents } from "../../src/pipeline/channel-types.js";
import { openStore, type Store } from "../../src/store/db.js";
import { enqueueOutbox } from "../../src/store/outbox.js";

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

/** A stand-in for a Channel: its id and its typed events. */
class FakeChannel extends EventEmitter<ChannelEvents> {
  constructor(readonly id: string) {
    super();
  }
}

describe("event ring", () => {
  it("keeps the newest items, newest first, and forgets the oldest past its size", () => {
    const r = new EventRing<number>(5);
    for (let i = 1; i <= 3; i++) r.push(i);
    expect(r.newest()).toEqual([3, 2, 1]);
    for (let i = 4; i <= 12; i++) r.push(i);
    expect(r.size).toBe(5);
    expect(r.newest()).toEqual([12, 11, 10, 9, 8]);
    expect(r.newest(2)).toEqual([12, 11]);
    expect(r.newest(0)).toEqual([]);
  });
});

describe("channel events as rows", () => {
  it("says what happened in one line, with a level", () => {
    expect(describeChannelEvent("state", "on_air")).toEqual({ kind: "state", level: "info", text: "state: on air" });
    expect(describeChannelEvent("state", "failed").level).toBe("error");
    expect(describeChannelEvent("slate", { on: true, gapMs: 0, reason: "live_exited" })).toEqual({
      kind: "slate",
      level: "warn",
      text: "slate on air (live_exited)",
    });
    expect(describeChannelEvent("started", { pid: 42, spawn: 3, restarts: 2 }).text).toBe("FFmpeg restarted (start 3, pid 42)");
    expect(describeChannelEvent("started", { pid: 41, spawn: 1, restarts: 0 }).text).toBe("FFmpeg started (pid 41)");
    const crashed = describeChannelEvent("crashed", {
      reason: "exit_code",
      code: 1,
      signal: null,
      stderrTail: ["a\nb"],
      runMs: 10,
      restartNumber: 2,
      nextRetryInMs: 1500,
      errorLines: [],
    });
    expect(crashed.level).toBe("error");
    expect(crashed.text).toMatch(/^FFmpeg ended \(exit code 1\); restart 2 in 1(\.5)? ?s/);
    expect(describeChannelEvent("cue_failed", { spliceEventId: 7, reason: "no IDR\nin reach" }).text).toBe("cue 7 failed: no IDR in reach");
    expect(describeChannelEvent("output_error", { output: "udp:1.2.3.4:5", error: "x".repeat(1000) }).text.length).toBeLessThanOrEqual(300);
  });
});

describe("console event lists", () => {
  let dir = "";
  let store: Store;
  let clock: ManualClock;
  let events: ConsoleEvents;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-console-events-"));
    clock = new ManualClock(T0, 0);
    store = openStore(join(dir, "onair.db"), { clock });
    events = new ConsoleEvents({ store, clock });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const alert = (channel: string, kind: string, payload: string, chats = ["1"]): void => {
    enqueueOutbox(
      store,
      chats.map((chatId) => ({ botId: "b", chatId, channel, kind, payload })),
      clock.now(),
    );
  };

  it("records the channel's events newest first, tells listeners, and keeps 500", () => {
    const c = new FakeChannel("news");
    events.attach(c);
    const told: [string, ConsoleEvent][] = [];
    events.on("event", (ch, row) => told.push([ch, row]));
    c.emit("state", "starting");
    clock.advance(1000);
    c.emit("state", "on_air");
    const list = events.list("news", 10);
    expect(list.map((e) => [e.kind, e.text, e.source])).toEqual([
      ["state", "state: on air", "channel"],
      ["state", "state: starting", "channel"],
    ]);
    expect(list[0].at).toBe(new Date(T0 + 1000).toISOString());
    expect(told.map(([ch, r]) => [ch, r.text])).toEqual([
      ["news", "state: starting"],
      ["news", "state: on air"],
    ]);
    for (let i = 0; i < RING_SIZE + 20; i++) c.emit("cue", { kind: "out", spliceEventId: i, splicePts: 0, leadSeconds: 6 });
    const all = events.list("news", 1000);
    expect(all).toHaveLength(RING_SIZE);
    expect(all[0].text).toContain(`splice_event_id ${RING_SIZE + 19}`);
  });

  it("merges the channel's alerts from the outbox, one row per alert, newest first", () => {
    const c = new FakeChannel("news");
    alert("news", "slate_on", "🟧 <b>news</b>: slate on air (input lost)\n<i>box</i>", ["1", "2"]);
    alert("other", "slate_on", "🟧 <b>other</b>: slate on air");
    events.attach(c);
    clock.advance(5000);
    c.emit("slate", { on: false, gapMs: 5000, reason: "" });
    const list = events.list("news", 10);
    expect(list.map((e) => [e.source, e.kind, e.level, e.text])).toEqual([
      ["channel", "slate", "info", "slate off, programme back on air"],
      ["alert", "slate_on", "warn", "🟧 news: slate on air (input lost)"],
    ]);
    expect(events.list("news", 1)).toHaveLength(1);
  });

  it("knows the last alert from the start, and reads new ones at most once a second", () => {
    alert("news", "channel_crashed", "🔴 <b>news</b>: FFmpeg crashed");
    const c = new FakeChannel("news");
    events.attach(c);
    expect(events.lastAlert("news")).toEqual({ atMs: T0, kind: "channel_crashed", text: "🔴 news: FFmpeg crashed" });
    const told: ConsoleEvent[] = [];
    events.on("event", (_ch, row) => told.push(row));
    clock.advance(2000);
    alert("news", "recovered", "✅ <b>news</b> recovered after 2 s", ["1", "2", "3"]);
    expect(events.lastAlert("news")?.kind).toBe("recovered");
    expect(told.map((r) => [r.source, r.kind, r.level])).toEqual([["alert", "recovered", "info"]]);
    alert("news", "slate_on", "🟧 <b>news</b>: slate on air");
    // read less than a second ago: not read again yet
    expect(events.lastAlert("news")?.kind).toBe("recovered");
    clock.advance(1000);
    expect(events.lastAlert("news")?.kind).toBe("slate_on");
    expect(told).toHaveLength(2);
  });

  it("ends a channel's list when it is detached: its listeners off, nothing kept", () => {
    const c = new FakeChannel("news");
    events.attach(c);
    c.emit("state", "on_air");
    expect(c.listenerCount("state")).toBe(1);
    events.detach("news");
    expect(c.eventNames()).toEqual([]);
    expect(events.has("news")).toBe(false);
    expect(events.list("news", 10)).toEqual([]);
    c.emit("state", "stopped");
    events.attach(c);
    expect(events.list("news", 10)).toEqual([]);
  });
});
