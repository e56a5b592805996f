import { describe, expect, it } from "vitest";
import { runClosers, type Closer } from "../../src/daemon/shutdown.js";
import { ManualTimers } from "../helpers/manual-timers.js";

/** Closers that note when they are called and with which `late`. */
function recorder() {
  const calls: string[] = [];
  const make = (name: string, body: () => void | Promise<void> = () => undefined): Closer => ({
    name,
    close: ({ late }) => {
      calls.push(late ? `${name} (late)` : name);
      return body();
    },
  });
  return { calls, make };
}

describe("shutdown closers", () => {
  it("runs the closers in order, each awaited, and clears the deadline timer", async () => {
    const timers = new ManualTimers();
    const { calls, make } = recorder();
    let releaseB!: () => void;
    let reachedB!: () => void;
    const atB = new Promise<void>((r) => (reachedB = r));
    const b = (): Promise<void> => {
      reachedB();
      return new Promise<void>((r) => (releaseB = r));
    };
    const run = runClosers([make("a"), make("b", b), make("c")], { deadlineMs: 10_000, timers });
    await atB;
    expect(calls).toEqual(["a", "b"]);
    releaseB();
    const report = await run;
    expect(calls).toEqual(["a", "b", "c"]);
    expect(report).toEqual({ failed: [], late: false });
    expect(timers.size).toBe(0);
  });

  it("goes on after a closer that throws or rejects, and reports it", async () => {
    const { calls, make } = recorder();
    const failed: [string, unknown][] = [];
    const report = await runClosers(
      [
        make("a", () => {
          throw new Error("sync");
        }),
        make("b", () => Promise.reject(new Error("async"))),
        make("c"),
      ],
      { deadlineMs: 10_000, timers: new ManualTimers(), onFailed: (name, err) => failed.push([name, (err as Error).message]) },
    );
    expect(calls).toEqual(["a", "b", "c"]);
    expect(report.failed).toEqual(["a", "b"]);
    expect(failed).toEqual([
      ["a", "sync"],
      ["b", "async"],
    ]);
  });

  it("at the deadline abandons a hanging closer, names it, and still calls the rest (late, not waited for)", async () => {
    const timers = new ManualTimers();
    const { calls, make } = recorder();
    const told: (string | undefined)[] = [];
    const never = new Promise<void>(() => undefined);
    let reached!: () => void;
    const atChannels = new Promise<void>((r) => (reached = r));
    const hang = (): Promise<void> => {
      reached();
      return never;
    };
    const run = runClosers([make("http"), make("channels", hang), make("store"), make("logger", () => never)], {
      deadlineMs: 10_000,
      timers,
      onDeadline: (name) => told.push(name),
    });
    await atChannels;
    expect(calls).toEqual(["http", "channels"]);
    expect(timers.delays()).toEqual([10_000]);
    timers.fireNext();
    const report = await run;
    expect(told).toEqual(["channels"]);
    expect(calls).toEqual(["http", "channels", "store (late)", "logger (late)"]);
    expect(report).toEqual({ failed: [], late: true, abandoned: "channels" });
    expect(timers.size).toBe(0);
  });
});
