/**
 * The one-shot alert (`onair alert unit-failed`): its text, its config keys, its retry
 * budget and what it leaves for the outbox, against the local stand-in for Telegram.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAlert } from "../../src/alerts/messages.js";
import { sendOneShot } from "../../src/alerts/one-shot.js";
import { parseRetryFor } from "../../src/cli/alert.js";
import { parseGlobalConfig } from "../../src/config/global.js";
import { ManualClock } from "../../src/core/clock.js";
import { isOnairError } from "../../src/core/errors.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const TOKEN = "777:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

describe("unit_failed message", () => {
  it("names the unit and the host, with systemd's result and exit status when known", () => {
    const t = formatAlert({
      kind: "unit_failed",
      unit: "onair@news.service",
      host: "box<1>",
      result: "start-limit-hit",
      execMainStatus: "1",
    });
    expect(t).toContain("onair unit <code>onair@news.service</code> failed on <b>box&lt;1&gt;</b>; systemd gave up restarting it");
    expect(t).toContain("result <code>start-limit-hit</code>, last exit status <code>1</code>");
    expect(formatAlert({ kind: "unit_failed", unit: "onair.service", host: "b" })).not.toContain("result");
  });
});

describe("global config telegram.chatIds", () => {
  it("takes numbers, numeric strings and @names, refuses anything else", () => {
    expect(parseGlobalConfig('telegram:\n  chatIds: [123, "-100456", "@onair_ops"]\n').telegram.chatIds).toEqual([
      123,
      "-100456",
      "@onair_ops",
    ]);
    expect(() => parseGlobalConfig('telegram:\n  chatIds: ["ops room"]\n')).toThrow(/telegram\.chatIds/);
  });
});

describe("--retry-for", () => {
  it("reads ms, s and m up to an hour", () => {
    expect([parseRetryFor("500ms"), parseRetryFor("2s"), parseRetryFor("2m"), parseRetryFor("1500")]).toEqual([500, 2000, 120_000, 1500]);
    for (const bad of ["2h", "61m", "-1s", "soon"]) {
      let err: unknown;
      try {
        parseRetryFor(bad);
      } catch (e) {
        err = e;
      }
      expect(isOnairError(err) && err.code, bad).toBe("ONAIR_CLI_BAD_DURATION");
    }
  });
});

describe("sendOneShot", () => {
  const tg = new FakeTelegram();
  beforeAll(() => tg.start());
  afterAll(() => tg.stop());

  it("retries a 5xx after a backoff wait on the given timers until it is delivered", async () => {
    let n = 0;
    tg.answer = () => (n++ < 1 ? { status: 502 } : { status: 200 });
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const sending = sendOneShot({ token: TOKEN, chatIds: ["1"], text: "x", retryForMs: 10_000, apiRoot: tg.url, clock, timers });
    await timers.whenPending();
    const [wait] = timers.delays();
    expect(wait).toBeGreaterThanOrEqual(1000);
    expect(wait).toBeLessThanOrEqual(15_000);
    expect(n).toBe(1);
    timers.fireNext();
    const r = await sending;
    expect(r).toMatchObject({ sent: ["1"], pending: [], refused: [], attempts: 2 });
    expect(timers.size).toBe(0);
  });

  it("keeps for the outbox, without waiting, what a 429 asks to wait past the budget (each chat once)", async () => {
    tg.answer = () => ({ status: 429, retryAfterSeconds: 30 });
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const r = await sendOneShot({ token: TOKEN, chatIds: ["1", "1", "2"], text: "x", retryForMs: 5000, apiRoot: tg.url, clock, timers });
    expect(r.pending.map((p) => p.chatId)).toEqual(["1", "2"]);
    expect(r.attempts).toBe(2);
    expect(timers.size).toBe(0);
    expect(clock.monotonic()).toBe(0);
  });
});
