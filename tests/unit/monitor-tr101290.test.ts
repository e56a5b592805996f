import { describe, expect, it } from "vitest";
import { createTr101290Counters, TsMonitor, type Tr101290Counters, type TsMonitorOptions } from "../../src/monitor/index.js";
import {
  ContinuityCounter,
  PatSection,
  PmtSection,
  TS_PACKET_SIZE,
  TsReader,
  buildLongSection,
  packetize,
  writeNullPacket,
  writePacketHeader,
  writePcr,
  writePts,
} from "../../src/ts/index.js";

/*
 * A synthetic CBR stream built packet by packet: one packet every 0.5 ms (2000 packets/s).
 * The PCR of a packet is derived from its position in the output, so the stream stays
 * exactly CBR even when a fault adds a packet. Schedule (slot s, time s / 2 ms):
 *   s % 200 == 0   PAT (every 100 ms)            s % 200 == 1   PMT
 *   s % 80 == 2    video PES start + PCR + PTS (every 40 ms)
 *   s % 80 == 42   video PCR-only packet (AF only, CC repeats) → a PCR every 20 ms
 *   s % 4 == 3     video continuation            s % 80 == 10   audio PES start + PTS
 *   s % 8 == 5     audio continuation            s % 200 == 9   data PES (no PTS)
 *   otherwise      null packet
 * PMT: video 0x100 (H.264, PCR_PID), audio 0x101 (AAC), data 0x102 (private PES), and an
 * SCTE-35 PID 0x1F4 that never carries a packet (exempt from PID_error by default).
 * Faults are given as times in ms: each applies to the first matching packet at or after it.
 */
const SLOT_MS = 0.5;
const VIDEO = 0x100;
const AUDIO = 0x101;
const DATA = 0x102;
const SCTE = 0x1f4;
const PMT_PID = 0x1000;
const PCR_BASE_MS = 600;

interface Window {
  fromMs: number;
  toMs: number;
}

interface Faults {
  /** video continuation packet skips one CC value (1 error each) */
  ccSkipAtMs?: number[];
  /** video continuation packet sent `copies` times in a row (2 legal, 3 → 1 error) */
  copiesAtMs?: { atMs: number; copies: number }[];
  /** video continuation packet with discontinuity_indicator and CC + 5 (legal) */
  discontinuityJumpAtMs?: number[];
  /** video PCR-only packet with a CC that does not repeat (1 error each) */
  afOnlyCcChangeAtMs?: number[];
  /** PCR slot sent without PCR */
  pcrDropAtMs?: number[];
  /** from this PCR on, every PCR is `stepMs` ahead; with or without discontinuity_indicator */
  pcrStep?: { atMs: number; stepMs: number; discontinuityIndicator: boolean }[];
  /** this one PCR value replaced with one `aheadMs` ahead */
  pcrCorruptAtMs?: { atMs: number; aheadMs: number }[];
  patBadCrcAtMs?: number[];
  patScrambledAtMs?: number[];
  /** a CRC-correct section with table_id 0x01 sent on PID 0 after the PAT */
  patWrongTableIdAtMs?: number[];
  /** video continuation packet with transport_error_indicator */
  teiAtMs?: number[];
  /** audio PES starts without PTS */
  ptsGaps?: Window[];
  /** no PMT sent */
  pmtGaps?: Window[];
  /** no packet of the PID sent */
  silent?: (Window & { pid: number })[];
  /** an extra ES in the PMT that never carries a packet */
  phantomPid?: number;
}

function takeDue(list: number[], t: number): boolean {
  if (list.length > 0 && list[0] <= t) {
    list.shift();
    return true;
  }
  return false;
}

function inWindow(ws: Window[] | undefined, t: number): boolean {
  return (ws ?? []).some((w) => t >= w.fromMs && t < w.toMs);
}

function fillPattern(pkt: Uint8Array, from: number, seed: number): void {
  for (let i = from; i < TS_PACKET_SIZE; i++) pkt[i] = (seed * 31 + i * 7) & 0xff;
}

