/**
 * A channel's as-run recorder (src/pipeline/channel-asrun.ts) over a real store in a temp
 * dir, with a manual clock and a stand-in for the injector's stream clock: what it writes for
 * cues (once per break side, the injector's lead figure, the scheduled time) and for the
 * schedule's items (on change, joined late).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { TICKS, type PlannedCue } from "../../src/inject/planner.js";
import { AsRunRecorder, type AsRunInjector, type CueAired } from "../../src/pipeline/channel-asrun.js";
import { openStore, type Store } from "../../src/store/db.js";
import { PTS_MODULUS } from "../../src/ts/timestamps.js";

const CH = "news";
const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
/** PTS of T0 on the stand-in stream clock: 2 s before the 33-bit wrap */
const PTS0 = PTS_MODULUS - 2 * TICKS;

let dir = "";
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-asrun-"));
  store = openStore(join(dir, "onair.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function recorder(o: { requested?: Map<number, number> } = {}) {
  const clock = new ManualClock(T0, 0);
  const aired: CueAired[] = [];
  const closed: number[] = [];
  const injector: AsRunInjector = {
    clock: {
      ready: true,
      wallAt: (pts) => T0 + (((pts - PTS0 + PTS_MODULUS) % PTS_MODULUS) / TICKS) * 1000,
      ptsForWall: (ms) => (PTS0 + Math.round(((ms - T0) / 1000) * TICKS)) % PTS_MODULUS,
    },
    planner: { planned: [{ spliceEventId: 7, requestedPts: (PTS0 + 5 * TICKS) % PTS_MODULUS }] },
  };
  const r = new AsRunRecorder({
    channel: CH,
    store,
    clock,
    log: pino({ level: "silent" }),
    injector,
    cues: {
      requestedMs: (id) => o.requested?.get(id),
      markAired: (_st, id) => void closed.push(id),
    },
    write: (_what, run) => run(store),
    storeError: (err) => {
      throw err;
    },
    source: () => "live",
    onCue: (e) => aired.push(e),
  });
  return { r, clock, aired, closed };
}

function cue(kind: PlannedCue["kind"], spliceEventId: number, splicePts: number, sendsDone = 1): PlannedCue {
  return {
    kind,
    spliceEventId,
    splicePts,
    section: new Uint8Array([0xfc, 0x30, 0x11]),
    spec: { command: "splice_insert", spliceEventId, outOfNetwork: kind === "out", splicePts },
    nextSendPcr: 0,
    sendsLeft: 0,
    sendsDone,
  };
}

describe("AsRunRecorder: cues", () => {
  it("writes the injector's lead figure, not a difference of PTS, for a splice point past the wrap", () => {
    const { r, clock } = recorder();
    const splicePts = (PTS0 + 6 * TICKS) % PTS_MODULUS; // 4 s past the wrap: a small number
    expect(splicePts).toBeLessThan(5 * TICKS);
    r.cueSent(cue("out", 7, splicePts), 6);
    const [row] = store.queryAsRun({ kind: "cue" });
    expect(row).toMatchObject({ channel: CH, actualMs: clock.now(), pts: splicePts, eventId: 7 });
    expect(row.details).toEqual({ kind: "out", command: "splice_insert", leadSeconds: 6 });
    // the break's due time is what the planner was asked for (the schedule's start)
    expect(row.scheduledMs).toBe(T0 + 5000);
    const [c] = store.listCues(CH);
    expect(c).toMatchObject({ spliceEventId: 7, kind: "out", scheduledMs: T0 + 5000, pts: splicePts });
  });

  it("writes a break side once: repeats and a resend under the same id after a restart are not rows", () => {
    const { r, aired } = recorder();
    r.cueSent(cue("out", 7, 100), 6);
    r.cueSent(cue("out", 7, 100, 2), 5); // a repeat
    r.cueSent(cue("out", 7, 900_000), 6); // planned again after a time-base change
    r.cueSent(cue("in", 7, 1_900_000), 6); // its return: a row of its own
    r.cueSent(cue("heartbeat", 0, -1), 0);
    expect(store.queryAsRun({ kind: "cue" }).map((e) => (e.details as { kind: string }).kind)).toEqual(["out", "in"]);
    expect(aired.map((a) => `${a.kind}:${a.spliceEventId}:${a.leadSeconds}`)).toEqual(["out:7:6", "in:7:6"]);
  });

  it("schedules an API cue at the time it asked for, and closes it as aired with its out row", () => {
    const { r, closed } = recorder({ requested: new Map([[42, T0 + 30_000]]) });
    r.cueSent(cue("out", 42, (PTS0 + 36 * TICKS) % PTS_MODULUS), 6);
    r.cueSent(cue("in", 42, (PTS0 + 66 * TICKS) % PTS_MODULUS), 6);
    const rows = store.queryAsRun({ kind: "cue" });
    expect(rows.map((e) => e.scheduledMs)).toEqual([T0 + 30_000, T0 + 66_000]);
    expect(closed).toEqual([42]);
  });
});

describe("AsRunRecorder: items", () => {
  const item = (startMs: number, title: string) => ({ startMs, durationMs: 60_000, title });

  it("writes nothing before the output runs, then the item on air, joined late, and the next one at its boundary", () => {
    const { r, clock } = recorder();
    store.replaceItems(CH, T0 - 60_000, T0 + 120_000, [item(T0 - 30_000, "news"), item(T0 + 30_000, "weather")]);
    r.checkItem();
    expect(store.queryAsRun({ kind: "item" })).toEqual([]);
    r.output();
    r.checkItem();
    clock.advance(10_000);
    r.checkItem(); // same item: nothing new
    clock.advance(20_000); // the boundary
    r.checkItem();
    const rows = store.queryAsRun({ kind: "item" });
    expect(rows.map((e) => [e.scheduledMs, e.actualMs])).toEqual([
      [T0 - 30_000, T0],
      [T0 + 30_000, T0 + 30_000],
    ]);
    expect(rows[0].details).toMatchObject({ title: "news", source: "live", joined_late: true });
    expect(rows[1].details).not.toHaveProperty("joined_late");
    expect(rows[1].pts).toBe((PTS0 + 30 * TICKS) % PTS_MODULUS);
  });
});
