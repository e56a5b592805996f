/**
 * A channel's API cues between the store and the injector (src/pipeline/channel-cues.ts),
 * with an injected clock and a real store in a temp dir: accepted cues are stored before
 * anything else, handed over only within an hour, re-armed by a new run under their
 * splice_event_id, closed as aired or missed, and checked at the edge.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { Injector, type InjectorEvent } from "../../src/inject/injector.js";
import { TICKS, defaultCuePlanConfig } from "../../src/inject/planner.js";
import { ChannelCues, type CueTarget } from "../../src/pipeline/channel-cues.js";
import { listCueRequests } from "../../src/store/cue-requests.js";
import { openStore, type Store } from "../../src/store/db.js";
import { PTS_MODULUS } from "../../src/ts/timestamps.js";
import { synthStream } from "../helpers/synth-ts.js";

const CH = "news";
const T0 = Date.UTC(2026, 11, 7, 1, 52, 49);
const WRAP_MS = (PTS_MODULUS / TICKS) * 1000;

interface Armed {
  kind: "wall" | "now";
  id: number | undefined;
  wallMs?: number;
  ticks: number;
}

class RecordingTarget implements CueTarget {
  readonly armed: Armed[] = [];
  addBreakAtWall(wallMs: number, ticks: number, _b?: string, id?: number): void {
    this.armed.push({ kind: "wall", id, wallMs, ticks });
  }
  addImmediateBreak(ticks: number, _b?: string, id?: number): void {
    this.armed.push({ kind: "now", id, ticks });
  }
  cancelBreak(): boolean {
    return false;
  }
  returnBreak(): number {
    return -1;
  }
}

let dir = "";
let store: Store;
let clock: ManualClock;
let logs: string[];
let missed: Array<{ id: number; reason: string }>;

function cues(target: CueTarget, s: Store = store): ChannelCues {
  return new ChannelCues({
    channel: CH,
    store: s,
    clock,
    target,
    log: pino({ level: "info" }, { write: (l: string) => void logs.push(l) }),
    prerollMs: 6000,
    write: (_what, run) => run(s),
    onMissed: (c, reason) => missed.push({ id: c.spliceEventId, reason }),
  });
}

const events = (name: string): Array<Record<string, unknown>> =>
  logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === name);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-cues-"));
  clock = new ManualClock(T0, 0);
  store = openStore(join(dir, "onair.db"), { clock });
  logs = [];
  missed = [];
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("channel cues: far ahead", () => {
  it("accepts a cue one PTS wrap + 50 s ahead, stores it pending and does not air it in the next 90 s", () => {
    let id = 0;
    const sent: InjectorEvent[] = [];
    const inj = new Injector({
      cue: defaultCuePlanConfig(),
      allocateEventId: () => ++id,
      startWall: () => clock.now(),
      onEvent: (e) => e.event === "cue_sent" && sent.push(e),
    });
    const c = cues(inj);
    const stream = synthStream();
    const feed = (seconds: number): void => {
      for (let s = 0; s < seconds; s++) {
        const chunk = stream.next().value as Buffer;
        inj.process(chunk, 0, chunk.length / 188, () => undefined, true);
        clock.advance(1000);
        c.refresh();
      }
    };
    feed(2);
    const spliceEventId = c.add(30, clock.now() + WRAP_MS + 50_000);
    feed(90);
    expect(sent).toEqual([]);
    expect(inj.planner.planned).toEqual([]);
    expect(listCueRequests(store, CH)).toMatchObject([{ spliceEventId, state: "pending", immediate: false, durationMs: 30_000 }]);
  });

  it("hands a stored cue to the injector only once it is within an hour, under its splice_event_id", () => {
    const target = new RecordingTarget();
    const c = cues(target);
    const at = T0 + 26 * 3_600_000;
    const id = c.add(60, at);
    c.refresh();
    expect(target.armed).toEqual([]);
    clock.set(at - 3_600_000 - 1000);
    c.refresh();
    expect(target.armed).toEqual([]);
    clock.set(at - 3_600_000);
    c.refresh();
    c.refresh();
    expect(target.armed).toEqual([{ kind: "wall", id, wallMs: at, ticks: 60 * TICKS }]);
  });
});

describe("channel cues: restarts", () => {
  it("re-arms a stored cue in a new run under the same splice_event_id", () => {
    const id = cues(new RecordingTarget()).add(40, T0 + 40_000);
    // the daemon restarts: a new run on the same store
    store.close();
    store = openStore(join(dir, "onair.db"), { clock });
    clock.advance(5000);
    const target = new RecordingTarget();
    cues(target).refresh();
    expect(target.armed).toEqual([{ kind: "wall", id, wallMs: T0 + 40_000, ticks: 40 * TICKS }]);
    expect(events("cue_armed")).toMatchObject([{ spliceEventId: id, at: new Date(T0 + 40_000).toISOString() }]);
  });

  it("does not arm again a cue that aired", () => {
    const first = cues(new RecordingTarget());
    const id = first.add(40, T0 + 40_000);
    clock.advance(34_000);
    store.transaction("as-run", () => first.markAired(store, id, clock.now()));
    expect(listCueRequests(store, CH)).toMatchObject([{ spliceEventId: id, state: "aired", doneMs: T0 + 34_000 }]);
    const target = new RecordingTarget();
    cues(target).refresh();
    expect(target.armed).toEqual([]);
  });

  it("closes a cue whose time passed while nothing ran as missed: log, as-run row not aired, alert callback, once", () => {
    const id = cues(new RecordingTarget()).add(30, T0 + 20_000);
    const now = cues(new RecordingTarget()).add(15); // "now", then the daemon died
    clock.advance(60_000);
    const target = new RecordingTarget();
    const c = cues(target);
    c.refresh();
    c.refresh();
    expect(target.armed).toEqual([]);
    // oldest splice time first
    expect(missed.map((m) => m.id)).toEqual([now, id]);
    expect(missed[1].reason).toContain(new Date(T0 + 20_000).toISOString());
    expect(events("cue_missed").map((e) => e.spliceEventId)).toEqual([now, id]);
    expect(listCueRequests(store, CH).map((r) => [r.spliceEventId, r.state])).toEqual([
      [id, "missed"],
      [now, "missed"],
    ]);
    const rows = store.queryAsRun({ channel: CH, kind: "cue" });
    expect(rows.map((r) => [r.eventId, r.scheduledMs, r.actualMs])).toEqual([
      [now, T0, T0 + 60_000],
      [id, T0 + 20_000, T0 + 60_000],
    ]);
    expect(rows[1].details).toMatchObject({ aired: false, durationSeconds: 30 });
  });
});

describe("channel cues: requests", () => {
  it("arms an immediate cue at once and keeps the time of the request as its scheduled time", () => {
    const target = new RecordingTarget();
    const c = cues(target);
    const id = c.add(30);
    expect(target.armed).toEqual([{ kind: "now", id, ticks: 30 * TICKS }]);
    expect(c.requestedMs(id)).toBe(T0);
    expect(listCueRequests(store, CH)).toMatchObject([{ spliceEventId: id, atMs: T0, immediate: true, state: "pending" }]);
  });

  it("refuses a duration under 1 s or over 24 h, a time in the past and one more than 7 days ahead, storing nothing", () => {
    const c = cues(new RecordingTarget());
    expect(codeOf(() => c.add(0.0001))).toBe("ONAIR_CUE_BAD_DURATION");
    expect(codeOf(() => c.add(0.5, T0 + 60_000))).toBe("ONAIR_CUE_BAD_DURATION");
    expect(codeOf(() => c.add(86_401))).toBe("ONAIR_CUE_BAD_DURATION");
    expect(codeOf(() => c.add(30, T0 - 2000))).toBe("ONAIR_CUE_IN_PAST");
    expect(codeOf(() => c.add(30, T0 + 7 * 86_400_000 + 1))).toBe("ONAIR_CUE_BEYOND_HORIZON");
    expect(listCueRequests(store, CH)).toEqual([]);
    expect(store.raw.prepare("SELECT count(*) FROM splice_counters").pluck().get()).toBe(0);
    // the edges themselves are accepted
    expect(c.add(1, T0 + 7 * 86_400_000)).toBe(1);
    expect(c.add(86_400, T0 - 1000)).toBe(2);
  });

  it("gives every accepted cue its own splice_event_id from the channel's persisted counter", () => {
    const c = cues(new RecordingTarget());
    const ids = [c.add(30), c.add(30, T0 + 10_000), c.add(30, T0 + 5 * 86_400_000)];
    expect(ids).toEqual([1, 2, 3]);
    expect(store.allocateSpliceEventId(CH)).toBe(4);
  });
});

describe("channel cues: early return and cancel", () => {
  function live() {
    let id = 0;
    const sent: InjectorEvent[] = [];
    const inj = new Injector({
      cue: defaultCuePlanConfig(),
      allocateEventId: () => ++id,
      startWall: () => clock.now(),
      onEvent: (e) => e.event === "cue_sent" && sent.push(e),
    });
    const c = cues(inj);
    const stream = synthStream();
    const feed = (seconds: number): void => {
      for (let s = 0; s < seconds; s++) {
        const chunk = stream.next().value as Buffer;
        inj.process(chunk, 0, chunk.length / 188, () => undefined, true);
        clock.advance(1000);
        c.refresh();
      }
    };
    return { c, sent, feed };
  }

  it("returns a cue on air early: an in cue with its id, the request closed as returned", () => {
    const { c, sent, feed } = live();
    feed(2);
    const id = c.add(60);
    expect(codeOf(() => c.returnEarly(id))).toBe("ONAIR_CUE_NOT_ON_AIR");
    feed(10);
    c.markAired(store, id, clock.now()); // the channel does this with the out cue's as-run row
    c.returnEarly(id);
    expect(listCueRequests(store, CH)).toMatchObject([{ spliceEventId: id, state: "returned", doneMs: clock.now() }]);
    feed(8);
    expect(sent.filter((e) => e.kind === "in").map((e) => e.spliceEventId)).toEqual([id, id, id]);
    expect(events("cue_return")).toMatchObject([{ spliceEventId: id }]);
    expect(codeOf(() => c.returnEarly(id))).toBe("ONAIR_CUE_NOT_ON_AIR");
    expect(codeOf(() => c.cancel(id))).toBe("ONAIR_CUE_NOT_PENDING");
    expect(codeOf(() => c.returnEarly(id + 1000))).toBe("ONAIR_CUE_UNKNOWN");
  });

  it("cancels a pending cue (armed or still in the store only), closed as cancelled, and refuses it once on air", () => {
    const { c, sent, feed } = live();
    feed(2);
    const near = c.add(30, clock.now() + 30_000);
    const far = c.add(30, clock.now() + 2 * 3_600_000);
    const onAir = c.add(30);
    feed(1);
    c.cancel(near);
    c.cancel(far);
    expect(codeOf(() => c.cancel(near))).toBe("ONAIR_CUE_NOT_PENDING");
    feed(12);
    expect(codeOf(() => c.cancel(onAir))).toBe("ONAIR_CUE_NOT_PENDING");
    expect(codeOf(() => c.cancel(4242))).toBe("ONAIR_CUE_UNKNOWN");
    const states = Object.fromEntries(listCueRequests(store, CH).map((r) => [r.spliceEventId, r.state]));
    expect(states).toMatchObject({ [near]: "cancelled", [far]: "cancelled" });
    expect(sent.filter((e) => e.spliceEventId === near).map((e) => e.kind)).toEqual(["cancel", "cancel", "cancel"]);
    expect(sent.filter((e) => e.spliceEventId === far)).toEqual([]);
    // the store keeps a cancelled cue from being armed again, also after 2 h
    clock.advance(2 * 3_600_000);
    c.refresh();
    expect(sent.filter((e) => e.spliceEventId === far)).toEqual([]);
  });
});