function buildStream(durationMs: number, f: Faults = {}): Uint8Array[] {
  const sorted = (a?: number[]): number[] => [...(a ?? [])].sort((x, y) => x - y);
  const ccSkip = sorted(f.ccSkipAtMs);
  const copies = [...(f.copiesAtMs ?? [])].sort((a, b) => a.atMs - b.atMs);
  const discJump = sorted(f.discontinuityJumpAtMs);
  const afOnlyCc = sorted(f.afOnlyCcChangeAtMs);
  const pcrDrop = sorted(f.pcrDropAtMs);
  const steps = [...(f.pcrStep ?? [])].sort((a, b) => a.atMs - b.atMs);
  const corrupt = [...(f.pcrCorruptAtMs ?? [])].sort((a, b) => a.atMs - b.atMs);
  const patBad = sorted(f.patBadCrcAtMs);
  const patScr = sorted(f.patScrambledAtMs);
  const patWrong = sorted(f.patWrongTableIdAtMs);
  const tei = sorted(f.teiAtMs);

  const streams = [
    { streamType: 0x1b, elementaryPid: VIDEO, descriptors: [] },
    { streamType: 0x0f, elementaryPid: AUDIO, descriptors: [] },
    { streamType: 0x06, elementaryPid: DATA, descriptors: [] },
    { streamType: 0x86, elementaryPid: SCTE, descriptors: [] },
  ];
  if (f.phantomPid !== undefined) streams.push({ streamType: 0x0f, elementaryPid: f.phantomPid, descriptors: [] });
  const pat = new PatSection({ transportStreamId: 1, programs: [{ programNumber: 1, pid: PMT_PID }] }).encode();
  const pmt = new PmtSection({ programNumber: 1, pcrPid: VIDEO, streams }).encode();
  const wrongTid = buildLongSection(
    {
      tableId: 0x01,
      privateIndicator: false,
      tableIdExtension: 0xffff,
      versionNumber: 0,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
    },
    new Uint8Array(0),
  );
  const cc = new Map<number, ContinuityCounter>();
  const counter = (pid: number): ContinuityCounter => {
    let c = cc.get(pid);
    if (!c) cc.set(pid, (c = new ContinuityCounter()));
    return c;
  };
  const out: Uint8Array[] = [];
  let stepMs = 0;
  let diNext = false;
  const pcrNow = (): number => (PCR_BASE_MS + stepMs + out.length * SLOT_MS) * 27000;

  const slots = Math.round(durationMs / SLOT_MS);
  for (let s = 0; s < slots; s++) {
    const t = s * SLOT_MS;
    const silent = (pid: number): boolean => (f.silent ?? []).some((w) => w.pid === pid && t >= w.fromMs && t < w.toMs);
    const pkt = new Uint8Array(TS_PACKET_SIZE);
    const extra: Uint8Array[] = [];
    let sent = true;
    if (s % 200 === 0) {
      const p = packetize(pat, 0, { counter: counter(0) })[0];
      if (takeDue(patBad, t)) p[5 + pat.length - 1] ^= 0x01;
      if (takeDue(patScr, t)) p[3] |= 0x80;
      pkt.set(p);
      if (takeDue(patWrong, t)) extra.push(packetize(wrongTid, 0, { counter: counter(0) })[0]);
    } else if (s % 200 === 1 && !inWindow(f.pmtGaps, t)) {
      pkt.set(packetize(pmt, PMT_PID, { counter: counter(PMT_PID) })[0]);
    } else if (s % 40 === 2 && !silent(VIDEO)) {
      // PCR slot on the video PID
      while (steps.length > 0 && steps[0].atMs <= t) {
        const st = steps.shift()!;
        stepMs += st.stepMs;
        if (st.discontinuityIndicator) diNext = true;
      }
      const di = diNext;
      diNext = false;
      const drop = takeDue(pcrDrop, t);
      const start = s % 80 === 2;
      if (start) {
        writePacketHeader(pkt, 0, VIDEO, true, 0, 0b11);
        pkt[4] = 7;
        pkt[5] = (di ? 0x80 : 0) | (drop ? 0 : 0x10) | 0x40;
        pkt.fill(0xff, 6, 12);
        const pes = Uint8Array.of(0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5);
        pkt.set(pes, 12);
        writePts(pkt, 21, Math.round((t + PCR_BASE_MS + 700) * 90));
        fillPattern(pkt, 26, s);
      } else {
        writePacketHeader(pkt, 0, VIDEO, false, 0, 0b10);
        pkt[4] = 183;
        pkt[5] = (di ? 0x80 : 0) | (drop ? 0 : 0x10);
        pkt.fill(0xff, 6);
      }
      if (!drop) {
        let v = pcrNow();
        if (corrupt.length > 0 && corrupt[0].atMs <= t) v += corrupt.shift()!.aheadMs * 27000;
        writePcr(pkt, 0, v);
      }
      const c = counter(VIDEO);
      c.stamp(pkt, 0);
      if (!start && takeDue(afOnlyCc, t)) pkt[3] = (pkt[3] & 0xf0) | ((c.current + 3) & 0x0f);
    } else if (s % 80 === 10 && !silent(AUDIO)) {
      writePacketHeader(pkt, 0, AUDIO, true, 0);
      const withPts = !inWindow(f.ptsGaps, t);
      pkt.set(Uint8Array.of(0, 0, 1, 0xc0, 0, 0, 0x80, withPts ? 0x80 : 0, withPts ? 5 : 0), 4);
      if (withPts) writePts(pkt, 13, Math.round((t + PCR_BASE_MS + 700) * 90));
      fillPattern(pkt, withPts ? 18 : 13, s);
      counter(AUDIO).stamp(pkt, 0);
    } else if (s % 8 === 5 && !silent(AUDIO)) {
      writePacketHeader(pkt, 0, AUDIO, false, 0);
      fillPattern(pkt, 4, s);
      counter(AUDIO).stamp(pkt, 0);
    } else if (s % 200 === 9 && !silent(DATA)) {
      writePacketHeader(pkt, 0, DATA, true, 0);
      pkt.set(Uint8Array.of(0, 0, 1, 0xbd, 0, 0, 0x80, 0, 0), 4);
      fillPattern(pkt, 13, s);
      counter(DATA).stamp(pkt, 0);
    } else if (s % 4 === 3 && !silent(VIDEO)) {
      const c = counter(VIDEO);
      if (takeDue(discJump, t)) {
        writePacketHeader(pkt, 0, VIDEO, false, 0, 0b11);
        pkt[4] = 1;
        pkt[5] = 0x80;
        fillPattern(pkt, 6, s);
        c.set(c.current + 4);
      } else {
        writePacketHeader(pkt, 0, VIDEO, false, 0);
        fillPattern(pkt, 4, s);
      }
      if (takeDue(ccSkip, t)) c.next();
      c.stamp(pkt, 0);
      if (takeDue(tei, t)) pkt[1] |= 0x80;
      if (copies.length > 0 && copies[0].atMs <= t) {
        const n = copies.shift()!.copies;
        for (let k = 1; k < n; k++) extra.push(pkt.slice());
      }
    } else {
      sent = false;
    }
    if (!sent) writeNullPacket(pkt, 0);
    out.push(pkt);
    for (const e of extra) out.push(e);
  }
  return out;
}

