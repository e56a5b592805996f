import { describe, expect, it } from "vitest";
import { Switcher, type SwitcherSource } from "../../src/pipeline/switcher.js";
import {
  AFC_ADAPTATION_AND_PAYLOAD,
  PAT_PID,
  TS_PACKET_SIZE,
  continuityCounter,
  discontinuityIndicator,
  hasPcr,
  pid,
  writePacketHeader,
  writePcrField,
} from "../../src/ts/packet.js";

const VIDEO = 0x100;

/** A stream as a fresh FFmpeg writes it: PAT first, then video packets with a PCR every 4th; CCs from 0. */
function ffmpegRun(packets: number, pcrBase: number): Uint8Array {
  const buf = new Uint8Array(packets * TS_PACKET_SIZE);
  let cc = 0;
  for (let i = 0; i < packets; i++) {
    const off = i * TS_PACKET_SIZE;
    if (i === 0) {
      writePacketHeader(buf, off, PAT_PID, true, 0);
      buf.fill(0xff, off + 4, off + TS_PACKET_SIZE);
      continue;
    }
    if (i % 4 === 1) {
      writePacketHeader(buf, off, VIDEO, false, cc++, AFC_ADAPTATION_AND_PAYLOAD);
      buf[off + 4] = 7; // adaptation_field_length: flags + PCR
      buf[off + 5] = 0x10; // PCR_flag
      writePcrField(buf, off + 6, pcrBase + i * 1000);
    } else writePacketHeader(buf, off, VIDEO, false, cc++);
  }
  return buf;
}

interface Out {
  ccs: number[];
  /** indexes (in `ccs`) of PCR packets with discontinuity_indicator set */
  discontinuities: number[];
  switches: { to: SwitcherSource; reason: string }[];
}

function harness(overlap = { on: false }): { sw: Switcher; out: Out; clock: { t: number } } {
  const clock = { t: 0 };
  const out: Out = { ccs: [], discontinuities: [], switches: [] };
  const sw = new Switcher({
    now: () => clock.t,
    liveTimeoutMs: 300,
    overlapping: () => overlap.on,
    onPackets: (b, s, c) => {
      for (let i = 0; i < c; i++) {
        const off = s + i * TS_PACKET_SIZE;
        if (pid(b, off) !== VIDEO) continue;
        if (hasPcr(b, off) && discontinuityIndicator(b, off)) out.discontinuities.push(out.ccs.length);
        out.ccs.push(continuityCounter(b, off));
      }
    },
    onSwitch: (to, info) => out.switches.push({ to, reason: info.reason }),
  });
  return { sw, out, clock };
}

function expectContinuous(ccs: number[]): void {
  for (let i = 1; i < ccs.length; i++) expect(ccs[i], `packet ${i}`).toBe((ccs[i - 1] + 1) & 15);
}

describe("Switcher", () => {
  it("switches to the slate as soon as the live FFmpeg ends, not after the live timeout", () => {
    const { sw, out, clock } = harness();
    sw.pushLive(ffmpegRun(30, 0));
    expect(sw.source).toBe("live");
    clock.t = 20; // well inside the 300 ms timeout
    sw.resetLive("live exited");
    expect(sw.source).toBe("slate");
    expect(out.switches).toEqual([
      { to: "live", reason: "live back" },
      { to: "slate", reason: "live exited" },
    ]);
  });

  it("starts a new segment when a restarted FFmpeg is back before any slate packet: counters continue, PCR discontinuity marked", () => {
    const { sw, out, clock } = harness();
    sw.pushLive(ffmpegRun(30, 0));
    const firstRun = out.ccs.length;
    clock.t = 50;
    sw.resetLive("live exited");
    clock.t = 150; // back within the live timeout, no slate chunk in between
    sw.pushLive(ffmpegRun(30, 90_000_000));
    expect(sw.source).toBe("live");
    expect(out.ccs.length).toBe(2 * firstRun);
    expectContinuous(out.ccs);
    // the first PCR packet of each segment carries discontinuity_indicator (the first run's
    // too: it follows the initial, empty, slate), and no other
    expect(out.discontinuities).toEqual([0, firstRun]);
  });

  it("goes on from a new FFmpeg that took over (overlapped replacement) without the slate: new segment at its PAT", () => {
    const { sw, out } = harness();
    sw.pushLive(ffmpegRun(30, 0));
    const tail = ffmpegRun(30, 0).subarray(0, 100); // a partial packet the old run left
    sw.pushLive(tail);
    sw.newLiveSegment();
    sw.pushLive(ffmpegRun(30, 90_000_000));
    expect(sw.source).toBe("live");
    expect(out.switches.map((x) => x.to)).toEqual(["live"]); // the first start only: no slate in between
    expect(sw.handovers).toBe(1);
    expect(out.ccs.length).toBe(58);
    expectContinuous(out.ccs);
    expect(out.discontinuities).toEqual([0, 29]);
  });

  it("holds live through a silence up to overlapTimeoutMs (600 ms) while an overlapped replacement starts, and no longer", () => {
    const overlap = { on: false };
    const { sw, out, clock } = harness(overlap);
    sw.pushLive(ffmpegRun(30, 0));
    overlap.on = true; // the new run is starting beside the old one, which goes quiet
    clock.t = 450;
    sw.tick();
    sw.pushSlate(ffmpegRun(30, 5_000_000));
    expect(sw.source).toBe("live");
    expect(out.switches.map((x) => x.to)).toEqual(["live"]);
    clock.t = 601;
    sw.tick();
    expect(sw.source).toBe("slate");
    expect(out.switches.at(-1)).toEqual({ to: "slate", reason: "live silent" });
  });

  it("keeps counters continuous across live → slate → live", () => {
    const { sw, out, clock } = harness();
    sw.pushLive(ffmpegRun(30, 0));
    sw.resetLive();
    clock.t = 100;
    sw.pushSlate(ffmpegRun(30, 5_000_000));
    clock.t = 400;
    sw.pushLive(ffmpegRun(30, 90_000_000));
    expect(out.switches.map((s) => s.to)).toEqual(["live", "slate", "live"]);
    expectContinuous(out.ccs);
    expect(out.ccs.length).toBe(3 * 29);
    expect(out.discontinuities).toEqual([0, 29, 58]);
  });

  it("hands the stage FFmpeg's own chunks as owned, and a packet stitched across chunks as not", () => {
    const runs: { len: number; owned: boolean; pushed: boolean }[] = [];
    const pushed: Uint8Array[] = [];
    const sw = new Switcher({
      now: () => 0,
      onPackets: (b, _s, c, owned) => runs.push({ len: c, owned, pushed: pushed.includes(b) }),
    });
    const stream = ffmpegRun(20, 0);
    const cut = 10 * TS_PACKET_SIZE + 100; // packet 10 split across the two chunks
    for (const part of [stream.slice(0, cut), stream.slice(cut)]) {
      pushed.push(part);
      sw.pushLive(part);
    }
    expect(runs.reduce((n, r) => n + r.len, 0)).toBe(20);
    // owned exactly when the stage gets the pushed chunk itself (free to edit in place)
    for (const r of runs) expect(r.owned).toBe(r.pushed);
    expect(runs.filter((r) => !r.owned)).toEqual([{ len: 1, owned: false, pushed: false }]);
  });

  it("still falls back to the slate when live goes silent without ending (stalled input)", () => {
    const { sw, clock } = harness();
    sw.pushLive(ffmpegRun(30, 0));
    clock.t = 299;
    sw.tick();
    expect(sw.source).toBe("live");
    clock.t = 301;
    sw.tick();
    expect(sw.source).toBe("slate");
  });
});
