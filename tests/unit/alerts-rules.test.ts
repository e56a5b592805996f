/**
 * Alert rules on a hand-driven monotonic time: dedupe, flapping and the per-chat rate limit.
 */
import { describe, expect, it } from "vitest";
import type { Alert } from "../../src/alerts/messages.js";
import { AlertRules, ChatRateLimiter } from "../../src/alerts/rules.js";

const crash = (channel = "news", n = 1): Alert => ({
  kind: "channel_crashed",
  channel,
  code: 1,
  stderrTail: [],
  restartNumber: n,
  nextRetryInMs: 500,
});
const sent = (d: ReturnType<AlertRules["decide"]>): string => ("alert" in d ? d.alert.kind : `suppressed:${d.suppressed}`);

describe("dedupe", () => {
  it("sends the same channel and kind once within the window, again after it", () => {
    const r = new AlertRules({ dedupeWindowMs: 300_000 });
    expect(sent(r.decide({ kind: "slate_on", channel: "a" }, 0))).toBe("slate_on");
    expect(sent(r.decide({ kind: "slate_on", channel: "a" }, 299_999))).toBe("suppressed:duplicate");
    expect(sent(r.decide({ kind: "slate_on", channel: "b" }, 1000))).toBe("slate_on");
    expect(sent(r.decide({ kind: "cue_failed", channel: "a", reason: "x" }, 1000))).toBe("cue_failed");
    expect(sent(r.decide({ kind: "slate_on", channel: "a" }, 300_000))).toBe("slate_on");
  });

  it("reports a new episode at once: the opposite event clears the dedupe", () => {
    const r = new AlertRules({ dedupeWindowMs: 300_000 });
    expect(sent(r.decide({ kind: "slate_on", channel: "a" }, 0))).toBe("slate_on");
    expect(sent(r.decide({ kind: "slate_off", channel: "a" }, 10_000))).toBe("slate_off");
    expect(sent(r.decide({ kind: "slate_on", channel: "a" }, 20_000))).toBe("slate_on");
    expect(sent(r.decide(crash(), 30_000))).toBe("channel_crashed");
    expect(sent(r.decide({ kind: "recovered", channel: "a", outageMs: 1 }, 31_000))).toBe("recovered");
    expect(sent(r.decide({ kind: "recovered", channel: "news", outageMs: 1 }, 40_000))).toBe("recovered");
    expect(sent(r.decide(crash(), 50_000))).toBe("channel_crashed");
  });

  it("clears input_lost with input_restored, and keeps output errors of different outputs apart", () => {
    const r = new AlertRules({ dedupeWindowMs: 300_000 });
    const lost: Alert = { kind: "input_lost", channel: "a", reason: "silent" };
    expect(sent(r.decide(lost, 0))).toBe("input_lost");
    expect(sent(r.decide(lost, 1000))).toBe("suppressed:duplicate");
    expect(sent(r.decide({ kind: "input_restored", channel: "a", downMs: 5000 }, 5000))).toBe("input_restored");
    expect(sent(r.decide(lost, 6000))).toBe("input_lost");
    const out = (output: string): Alert => ({ kind: "output_error", channel: "a", output, error: "ECONNREFUSED" });
    expect(sent(r.decide(out("srt://x:9000"), 0))).toBe("output_error");
    expect(sent(r.decide(out("file:/rec/a.ts"), 0))).toBe("output_error");
    expect(sent(r.decide(out("srt://x:9000"), 1000))).toBe("suppressed:duplicate");
  });

  it("keeps box-wide alerts about different paths apart", () => {
    const r = new AlertRules();
    expect(sent(r.decide({ kind: "disk_low", role: "data", path: "/a", freeBytes: 1 }, 0))).toBe("disk_low");
    expect(sent(r.decide({ kind: "disk_low", role: "data", path: "/b", freeBytes: 1 }, 0))).toBe("disk_low");
    expect(sent(r.decide({ kind: "disk_low", role: "data", path: "/a", freeBytes: 1 }, 1))).toBe("suppressed:duplicate");
  });
});

