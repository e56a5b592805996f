/**
 * A channel's scheduled breaks (src/pipeline/channel-breaks.ts) over a real store in a temp
 * dir with a manual clock: the schedule's breaks are handed to the injector within the
 * horizon, once each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { TICKS } from "../../src/inject/planner.js";
import { ScheduleBreaks } from "../../src/pipeline/channel-breaks.js";
import { openStore, type Store } from "../../src/store/db.js";

const CH = "news";
const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
const MIN = 60_000;

let dir = "";
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-breaks-"));
  store = openStore(join(dir, "onair.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("ScheduleBreaks", () => {
  it("hands each break of the coming 10 minutes to the injector once, at its wall time", () => {
    const clock = new ManualClock(T0, 0);
    const handed: Array<[number, number, string | undefined]> = [];
    const errors: string[] = [];
    const breaks = new ScheduleBreaks({
      channel: CH,
      store,
      clock,
      target: { addBreakAtWall: (wallMs, ticks, breakId) => void handed.push([wallMs, ticks, breakId]) },
      log: pino({ level: "silent" }),
      storeError: (_err, what) => void errors.push(what),
    });
    store.replaceItems(
      CH,
      T0 - 30 * MIN,
      T0 + 60 * MIN,
      [{ startMs: T0 - 30 * MIN, durationMs: 60 * MIN, title: "news" }],
      [
        { startMs: T0 - MIN, durationMs: 30_000, breakId: "past" },
        { startMs: T0 + 5 * MIN, durationMs: 30_000, breakId: "soon" },
        { startMs: T0 + 20 * MIN, durationMs: 60_000, breakId: "later" },
      ],
    );
    breaks.refresh();
    breaks.refresh(); // once each
    expect(handed).toEqual([[T0 + 5 * MIN, 30 * TICKS, "soon"]]);
    clock.advance(12 * MIN);
    breaks.refresh();
    expect(handed.map(([, , id]) => id)).toEqual(["soon", "later"]);
    expect(handed[1]).toEqual([T0 + 20 * MIN, 60 * TICKS, "later"]);
    expect(errors).toEqual([]);
  });

  it("reports a failed lookup and goes on", () => {
    const errors: string[] = [];
    const breaks = new ScheduleBreaks({
      channel: CH,
      store,
      clock: new ManualClock(T0, 0),
      target: { addBreakAtWall: () => undefined },
      log: pino({ level: "silent" }),
      storeError: (_err, what) => void errors.push(what),
    });
    store.close();
    breaks.refresh();
    expect(errors).toEqual(["break lookup"]);
    store = openStore(join(dir, "onair.db"));
  });
});
