import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { openStore, type Store } from "../../src/store/db.js";
import { StoreWriteQueue, probeWrite } from "../../src/store/write-queue.js";
import { ManualTimers } from "../helpers/manual-timers.js";

let dir: string;
let store: Store;
const clock = new ManualClock(1_750_000_000_000, 0);

/** A store that refuses writes (SQLITE_READONLY through query_only) until `heal()`. */
const breakStore = (): void => void store.raw.pragma("query_only = ON");
const heal = (): void => void store.raw.pragma("query_only = OFF");
const asRun =
  (n: number) =>
  (st: Store): void =>
    void st.insertAsRun({ channel: "c", kind: "cue", actualMs: n, eventId: n });
const rows = (): number[] => store.queryAsRun({ channel: "c" }).map((r) => r.eventId ?? -1);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-wq-"));
  store = openStore(join(dir, "onair.db"), { clock });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("StoreWriteQueue", () => {
  it("writes at once while the store works", () => {
    const q = new StoreWriteQueue({ store, clock });
    expect(q.write("as-run", "c", asRun(1))).toBe(true);
    expect(rows()).toEqual([1]);
    expect(q.stats()).toMatchObject({ queued: 0, failures: 0 });
    q.close();
  });

  it("holds failed writes in order, alerts once per outage, and writes them when the store works again", () => {
    const events: string[] = [];
    const errors: unknown[] = [];
    const q = new StoreWriteQueue({
      store,
      clock,
      onError: (e) => errors.push(e),
      onOutage: () => events.push("outage"),
      onRecovered: (r) => events.push(`recovered ${r.written} ${r.dropped} ${r.outageMs}`),
    });
    q.write("as-run", "c", asRun(1));
    breakStore();
    for (let n = 2; n <= 5; n++) expect(q.write("as-run", "c", asRun(n))).toBe(false);
    // the first failure tried the store; the rows behind it queue without a try each
    expect(errors.length).toBe(1);
    q.flush();
    expect(errors.length).toBe(2);
    expect(q.stats().queued).toBe(4);
    expect(events).toEqual(["outage"]);
    clock.advance(7000);
    heal();
    // a row written after the store healed still goes after the held-back ones
    q.write("as-run", "c", asRun(6));
    expect(rows()).toEqual([1]);
    q.flush();
    expect(rows()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events).toEqual(["outage", "recovered 5 0 7000"]);
    expect(q.stats()).toMatchObject({ queued: 0, failures: 2, retried: 5, dropped: 0, outages: 1 });
    // a second outage is a new episode
    breakStore();
    q.write("as-run", "c", asRun(7));
    expect(events.filter((e) => e === "outage")).toHaveLength(2);
    heal();
    expect(q.close()).toBe(0);
    expect(rows()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("keeps at most `max` rows, dropping the oldest and counting them", () => {
    const dropped: string[] = [];
    let recovered: { written: number; dropped: number } | undefined;
    const q = new StoreWriteQueue({ store, clock, max: 3, onDropped: (w) => dropped.push(w.what), onRecovered: (r) => (recovered = r) });
    breakStore();
    for (let n = 1; n <= 5; n++) q.write(`row ${n}`, "c", asRun(n));
    expect(q.stats()).toMatchObject({ queued: 3, dropped: 2 });
    expect(dropped).toEqual(["row 1", "row 2"]);
    heal();
    q.flush();
    expect(rows()).toEqual([3, 4, 5]);
    expect(recovered).toMatchObject({ written: 3, dropped: 2 });
    q.close();
  });

  it("retries on its own every retryMs on the given timers, and stops once everything is written", () => {
    const timers = new ManualTimers(clock);
    const q = new StoreWriteQueue({ store, clock, timers, retryMs: 20 });
    expect(timers.size).toBe(0);
    breakStore();
    q.write("as-run", "c", asRun(1));
    expect(timers.delays()).toEqual([20]);
    timers.advance(20);
    expect(rows()).toEqual([]);
    expect(q.stats()).toMatchObject({ queued: 1, failures: 2 });
    heal();
    timers.advance(19);
    expect(rows()).toEqual([]);
    timers.advance(1);
    expect(rows()).toEqual([1]);
    expect(timers.size).toBe(0);
    q.close();
  });

  it("a write that could not wait starts an outage; health() names it, a probe write ends it", () => {
    const events: string[] = [];
    const q = new StoreWriteQueue({
      store,
      clock,
      probe: probeWrite,
      onOutage: (_e, w) => events.push(`outage ${w.what} of ${w.channel}`),
      onRecovered: (r) => events.push(`recovered ${r.written} ${r.outageMs}`),
    });
    expect(q.health()).toEqual({ ok: true });
    breakStore();
    let err: unknown;
    try {
      store.allocateSpliceEventId("c");
    } catch (e) {
      err = e;
    }
    const since = clock.now();
    q.noteFailure(err, "splice_event_id allocation", "c");
    expect(q.health()).toMatchObject({ ok: false, since, what: "splice_event_id allocation", channel: "c", error: err });
    // nothing waits, so a retry round probes the store: still failing
    q.flush();
    expect(q.stats()).toMatchObject({ queued: 0, failures: 2, outages: 1 });
    expect(q.health().ok).toBe(false);
    clock.advance(4000);
    heal();
    q.flush();
    expect(q.health()).toEqual({ ok: true });
    expect(events).toEqual(["outage splice_event_id allocation of c", "recovered 0 4000"]);
    q.close();
  });

  it("close() tries once more and reports what is still lost", () => {
    const q = new StoreWriteQueue({ store, clock });
    breakStore();
    q.write("as-run", "c", asRun(1));
    q.write("as-run", "c", asRun(2));
    expect(q.close()).toBe(2);
    heal();
  });
});