describe("flapping", () => {
  it("turns 10 crashes in a minute into one crash alert and one flapping alert", () => {
    const r = new AlertRules({ dedupeWindowMs: 300_000, flapping: () => ({ restarts: 5, windowMs: 600_000 }) });
    const out = Array.from({ length: 10 }, (_, i) => r.decide(crash("news", i + 1), i * 6000)).map(sent);
    expect(out).toEqual([
      "channel_crashed",
      "suppressed:duplicate",
      "suppressed:duplicate",
      "suppressed:duplicate",
      "flapping",
      "suppressed:flapping",
      "suppressed:flapping",
      "suppressed:flapping",
      "suppressed:flapping",
      "suppressed:flapping",
    ]);
    expect(r.isFlapping("news")).toBe(true);
  });

  it("reports the restarts and the window in the flapping alert", () => {
    const r = new AlertRules({ flapping: () => ({ restarts: 3, windowMs: 120_000 }) });
    r.decide(crash(), 0);
    r.decide(crash(), 1000);
    const d = r.decide(crash(), 2000);
    expect("alert" in d && d.alert).toEqual({ kind: "flapping", channel: "news", restarts: 3, windowMs: 120_000 });
  });

  it("suppresses crashes until recovery, then sends the recovery once", () => {
    const r = new AlertRules({ flapping: () => ({ restarts: 2, windowMs: 60_000 }) });
    r.decide(crash(), 0);
    expect(sent(r.decide(crash(), 1000))).toBe("flapping");
    expect(sent(r.decide(crash(), 2000))).toBe("suppressed:flapping");
    expect(sent(r.decide({ kind: "recovered", channel: "news", outageMs: 3000 }, 3000))).toBe("recovered");
    expect(r.isFlapping("news")).toBe(false);
    expect(sent(r.decide({ kind: "recovered", channel: "news", outageMs: 3000 }, 4000))).toBe("suppressed:duplicate");
  });

  it("counts crashes only within the window, and a quiet window ends the episode", () => {
    const r = new AlertRules({ dedupeWindowMs: 1000, flapping: () => ({ restarts: 3, windowMs: 60_000 }) });
    expect(sent(r.decide(crash(), 0))).toBe("channel_crashed");
    expect(sent(r.decide(crash(), 50_000))).toBe("channel_crashed");
    expect(sent(r.decide(crash(), 100_000))).toBe("channel_crashed"); // the one at 0 left the window
    expect(sent(r.decide(crash(), 101_000))).toBe("flapping");
    expect(sent(r.decide(crash(), 150_000))).toBe("suppressed:flapping");
    expect(sent(r.decide(crash(), 300_000))).toBe("channel_crashed"); // quiet window: episode over
    expect(r.isFlapping("news")).toBe(false);
  });

  it("keeps channels apart", () => {
    const r = new AlertRules({ flapping: () => ({ restarts: 2, windowMs: 60_000 }) });
    r.decide(crash("a"), 0);
    expect(sent(r.decide(crash("b"), 1))).toBe("channel_crashed");
    expect(sent(r.decide(crash("a"), 2))).toBe("flapping");
    expect(r.isFlapping("b")).toBe(false);
  });
});

describe("ChatRateLimiter", () => {
  it("spaces messages to one chat by the minimum interval", () => {
    const l = new ChatRateLimiter({ minIntervalMs: 1000, perMinute: 20 });
    expect(l.waitMs("c", 0)).toBe(0);
    l.record("c", 0);
    expect(l.waitMs("c", 400)).toBe(600);
    expect(l.waitMs("other", 400)).toBe(0);
    expect(l.waitMs("c", 1000)).toBe(0);
  });

  it("holds a chat that used its per-minute budget until the oldest send is a minute old", () => {
    const l = new ChatRateLimiter({ minIntervalMs: 1000, perMinute: 20 });
    for (let i = 0; i < 20; i++) {
      expect(l.waitMs("g", i * 1000)).toBe(0);
      l.record("g", i * 1000);
    }
    expect(l.waitMs("g", 20_000)).toBe(40_000);
    expect(l.waitMs("g", 59_999)).toBe(1);
    expect(l.waitMs("g", 60_000)).toBe(0);
  });
});
