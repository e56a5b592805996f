/** The Injector stage driven directly (as the daemon will), on an FFmpeg-made TS. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Injector } from "../../src/inject/injector.js";
import { TICKS, defaultCuePlanConfig } from "../../src/inject/planner.js";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { TsReader } from "../../src/ts/reader.js";
import { cleanupTestTs, haveFfmpeg, makeTestTs } from "../helpers/ffmpeg.js";
import { scanTs } from "../helpers/tsscan.js";

function runStage(input: Uint8Array, injector: Injector): Buffer {
  const out: Buffer[] = [];
  const reader = new TsReader({ onPackets: (b, s, c) => injector.process(b, s, c, (o) => out.push(Buffer.from(o))) });
  // feed in odd chunk sizes, as a pipe would
  for (let pos = 0, k = 0; pos < input.length; k++) {
    const n = [65536, 1000, 7, 188 * 40][k % 4];
    reader.push(input.subarray(pos, pos + n));
    pos += n;
  }
  reader.end();
  injector.end();
  return Buffer.concat(out);
}

describe.runIf(haveFfmpeg())("injector stage", () => {
  let input: Uint8Array;
  beforeAll(async () => {
    input = new Uint8Array(readFileSync(await makeTestTs({ seconds: 30, name: "stage-30s.ts" })));
  });
  afterAll(() => cleanupTestTs());

  it("cancels a planned break: a cancel with the same id follows, sent 3 times like other cues, and no more out cues", () => {
    let id = 40;
    let injector: Injector | undefined = undefined;
    const inj = new Injector({
      cue: defaultCuePlanConfig(),
      allocateEventId: () => ++id,
      startWall: 0,
      onEvent: (e) => {
        if (e.event === "cue_sent" && e.kind === "out") expect(injector!.cancelBreak(e.spliceEventId as number)).toBe(true);
      },
    });
    injector = inj;
    inj.addBreakFromStart(15 * TICKS, 10 * TICKS);
    const out = runStage(input, inj);
    const cues = scanTs(out, [500]).sections.map((s) => {
      const section = decodeSpliceInfoSection(s.bytes);
      if (section.encryptedPacket) throw new Error("encrypted cue");
      return section.spliceCommand as SpliceInsert;
    });
    expect(cues.map((c) => [c.spliceEventId, c.spliceEventCancelIndicator])).toEqual([
      [41, false],
      [41, true],
      [41, true],
      [41, true],
    ]);
    expect(inj.cancelBreak(999)).toBe(false);
  });

  it("gives the same output whatever the chunking, same as a whole-buffer run", () => {
    const mk = (): Injector => {
      let id = 0;
      const i = new Injector({ cue: defaultCuePlanConfig(), allocateEventId: () => ++id, startWall: 0 });
      i.addBreakFromStart(12 * TICKS, 6 * TICKS);
      return i;
    };
    const a = runStage(input, mk());
    const whole: Buffer[] = [];
    const inj = mk();
    const reader = new TsReader({ onPackets: (b, s, c) => inj.process(b, s, c, (o) => whole.push(Buffer.from(o))) });
    reader.push(input);
    reader.end();
    expect(Buffer.concat(whole).equals(a)).toBe(true);
    expect(a.length).toBe(input.length);
  });

  it("maps a wall-clock break to stream time from the start wall", () => {
    let id = 0;
    const start = Date.UTC(2026, 10, 23, 20, 0, 0);
    const inj = new Injector({ cue: defaultCuePlanConfig(), allocateEventId: () => ++id, startWall: start });
    inj.addBreakAtWall(start + 14_000, 5 * TICKS);
    runStage(input, inj);
    const b = inj.planner.planned[0];
    // the first PCR is the start wall; the splice is the first IDR at or after 14 s of PCR time
    expect(inj.clock.wallAt(b.splicePts)).toBeGreaterThanOrEqual(start + 14_000);
    expect(inj.clock.wallAt(b.splicePts)).toBeLessThan(start + 15_000);
    expect(b.breakDurationTicks).toBe(5 * TICKS);
  });
});
