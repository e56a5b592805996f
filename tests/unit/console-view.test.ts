/**
 * What the console adds to a channel's view (src/daemon/view.ts): its fields from what the
 * channel, the store and the console know, the stream's counters, the break on air from the
 * injector's planned breaks, and the wall's "slate" state.
 */
import { describe, expect, it } from "vitest";
import { channelView, consoleViewFields, countersView, onAirBreak, type ViewInput } from "../../src/daemon/view.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("the console's channel view", () => {
  it("adds name, time zone, next programme, bitrate, TR 101 290 counters, last alert, HLS, thumbnail and the break on air", () => {
    const f = consoleViewFields("news", {
      name: "News 24",
      timeZone: "Europe/Paris",
      following: { title: "Weather", startMs: T0, durationMs: 300_000 },
      outputBitrateBps: 1_499_999.6,
      monitor: { tsSyncLoss: 0, continuityCountError: 3 },
      lastAlert: { atMs: T0 - 1000, kind: "slate_on", text: "🟧 news: slate on air" },
      hls: true,
      thumbnail: { seq: 41, atMs: T0 - 2000 },
      onAir: { spliceEventId: 11, atMs: T0 - 10_000, returnAtMs: T0 + 20_000 },
    });
    expect(f).toEqual({
      name: "News 24",
      timeZone: "Europe/Paris",
      nextItem: { title: "Weather", start: "2026-01-01T12:00:00.000Z", end: "2026-01-01T12:05:00.000Z" },
      onAirCue: { spliceEventId: 11, at: "2026-01-01T11:59:50.000Z", returnAt: "2026-01-01T12:00:20.000Z" },
      outputBitrateBps: 1_500_000,
      tr101290: { ts_sync_loss: 0, continuity_count_error: 3 },
      lastAlert: { at: "2026-01-01T11:59:59.000Z", kind: "slate_on", text: "🟧 news: slate on air" },
      hls: { playlist: "/hls/news/index.m3u8" },
      thumbnail: { url: "/api/v1/channels/news/thumbnail.jpg", seq: 41, at: "2026-01-01T11:59:58.000Z" },
    });
    const bare = consoleViewFields("news", { name: "News", timeZone: "UTC", outputBitrateBps: null, monitor: {}, hls: false });
    expect(bare).toMatchObject({ nextItem: null, onAirCue: null, outputBitrateBps: null, lastAlert: null, hls: null, thumbnail: null });
  });

  it("gives the stream's counters", () => {
    expect(countersView("news", { lastOutputAt: T0 - 100, monitor: { pcrAccuracyError: 1 } }, 2e6, T0)).toEqual({
      id: "news",
      outputBitrateBps: 2_000_000,
      tr101290: { pcr_accuracy_error: 1 },
      up: true,
    });
    expect(countersView("news", { lastOutputAt: null, monitor: {} }, null, T0).up).toBe(false);
  });

  it("finds the planned break whose splice point passed and whose return did not", () => {
    const wallAt = (pts: number): number => T0 + pts / 90; // 90 kHz ticks → ms
    const planned = [
      { spliceEventId: 1, splicePts: 0, returnPts: 90_000 }, // T0 … T0 + 1 s
      { spliceEventId: 2, splicePts: 900_000, returnPts: 3_600_000 }, // T0 + 10 s … T0 + 40 s
    ];
    expect(onAirBreak(planned, wallAt, T0 - 1)).toBeUndefined();
    expect(onAirBreak(planned, wallAt, T0 + 500)).toEqual({ spliceEventId: 1, atMs: T0, returnAtMs: T0 + 1000 });
    expect(onAirBreak(planned, wallAt, T0 + 1000)).toBeUndefined();
    expect(onAirBreak(planned, wallAt, T0 + 39_999)?.spliceEventId).toBe(2);
    expect(onAirBreak([], wallAt, T0)).toBeUndefined();
  });

  it('calls a channel on air from its slate "slate"', () => {
    const base: ViewInput = {
      id: "news",
      mode: "splice_insert",
      status: { state: "on_air", source: "slate", lastOutputAt: T0, live: { restarts: 0 } },
      next: null,
    };
    expect(channelView(base, T0).state).toBe("slate");
    expect(channelView({ ...base, status: { ...base.status, source: "live" } }, T0).state).toBe("on_air");
    expect(channelView({ ...base, status: { ...base.status, state: "starting" } }, T0).state).toBe("starting");
  });
});
