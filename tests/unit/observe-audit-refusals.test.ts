import { describe, expect, test } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import type { AuditInput } from "../../src/observe/audit.js";
import { isRefusal, OVERFLOW_REMOTE, RefusalAggregator, type RefusalLine } from "../../src/observe/audit-refusals.js";

const T0 = Date.parse("2030-05-01T08:00:00Z");

const denied = (remote: string, action = "cue.add"): AuditInput => ({
  who: "anonymous",
  via: "http",
  action,
  channel: "news",
  result: "denied",
  status: 401,
  detail: "ONAIR_API_UNAUTHORIZED",
  remote,
});
const limited = (remote: string): AuditInput => ({
  who: "token:ops",
  via: "http",
  action: "cue.add",
  channel: "news",
  result: "rate_limited",
  status: 429,
  detail: "ONAIR_API_RATE_LIMITED",
  remote,
});

function setup(maxKeys?: number): { clock: ManualClock; agg: RefusalAggregator; out: RefusalLine[] } {
  const clock = new ManualClock(T0);
  const out: RefusalLine[] = [];
  const agg = new RefusalAggregator({ clock, emit: (l) => out.push(l), ...(maxKeys ? { maxKeys } : {}) });
  return { clock, agg, out };
}

describe("refused requests in the audit log", () => {
  test("401, 403 and 429 are refusals; other results are not", () => {
    expect([401, 403, 429].map((status) => isRefusal({ status }))).toEqual([true, true, true]);
    expect([200, 201, 400, 404, 409, 413, 500, undefined].map((status) => isRefusal({ status }))).toEqual(Array(8).fill(false));
  });

  test("one line per peer, caller and reason per minute, with a count, written at the minute boundary", () => {
    const { clock, agg, out } = setup();
    agg.add(denied("10.0.0.1"));
    clock.advance(10_000);
    agg.add(denied("10.0.0.2"));
    agg.add(denied("10.0.0.1", "channel.restart"));
    agg.add(limited("10.0.0.1"));
    clock.advance(49_999);
    agg.add(denied("10.0.0.1"));
    expect(agg.msToBoundary()).toBe(1);
    agg.flushEnded();
    expect(out).toEqual([]); // the minute is not over
    clock.advance(1);
    agg.flushEnded();
    expect(out).toEqual([
      {
        when: "2030-05-01T08:00:00.000Z",
        last: "2030-05-01T08:00:59.999Z",
        who: "anonymous",
        via: "http",
        action: "refused",
        result: "denied",
        status: 401,
        detail: "ONAIR_API_UNAUTHORIZED",
        remote: "10.0.0.1",
        count: 3,
        actions: { "cue.add": 2, "channel.restart": 1 },
      },
      expect.objectContaining({ remote: "10.0.0.2", count: 1, when: "2030-05-01T08:00:10.000Z", last: "2030-05-01T08:00:10.000Z" }),
      expect.objectContaining({ remote: "10.0.0.1", who: "token:ops", status: 429, result: "rate_limited", count: 1 }),
    ]);
    expect(agg.size).toBe(0);
    expect(agg.msToBoundary()).toBeUndefined();
  });

  test("a refusal in a later minute first writes the earlier minute's lines", () => {
    const { clock, agg, out } = setup();
    agg.add(denied("10.0.0.1"));
    agg.add(denied("10.0.0.1"));
    clock.advance(61_000);
    agg.add(denied("10.0.0.1"));
    expect(out).toEqual([expect.objectContaining({ remote: "10.0.0.1", count: 2 })]);
    agg.flush();
    expect(out.map((l) => [l.when, l.count])).toEqual([
      ["2030-05-01T08:00:00.000Z", 2],
      ["2030-05-01T08:01:01.000Z", 1],
    ]);
  });

  test("flush() at shutdown writes what is pending: every refusal is counted exactly once", () => {
    const { clock, agg, out } = setup();
    let added = 0;
    for (let i = 0; i < 5000; i++) {
      agg.add(denied(`10.0.0.${i % 7}`, i % 3 === 0 ? "channel.restart" : "cue.add"));
      added++;
      clock.advance(37); // crosses three minute boundaries
    }
    agg.flush();
    expect(out.reduce((n, l) => n + l.count, 0)).toBe(added);
    expect(out.length).toBe(4 * 7);
    expect(agg.size).toBe(0);
  });

  test("past maxKeys pending aggregates, further peers share one overflow line", () => {
    const { agg, out } = setup(3);
    for (let i = 0; i < 10; i++) agg.add(denied(`10.0.0.${i}`));
    agg.add(denied("10.0.0.1"));
    agg.flush();
    expect(out.map((l) => [l.remote, l.count])).toEqual([
      ["10.0.0.0", 1],
      ["10.0.0.1", 2],
      ["10.0.0.2", 1],
      [OVERFLOW_REMOTE, 7],
    ]);
  });
});
