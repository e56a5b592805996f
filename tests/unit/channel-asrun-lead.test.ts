/**
 * The lead time a channel writes in a cue's as-run row (and logs with cue_sent) is the
 * injector's figure, right across the 33-bit PTS wrap: a cue sent a few seconds before the
 * wrap for a splice point after it leads by its preroll, not by minus one wrap (95 443 s).
 * The channel is built but not started: a synthetic stream (tests/helpers/synth-ts.ts)
 * whose PCR starts just before 2^33 is fed to its injector, with an injected clock and a
 * real store in a temp dir.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { TICKS } from "../../src/inject/planner.js";
import { Channel } from "../../src/pipeline/channel.js";
import { openStore, type Store } from "../../src/store/db.js";
import { PTS_MODULUS } from "../../src/ts/timestamps.js";
import { testProfile } from "../helpers/channel.js";
import { synthStream } from "../helpers/synth-ts.js";

const T0 = Date.UTC(2026, 11, 7, 1, 52, 49);

let dir = "";
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-asrun-lead-"));
  store = openStore(join(dir, "onair.db"));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("channel: cue lead time in the as-run log", () => {
  it("writes a cue's lead as its preroll when the PTS wraps between the send and the splice point", () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
    const clock = new ManualClock(T0, 0);
    const profile = testProfile({ udpPort: 9, scte35: { heartbeatSeconds: 0, prerollSeconds: 6 }, epg: { enabled: false } });
    const channel = new Channel({ profile, store, logger, dataDir: dir, ffmpegPath: "ffmpeg", clock });
    // the PCR wraps 10 s into the stream; the break is due 12 s in, armed 6 s before
    const stream = synthStream({ startPcr: PTS_MODULUS - 10 * TICKS });
    const feed = (seconds: number): void => {
      for (let s = 0; s < seconds; s++) {
        const chunk = stream.next().value as Buffer;
        channel.injector.process(chunk, 0, chunk.length / 188, () => undefined, true);
      }
    };
    feed(1);
    channel.injector.addBreakAtWall(T0 + 12_000, 20 * TICKS);
    feed(40);

    const rows = store.queryAsRun({ kind: "cue" });
    const out = rows.find((r) => (r.details as { kind: string }).kind === "out")!;
    expect(out).toBeDefined();
    // the splice point lies past the wrap, the cue went out before it
    expect(out.pts!).toBeLessThan(5 * TICKS);
    const lead = (out.details as { leadSeconds: number }).leadSeconds;
    expect(lead).toBeCloseTo(6, 1); // sent at the preroll, in the next free slot
    const logged = logs.filter((l) => l.event === "cue_sent" && l.kind === "out");
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) {
      expect(l.leadSeconds as number).toBeGreaterThan(0);
      expect(l.leadSeconds as number).toBeLessThan(6.5);
    }
  });
});
