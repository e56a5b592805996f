import { describe, expect, it } from "vitest";
import {
  channelSnapshot,
  channelsReadiness,
  channelView,
  monitorIndicators,
  nextRate,
  type SnapshotStatus,
  type ViewInput,
} from "../../src/daemon/view.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function status(over: Partial<SnapshotStatus> = {}): SnapshotStatus {
  return {
    bytesOut: 1_000_000,
    lastOutputAt: T0 - 500,
    source: "live",
    live: { restartsByReason: { exit_code: 2, stall: 1 }, replacements: { manual: 3, planned: 4 }, lastProgress: { bitrate: 2_000_000 } },
    injector: {
      packetsIn: 100,
      packetsOut: 110,
      nullsReplaced: 7,
      inserted: 3,
      cuesSent: { splice_insert: 5 },
      cuesRepeated: 4,
      breaksMoved: 1,
      breaksDue: 2,
    },
    si: {
      tables: [
        { key: "sdt", versionNumber: 3, sectionsSent: 10 },
        { key: "eit-0x51", versionNumber: 9, sectionsSent: 5 },
        { key: "eit-0x50", versionNumber: 2, sectionsSent: 6 },
      ],
    },
    monitor: { continuityCountError: 2, patError: 0 },
    outputs: [{ name: "udp://239.1.1.1:5000", errors: 1, failing: false }],
    ...over,
  };
}

describe("daemon view: metrics snapshot", () => {
  it("maps a channel's status to the metrics snapshot", () => {
    const { snapshot } = channelSnapshot(status(), "splice_insert", 12.5, undefined, T0);
    expect(snapshot).toEqual({
      up: true,
      restartsByReason: { exit_code: 2, stall: 1, manual: 3, planned: 4 },
      inputBitrateBps: 2_000_000,
      outputBitrateBps: null,
      packetsIn: 100,
      packetsOut: 110,
      nullsReplaced: 7,
      packetsInserted: 3,
      cuesSent: { splice_insert: 5 },
      cuesRepeated: { splice_insert: 4 },
      cuesLate: { splice_insert: 1 },
      breaksDue: 2,
      secondsToNextSplice: 12.5,
      tableVersions: { sdt: 3, eit_schedule: 2 },
      sectionsSent: { sdt: 10, eit_schedule: 11 },
      slateActive: false,
      monitorErrors: { continuity_count_error: 2, pat_error: 0 },
      playlistMediaMissing: undefined,
      playlistMediaFailed: undefined,
      outputs: [{ name: "udp://239.1.1.1:5000", errors: 1, failing: false }],
    });
  });

  it("is down 2 s after the last packet, on slate when the slate is the source, without SI before the tables start", () => {
    const { snapshot } = channelSnapshot(
      status({ lastOutputAt: T0 - 2000, source: "slate", si: undefined }),
      "time_signal",
      null,
      undefined,
      T0,
    );
    expect(snapshot).toMatchObject({ up: false, slateActive: true, tableVersions: {}, sectionsSent: {}, cuesLate: { time_signal: 1 } });
    expect(channelSnapshot(status({ lastOutputAt: null }), "time_signal", null, undefined, T0).snapshot.up).toBe(false);
  });

  it("measures the output bitrate between scrapes at least a second apart", () => {
    const first = nextRate(undefined, 1000, T0);
    expect(first).toEqual({ bytes: 1000, at: T0, bps: null });
    expect(nextRate(first, 2000, T0 + 500)).toEqual(first);
    const second = nextRate(first, 1000 + 250_000, T0 + 2000);
    expect(second).toEqual({ bytes: 251_000, at: T0 + 2000, bps: 1_000_000 });
    const { snapshot, rate } = channelSnapshot(status({ bytesOut: 251_000 + 125_000 }), "splice_insert", null, second, T0 + 3000);
    expect(snapshot.outputBitrateBps).toBe(1_000_000);
    expect(rate).toEqual({ bytes: 376_000, at: T0 + 3000, bps: 1_000_000 });
  });

  it("names the monitor's counters by their TR 101 290 indicators", () => {
    expect(monitorIndicators({ tsSyncLoss: 1, pcrDiscontinuityIndicatorError: 2 })).toEqual({
      ts_sync_loss: 1,
      pcr_discontinuity_indicator_error: 2,
    });
  });
});

describe("daemon view: API view", () => {
  const base: ViewInput = {
    id: "news",
    mode: "splice_insert",
    status: { state: "on_air", source: "live", lastOutputAt: T0 - 100, live: { restarts: 2 } },
    next: null,
  };

  it("shows the injector's next splice, the programme on air and the last cue", () => {
    const v = channelView(
      {
        ...base,
        next: { plan: { spliceEventId: 42, breakDurationTicks: 90_000 * 30 }, seconds: 8 },
        waiting: { spliceEventId: 50, atMs: T0 + 3_600_000, durationMs: 60_000 },
        present: { title: "News", startMs: T0 - 60_000, durationMs: 1_800_000 },
        lastCue: { spliceEventId: 41, kind: "splice_insert", createdMs: T0 - 1000 },
      },
      T0,
    );
    expect(v).toEqual({
      id: "news",
      enabled: true,
      state: "on_air",
      up: true,
      slateActive: false,
      currentItem: { title: "News", start: "2026-01-01T11:59:00.000Z", end: "2026-01-01T12:29:00.000Z" },
      lastCue: { spliceEventId: 41, command: "splice_insert", at: "2026-01-01T11:59:59.000Z", durationSeconds: null },
      nextCue: { spliceEventId: 42, command: "splice_insert", at: "2026-01-01T12:00:08.000Z", durationSeconds: 30 },
      restarts: 2,
      source: "live",
    });
  });

  it("falls back to a cue waiting in the store, and shows nothing it does not know", () => {
    const waiting = channelView(
      { ...base, mode: "time_signal", waiting: { spliceEventId: 50, atMs: T0 + 7_200_000, durationMs: 90_000 } },
      T0,
    );
    expect(waiting.nextCue).toEqual({ spliceEventId: 50, command: "time_signal", at: "2026-01-01T14:00:00.000Z", durationSeconds: 90 });
    const bare = channelView({ ...base, status: { ...base.status, source: "slate", lastOutputAt: null } }, T0);
    expect(bare).toMatchObject({ up: false, slateActive: true, currentItem: null, lastCue: null, nextCue: null });
  });
});

describe("daemon view: /readyz channels", () => {
  const channel = (id: string, up: boolean, failing: { name: string; error: string | null }[] = []) => ({
    id,
    state: up ? "on_air" : "starting",
    readiness: () => ({ up, failingOutputs: failing }),
  });

  it("is ready when every channel is up with working outputs", () => {
    expect(channelsReadiness([channel("a", true), channel("b", true)])).toEqual({
      ready: true,
      details: [
        { id: "a", up: true, state: "on_air" },
        { id: "b", up: true, state: "on_air" },
      ],
      reasons: [],
    });
  });

  it("names each channel without packets and each failing output; no channel is not ready", () => {
    const r = channelsReadiness([channel("a", false), channel("b", true, [{ name: "file:/x.ts", error: null }])]);
    expect(r.ready).toBe(false);
    expect(r.reasons).toEqual(["channel a: no packets out (starting)", "channel b: output file:/x.ts failing (error)"]);
    expect(channelsReadiness([])).toEqual({ ready: false, details: [], reasons: ["no channel loaded"] });
  });
});
