import { describe, expect, it } from "vitest";
import { writeCrc32 } from "../../src/ts/crc32.js";
import { packetize } from "../../src/ts/packetizer.js";
import { PatSection } from "../../src/ts/pat.js";
import { PmtSection } from "../../src/ts/pmt.js";
import { PID_ROLE_ES, PID_ROLE_NONE, PID_ROLE_PMT, PsiTracker } from "../../src/ts/psi-tracker.js";
import { ContinuityCounter } from "../../src/ts/packetizer.js";

const pat = new PatSection({ transportStreamId: 1, programs: [{ programNumber: 1, pid: 0x1000 }] });
function pmt(version: number, audioPid: number): PmtSection {
  return new PmtSection({
    programNumber: 1,
    versionNumber: version,
    pcrPid: 0x100,
    streams: [
      { streamType: 0x1b, elementaryPid: 0x100, descriptors: [] },
      { streamType: 0x0f, elementaryPid: audioPid, descriptors: [] },
    ],
  });
}

describe("PsiTracker", () => {
  it("follows PAT → PMT → elementary PIDs and decodes each version once", () => {
    const seen: number[] = [];
    const t = new PsiTracker({ onPmt: (p) => seen.push(p.versionNumber) });
    const patCc = new ContinuityCounter();
    const pmtCc = new ContinuityCounter();
    const feed = (pkts: Uint8Array[]) => pkts.forEach((p) => t.push(p, 0));
    feed(packetize(pat.encode(), 0, { counter: patCc }));
    expect(t.pidRole[0x1000]).toBe(PID_ROLE_PMT);
    feed(packetize(pmt(0, 0x101).encode(), 0x1000, { counter: pmtCc }));
    feed(packetize(pmt(0, 0x101).encode(), 0x1000, { counter: pmtCc }));
    expect(t.pidRole[0x100]).toBe(PID_ROLE_ES);
    expect(t.streamType[0x101]).toBe(0x0f);
    feed(packetize(pmt(1, 0x102).encode(), 0x1000, { counter: pmtCc }));
    expect(seen).toEqual([0, 1]);
    expect(t.pidRole[0x101]).toBe(PID_ROLE_NONE);
    expect(t.pidRole[0x102]).toBe(PID_ROLE_ES);
    expect(t.pmts.get(1)?.versionNumber).toBe(1);
  });

  it("counts a PMT that fails to decode instead of throwing", () => {
    const codes: string[] = [];
    const t = new PsiTracker({ onDecodeError: (c) => codes.push(c) });
    packetize(pat.encode(), 0).forEach((p) => t.push(p, 0));
    const bad = pmt(0, 0x101).encode();
    bad[16] = 0x0f; // ES_info_length runs past the section
    writeCrc32(bad, 0, bad.length - 4);
    packetize(bad, 0x1000).forEach((p) => t.push(p, 0));
    expect(t.decodeErrors).toBe(1);
    expect(codes).toEqual(["ONAIR_TS_TRUNCATED"]);
    expect(t.pmts.size).toBe(0);
  });
});