function concat(pkts: readonly Uint8Array[]): Uint8Array {
  const buf = new Uint8Array(pkts.length * TS_PACKET_SIZE);
  pkts.forEach((p, i) => buf.set(p, i * TS_PACKET_SIZE));
  return buf;
}

function run(pkts: readonly Uint8Array[], opts?: TsMonitorOptions, runLength = 7): TsMonitor {
  const m = new TsMonitor(opts);
  const buf = concat(pkts);
  // runs of 7 packets by default, as from UDP datagrams
  for (let i = 0; i < pkts.length; i += runLength) m.pushRun(buf, i * TS_PACKET_SIZE, Math.min(runLength, pkts.length - i));
  return m;
}

function expected(partial: Partial<Tr101290Counters>): Tr101290Counters {
  return { ...createTr101290Counters(), ...partial };
}

function videoRow(m: TsMonitor): Record<string, unknown> | undefined {
  return m.perPid().find((r) => r.pid === VIDEO);
}

describe("TsMonitor on a synthetic CBR stream", () => {
  it("gives all-zero counters on a clean stream", () => {
    const m = run(buildStream(3000));
    expect(m.snapshot()).toEqual(createTr101290Counters());
    expect(m.packetDurationMs).toBeCloseTo(SLOT_MS, 9);
    expect(m.perPid().every((r) => Object.entries(r).every(([k, v]) => k === "pid" || v === 0))).toBe(true);
  });

  it("learns the packet duration from the PCRs", () => {
    const m = run(buildStream(100));
    expect(m.packetDurationMs).toBeCloseTo(0.5, 9);
  });

  it("counts each CC jump once, per PID", () => {
    const m = run(buildStream(2000, { ccSkipAtMs: [300, 700, 1100, 1500] }));
    expect(m.snapshot()).toEqual(expected({ continuityCountError: 4 }));
    expect(videoRow(m)).toMatchObject({ continuityCountError: 4 });
    expect(m.perPid().find((r) => r.pid === "other")).toMatchObject({ continuityCountError: 0 });
  });

  it("allows one duplicate packet, a discontinuity_indicator jump and AF-only CC repeats", () => {
    const m = run(buildStream(2000, { copiesAtMs: [{ atMs: 400, copies: 2 }], discontinuityJumpAtMs: [800, 1200] }));
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });

  it("counts a third copy of a packet", () => {
    const m = run(buildStream(2000, { copiesAtMs: [{ atMs: 400, copies: 3 }] }));
    expect(m.snapshot()).toEqual(expected({ continuityCountError: 1 }));
  });

  // a repeat is compared byte for byte within a run and by the hash of the last packet
  // across runs: runs of one packet (always across), and the whole stream as one run
  it.each([1, 1_000_000])("tells a duplicate from a CC error the same way in runs of %i packets", (runLength) => {
    const clean = buildStream(2000, { copiesAtMs: [{ atMs: 400, copies: 2 }], discontinuityJumpAtMs: [800, 1200] });
    expect(run(clean, undefined, runLength).snapshot()).toEqual(createTr101290Counters());
    expect(run(buildStream(2000, { copiesAtMs: [{ atMs: 400, copies: 3 }] }), undefined, runLength).snapshot()).toEqual(
      expected({ continuityCountError: 1 }),
    );
    const pkts = buildStream(1000);
    pkts[403][3] = (pkts[403][3] & 0xf0) | (pkts[402][3] & 0x0f);
    expect(run(pkts, undefined, runLength).snapshot()).toEqual(expected({ continuityCountError: 2 }));
  });

  it("counts a same-CC packet whose payload differs", () => {
    const pkts = buildStream(1000);
    // the video continuation packet at slot 403 gets the CC of the video packet before it (slot 402)
    const prevCc = pkts[402][3] & 0x0f;
    pkts[403][3] = (pkts[403][3] & 0xf0) | prevCc;
    const m = run(pkts);
    // the altered packet, then the next one (CC jump of 2 relative to it)
    expect(m.snapshot()).toEqual(expected({ continuityCountError: 2 }));
  });

  it("counts an AF-only packet whose CC does not repeat", () => {
    const m = run(buildStream(2000, { afOnlyCcChangeAtMs: [500, 900] }));
    expect(m.snapshot()).toEqual(expected({ continuityCountError: 2 }));
  });

  it("does not check the CC of null packets", () => {
    const pkts = buildStream(500);
    for (let i = 0; i < pkts.length; i++) if ((pkts[i][1] & 0x1f) === 0x1f && pkts[i][2] === 0xff) pkts[i][3] = 0x10 | (i & 0x0f);
    expect(run(pkts).snapshot()).toEqual(createTr101290Counters());
  });

  it("counts each PCR gap of 60 ms once", () => {
    // PCRs every 20 ms at 1 + 20k ms; dropping two in a row leaves a 60 ms gap
    const m = run(buildStream(3000, { pcrDropAtMs: [501, 521, 1201, 1221, 2001, 2021] }));
    expect(m.snapshot()).toEqual(expected({ pcrRepetitionError: 3 }));
    expect(videoRow(m)).toMatchObject({ pcrRepetitionError: 3 });
  });

  it("accepts a 40 ms PCR interval", () => {
    const m = run(buildStream(2000, { pcrDropAtMs: [501, 1201] }));
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });

  it("honours a configured PCR interval", () => {
    const m = run(buildStream(2000, { pcrDropAtMs: [501, 521, 1201] }), { pcrIntervalMs: 100 });
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });

  it("counts a PCR step of 200 ms without discontinuity_indicator, not one with it", () => {
    const m = run(
      buildStream(3000, {
        pcrStep: [
          { atMs: 1000, stepMs: 200, discontinuityIndicator: false },
          { atMs: 2000, stepMs: 200, discontinuityIndicator: true },
        ],
      }),
    );
    expect(m.snapshot()).toEqual(expected({ pcrDiscontinuityIndicatorError: 1 }));
    expect(videoRow(m)).toMatchObject({ pcrDiscontinuityIndicatorError: 1 });
  });

  it("counts a backward PCR step", () => {
    const m = run(buildStream(2000, { pcrStep: [{ atMs: 1000, stepMs: -50, discontinuityIndicator: false }] }));
    expect(m.snapshot()).toEqual(expected({ pcrDiscontinuityIndicatorError: 1 }));
  });

  it("counts a single corrupted PCR value twice (there and back) and no repetition error", () => {
    const m = run(buildStream(2000, { pcrCorruptAtMs: [{ atMs: 1000, aheadMs: 200 }] }));
    expect(m.snapshot()).toEqual(expected({ pcrDiscontinuityIndicatorError: 2 }));
  });

  it("counts each PAT section with a corrupted CRC", () => {
    const m = run(buildStream(2000, { patBadCrcAtMs: [200, 500, 800, 1100, 1400] }));
    expect(m.snapshot()).toEqual(expected({ crcError: 5 }));
  });

  it("counts CRC errors on SI PIDs and lets the TDT (no CRC) pass", () => {
    const pkts = buildStream(1000);
    const sdt = buildLongSection(
      {
        tableId: 0x42,
        privateIndicator: true,
        tableIdExtension: 1,
        versionNumber: 0,
        currentNextIndicator: true,
        sectionNumber: 0,
        lastSectionNumber: 0,
      },
      Uint8Array.of(0xff, 0x01, 0xff),
    );
    const bad = sdt.slice();
    bad[bad.length - 2] ^= 0x40;
    const tdt = Uint8Array.of(0x70, 0x70, 0x05, 0xed, 0x9b, 0x14, 0x30, 0x05);
    const sdtCc = new ContinuityCounter();
    const tdtCc = new ContinuityCounter();
    const replace = (i: number, pkt: Uint8Array): void => {
      expect(pkts[i][2]).toBe(0xff); // a null slot
      pkts[i] = pkt;
    };
    replace(100, packetize(sdt, 0x11, { counter: sdtCc })[0]);
    replace(300, packetize(bad, 0x11, { counter: sdtCc })[0]);
    replace(500, packetize(tdt, 0x14, { counter: tdtCc })[0]);
    replace(700, packetize(bad, 0x11, { counter: sdtCc })[0]);
    const m = run(pkts);
    expect(m.snapshot()).toEqual(expected({ crcError: 2 }));
  });

  it("counts a transport error packet once, without a CC error", () => {
    const m = run(buildStream(2000, { teiAtMs: [700] }));
    expect(m.snapshot()).toEqual(expected({ transportError: 1 }));
  });

  it("counts a PTS gap of 1 s once", () => {
    // audio PES starts at 5 + 40k ms: the last PTS before the gap is at 965, the next at 1965
    const m = run(buildStream(3000, { ptsGaps: [{ fromMs: 1000, toMs: 1960 }] }));
    expect(m.snapshot()).toEqual(expected({ ptsError: 1 }));
    expect(m.perPid().find((r) => r.pid === AUDIO)).toMatchObject({ ptsError: 1 });
  });

  it("accepts a PTS gap of 680 ms", () => {
    const m = run(buildStream(3000, { ptsGaps: [{ fromMs: 1000, toMs: 1640 }] }));
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });

  it("counts a PMT gap of 0.8 s once", () => {
    // PMTs at 0.5 + 100k ms; the gap runs from 900.5 to 1700.5
    const m = run(buildStream(3000, { pmtGaps: [{ fromMs: 1000, toMs: 1700 }] }));
    expect(m.snapshot()).toEqual(expected({ pmtError: 1 }));
  });

  it("accepts a PMT gap of 0.5 s", () => {
    const m = run(buildStream(3000, { pmtGaps: [{ fromMs: 1000, toMs: 1400 }] }));
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });

  it("counts a PAT gap, a scrambled PAT and a wrong table_id on PID 0", () => {
    const m = run(
      buildStream(3000, {
        patBadCrcAtMs: [1000, 1100, 1200, 1300, 1400],
        patScrambledAtMs: [2000],
        patWrongTableIdAtMs: [2500],
      }),
    );
    // five lost PATs in a row: one gap of 600 ms; the scrambled one leaves only 200 ms
    expect(m.snapshot()).toEqual(expected({ patError: 3, crcError: 5 }));
  });

  it("counts a scrambled packet on the PMT PID", () => {
    const pkts = buildStream(1000);
    pkts[401][3] |= 0x80;
    expect(run(pkts).snapshot()).toEqual(expected({ pmtError: 1 }));
  });

  it("counts a referenced PID silent for 6 s once", () => {
    // data packets at 4.5 + 100k ms: silent from 904.5 to 7004.5
    const m = run(buildStream(8000, { silent: [{ pid: DATA, fromMs: 1000, toMs: 7000 }] }));
    expect(m.snapshot()).toEqual(expected({ pidError: 1 }));
    expect(m.perPid().find((r) => r.pid === DATA)).toMatchObject({ pidError: 1 });
  });

  it("counts a referenced PID that never appears once, and leaves the SCTE-35 PID alone", () => {
    const m = run(buildStream(12_000, { phantomPid: 0x103 }));
    expect(m.snapshot()).toEqual(expected({ pidError: 1 }));
    expect(m.perPid().find((r) => r.pid === 0x103)).toMatchObject({ pidError: 1 });
  });

  it("checks the SCTE-35 PID when it is not exempt", () => {
    const m = run(buildStream(6000), { pidErrorExemptStreamTypes: [] });
    expect(m.snapshot()).toEqual(expected({ pidError: 1 }));
  });

  it("counts garbage between packets as one sync loss (monitor-owned reader)", () => {
    const clean = concat(buildStream(1000));
    const at = 500 * TS_PACKET_SIZE;
    const garbage = new Uint8Array(100).fill(0x00);
    const data = new Uint8Array(clean.length + garbage.length);
    data.set(clean.subarray(0, at), 0);
    data.set(garbage, at);
    data.set(clean.subarray(at), at + garbage.length);
    const m = new TsMonitor();
    for (let i = 0; i < data.length; i += 1000) m.push(data.subarray(i, i + 1000));
    m.end();
    expect(m.snapshot()).toEqual(expected({ tsSyncLoss: 1, syncByteError: 1 }));
    expect(m.packets).toBe(2000);
  });

  it("takes sync losses forwarded from the caller's reader, but not the initial lock", () => {
    const clean = concat(buildStream(1000));
    const data = new Uint8Array(clean.length + 300);
    data.fill(0x11, 0, 50); // starts mid-stream: acquiring sync is not a loss
    data.set(clean.subarray(0, 100 * TS_PACKET_SIZE), 50);
    data.fill(0x22, 50 + 100 * TS_PACKET_SIZE, 300 + 100 * TS_PACKET_SIZE);
    data.set(clean.subarray(100 * TS_PACKET_SIZE), 300 + 100 * TS_PACKET_SIZE);
    const m = new TsMonitor();
    const reader = new TsReader({ onPackets: (b, s, c) => m.pushRun(b, s, c), onSyncLoss: () => m.onSyncLoss() });
    reader.push(data);
    reader.end();
    expect(m.snapshot()).toEqual(expected({ tsSyncLoss: 1, syncByteError: 1 }));
    m.onSyncByteError();
    expect(m.counters.syncByteError).toBe(2);
  });

  it("counts exactly every fault of a stream that has them all, however it is chunked", () => {
    const pkts = buildStream(10_000, {
      ccSkipAtMs: [300, 3300, 6300],
      copiesAtMs: [{ atMs: 1300, copies: 2 }],
      discontinuityJumpAtMs: [2300],
      pcrDropAtMs: [501, 521, 4501, 4521],
      pcrStep: [
        { atMs: 5000, stepMs: 200, discontinuityIndicator: false },
        { atMs: 5500, stepMs: 200, discontinuityIndicator: true },
      ],
      patBadCrcAtMs: [600, 2600, 4600],
      teiAtMs: [3700],
      ptsGaps: [{ fromMs: 6000, toMs: 6960 }],
      pmtGaps: [{ fromMs: 7000, toMs: 7700 }],
      silent: [{ pid: DATA, fromMs: 1000, toMs: 7000 }],
    });
    const want = expected({
      continuityCountError: 3,
      pcrRepetitionError: 2,
      pcrDiscontinuityIndicatorError: 1,
      crcError: 3,
      transportError: 1,
      ptsError: 1,
      pmtError: 1,
      pidError: 1,
    });
    expect(run(pkts).snapshot()).toEqual(want);

    const data = concat(pkts);
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return 1 + (seed % n);
    };
    const m = new TsMonitor();
    for (let i = 0; i < data.length;) {
      const n = rand(3000);
      m.push(data.subarray(i, i + n));
      i += n;
    }
    m.end();
    expect(m.snapshot()).toEqual(want);
    expect(m.packets).toBe(pkts.length);
  });

  it("snapshot() is a copy", () => {
    const m = run(buildStream(1000, { ccSkipAtMs: [300] }));
    const s = m.snapshot();
    s.continuityCountError = 99;
    expect(m.counters.continuityCountError).toBe(1);
  });

  it("keeps per-PID rows bounded and folds the rest into 'other'", () => {
    const m = run(buildStream(1000, { ccSkipAtMs: [300, 600] }), { maxLabelledPids: 1 });
    const rows = m.perPid();
    expect(rows.map((r) => r.pid)).toEqual([PMT_PID, "other"]);
    expect(rows[1].continuityCountError).toBe(2);
  });
});

