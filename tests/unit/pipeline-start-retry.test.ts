import { describe, expect, it } from "vitest";
import { StartRetry } from "../../src/pipeline/start-retry.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { waitEvent } from "../helpers/pipeline.js";
import { EventEmitter } from "node:events";

/** A logger that keeps the lines and tells when one is written. */
function memoryLogger(): { lines: Record<string, unknown>[]; events: EventEmitter; info(o: object): void; error(o: object): void } {
  const lines: Record<string, unknown>[] = [];
  const events = new EventEmitter();
  const write = (o: object): void => {
    lines.push(o as Record<string, unknown>);
    events.emit("line", o);
  };
  return { lines, events, info: write, error: write };
}

const restart = { backoffMinSeconds: 0.01, backoffMaxSeconds: 0.04, maxRetries: null };

describe("StartRetry", () => {
  it("tries a failed start again with backoff, a log line per attempt, until it starts", async () => {
    const log = memoryLogger();
    let calls = 0;
    const failed: Array<{ attempt: number; nextRetryInMs: number | null }> = [];
    const s = new StartRetry({
      channel: "c",
      restart,
      logger: log,
      start: () => (++calls < 3 ? Promise.reject(Object.assign(new Error("no slate"), { code: "ONAIR_SLATE_ENCODE" })) : Promise.resolve()),
      onFailed: (e) => failed.push({ attempt: e.attempt, nextRetryInMs: e.nextRetryInMs }),
    });
    await s.run();
    expect(calls).toBe(1);
    await waitEvent(log.events, "line", 2000, (l: { event?: string }) => l.event === "channel_started");
    expect(log.lines.map((l) => [l.event, l.attempt ?? l.attempts])).toEqual([
      ["channel_start_failed", 1],
      ["channel_start_failed", 2],
      ["channel_started", 3],
    ]);
    expect(log.lines[0]).toMatchObject({ channel: "c", code: "ONAIR_SLATE_ENCODE" });
    for (const f of failed) expect(f.nextRetryInMs).toBeGreaterThanOrEqual(10);
    expect(failed.map((f) => f.attempt)).toEqual([1, 2]);
  });

  it("gives up after restart.maxRetries retries, and cancel() ends the retries", async () => {
    const log = memoryLogger();
    let calls = 0;
    const give = new StartRetry({
      channel: "c",
      restart: { ...restart, maxRetries: 1 },
      logger: log,
      start: () => (calls++, Promise.reject(new Error("x"))),
    });
    await give.run();
    await waitEvent(log.events, "line", 2000, (l: { event?: string }) => l.event === "channel_start_abandoned");
    expect(calls).toBe(2);

    // cancel(): the pending retry is dropped (timers fired by hand)
    const timers = new ManualTimers();
    let later = 0;
    const cancelled = new StartRetry({
      channel: "d",
      restart,
      logger: memoryLogger(),
      timers,
      start: () => (later++, Promise.reject(new Error("x"))),
    });
    await cancelled.run();
    expect(timers.size).toBe(1);
    await cancelled.cancel();
    expect(timers.size).toBe(0);
    expect(later).toBe(1);
  });
});