describe("TsMonitor on the wall clock", () => {
  it("times tables and PIDs by nowMs and finds a stalled output with tick()", () => {
    const pkts = buildStream(1000);
    const buf = concat(pkts);
    const m = new TsMonitor({ clock: "wall" });
    const t0 = 1_700_000_000_000;
    // runs of 20 packets = 10 ms
    for (let i = 0; i < pkts.length; i += 20) m.pushRun(buf, i * TS_PACKET_SIZE, 20, t0 + i * SLOT_MS);
    expect(m.snapshot()).toEqual(createTr101290Counters());
    m.tick(t0 + 1500);
    expect(m.snapshot()).toEqual(expected({ patError: 1, pmtError: 1 }));
    m.tick(t0 + 7000);
    // video, audio, data silent (SCTE-35 exempt); video and audio PTS overdue; PCR is on the stream clock
    expect(m.snapshot()).toEqual(expected({ patError: 1, pmtError: 1, pidError: 3, ptsError: 2 }));
    m.tick(t0 + 20_000);
    expect(m.snapshot()).toEqual(expected({ patError: 1, pmtError: 1, pidError: 3, ptsError: 2 }));
  });

  it("ignores tick() on the stream clock", () => {
    const m = run(buildStream(500));
    m.tick(1e12);
    expect(m.snapshot()).toEqual(createTr101290Counters());
  });
});
