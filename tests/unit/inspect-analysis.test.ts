/**
 * TsInspector on synthetic streams built here: PAT, a PMT with an H.264 PID (PCR PID) and an
 * SCTE-35 PID, cue sections from encodeCue packetized one section per packet start, PCR
 * packets at 1 ms per packet (27 000 ticks), payload packets and nulls.
 */
import { describe, expect, it } from "vitest";
import { encodeCue } from "../../src/inject/encode.js";
import {
  inspectBytes,
  TsInspector,
  type ErrorRecord,
  type InspectRecord,
  type PidRecord,
  type Scte35Record,
  type SummaryRecord,
} from "../../src/inject/inspect.js";
import type { CueSpec } from "../../src/inject/planner.js";
import { writeCrc32 } from "../../src/ts/crc32.js";
import { AFC_ADAPTATION_ONLY, TS_PACKET_SIZE, writeNullPacket, writePacketHeader, writePcrField } from "../../src/ts/packet.js";
import { ContinuityCounter, packetize } from "../../src/ts/packetizer.js";
import { PatSection } from "../../src/ts/pat.js";
import { PmtSection, STREAM_TYPE_H264, STREAM_TYPE_SCTE35 } from "../../src/ts/pmt.js";

const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const CUE_PID = 0x1f4;
const TICKS_PER_PACKET = 27_000; // 1 ms

/** Builds a TS packet by packet; every add returns the index of its first packet. */
class TsBuilder {
  readonly packets: Uint8Array[] = [];
  private readonly cc = new Map<number, ContinuityCounter>();

  counter(pid: number): ContinuityCounter {
    let c = this.cc.get(pid);
    if (!c) {
      c = new ContinuityCounter();
      this.cc.set(pid, c);
    }
    return c;
  }

  get length(): number {
    return this.packets.length;
  }

  add(...pkts: Uint8Array[]): number {
    const at = this.packets.length;
    this.packets.push(...pkts);
    return at;
  }

  psi(): number {
    const pat = new PatSection({ transportStreamId: 1, programs: [{ programNumber: 1, pid: PMT_PID }] });
    const pmt = new PmtSection({
      programNumber: 1,
      pcrPid: VIDEO_PID,
      streams: [
        { streamType: STREAM_TYPE_H264, elementaryPid: VIDEO_PID, descriptors: [] },
        { streamType: STREAM_TYPE_SCTE35, elementaryPid: CUE_PID, descriptors: [] },
      ],
    });
    const at = this.add(...packetize(pat.encode(), 0, { counter: this.counter(0) }));
    this.add(...packetize(pmt.encode(), PMT_PID, { counter: this.counter(PMT_PID) }));
    return at;
  }

  /** Adaptation-field-only PCR packet on the video PID (CC repeated, as ffmpeg does). */
  pcr(ticks27: number): number {
    const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    writePacketHeader(b, 0, VIDEO_PID, false, this.counter(VIDEO_PID).current, AFC_ADAPTATION_ONLY);
    b[4] = 183;
    b[5] = 0x10;
    writePcrField(b, 6, ticks27);
    return this.add(b);
  }

  /** PCR packet whose PCR is 1 ms per packet since the start of the stream. */
  clock(): number {
    return this.pcr(this.length * TICKS_PER_PACKET);
  }

  video(n = 1): number {
    const at = this.length;
    for (let i = 0; i < n; i++) {
      const b = new Uint8Array(TS_PACKET_SIZE).fill(0xab);
      writePacketHeader(b, 0, VIDEO_PID, false, 0);
      this.counter(VIDEO_PID).stamp(b, 0);
      this.add(b);
    }
    return at;
  }

  nulls(n = 1): number {
    const at = this.length;
    for (let i = 0; i < n; i++) {
      const b = new Uint8Array(TS_PACKET_SIZE);
      writeNullPacket(b, 0);
      this.add(b);
    }
    return at;
  }

  /**
   * Cue section packets on the SCTE-35 PID; `between` nulls go between its packets.
   * `header` overwrites section bytes 1 and 2 (section_length) after packetizing.
   */
  cue(section: Uint8Array, between = 0, header?: [number, number]): { start: number; end: number } {
    const pkts = packetize(section, CUE_PID, { newPacketPerSection: true, counter: this.counter(CUE_PID) });
    if (header) [pkts[0][6], pkts[0][7]] = header; // byte 4 pointer_field, 5 table_id
    const start = this.length;
    pkts.forEach((p, i) => {
      if (i > 0) this.nulls(between);
      this.add(p);
    });
    return { start, end: this.length - 1 };
  }

  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.packets));
  }
}

const insert = (id: number, pts: number): CueSpec => ({
  command: "splice_insert",
  spliceEventId: id,
  outOfNetwork: true,
  splicePts: pts,
  breakDurationTicks: 2_700_000,
});

/** A time_signal whose URI UPID makes the section longer than one packet. */
const longTimeSignal = (id: number): CueSpec => ({
  command: "time_signal",
  spliceEventId: id,
  splicePts: 1_800_000,
  segmentationTypeId: 0x34,
  segmentationDurationTicks: 2_700_000,
  breakId: "b".repeat(200),
});

/** Section bytes 1 and 2 with section_length increased by `by`. */
function longer(section: Uint8Array, by: number): [number, number] {
  const len = (((section[1] & 0x0f) << 8) | section[2]) + by;
  return [(section[1] & 0xf0) | (len >> 8), len & 0xff];
}

const eventId = (c: Scte35Record): number | undefined =>
  !c.section.encryptedPacket && c.section.spliceCommandType === 5 ? c.section.spliceCommand.spliceEventId : undefined;

const ofType = <T extends InspectRecord["type"]>(records: InspectRecord[], type: T) =>
  records.filter((r): r is Extract<InspectRecord, { type: T }> => r.type === type);
const cues = (records: InspectRecord[]): Scte35Record[] => ofType(records, "scte35");
const errors = (records: InspectRecord[]): ErrorRecord[] => ofType(records, "error");
const summary = (records: InspectRecord[]): SummaryRecord => {
  const last = records[records.length - 1];
  if (last.type !== "summary") throw new Error("summary is not the last record");
  return last;
};

/** The stream of the main scenario and where its cues are. */
function scenario() {
  const b = new TsBuilder();
  b.psi(); // 0, 1
  const firstPcr = b.clock(); // 2: PCR 2 ms
  b.video(2);
  const one = b.cue(encodeCue(insert(101, 900_000))); // 5
  b.nulls(3);
  b.clock(); // 9
  b.video(1);
  const two = b.cue(encodeCue(longTimeSignal(202)), 4); // 11 .. 16
  b.nulls(2);
  b.clock(); // 19
  b.nulls(1);
  return { b, firstPcr, one, two };
}

describe("TsInspector: programs, PIDs and cues", () => {
  it("reports the program with its PCR PID and streams, named", () => {
    const records = inspectBytes(scenario().b.bytes());
    expect(ofType(records, "program")).toEqual([
      {
        type: "program",
        programNumber: 1,
        pmtPid: PMT_PID,
        pcrPid: VIDEO_PID,
        streams: [
          { pid: VIDEO_PID, streamType: 0x1b, streamTypeName: "H.264" },
          { pid: CUE_PID, streamType: 0x86, streamTypeName: "SCTE-35" },
        ],
      },
    ]);
  });

  it("finds each cue at the packet where it starts, with its PID and decoded section", () => {
    const { b, one, two } = scenario();
    expect(two.end - two.start).toBe(5); // two packets, four nulls between
    const found = cues(inspectBytes(b.bytes()));
    expect(found.map((c) => [c.packet, c.pid])).toEqual([
      [one.start, CUE_PID],
      [two.start, CUE_PID],
    ]);
    const [a, t] = found.map((c) => c.section);
    expect(a).toMatchObject({ spliceCommandType: 5, spliceCommand: { spliceEventId: 101, spliceTime: { ptsTime: 900_000 } } });
    expect(t).toMatchObject({
      spliceCommandType: 6,
      spliceCommand: { spliceTime: { ptsTime: 1_800_000 } },
      descriptors: [{ segmentationEventId: 202, segmentationTypeId: 0x34 }],
    });
  });

  it("times each cue at the packet carrying its last byte, interpolated between PCRs since the first PCR", () => {
    const { b, firstPcr, one, two } = scenario();
    const found = cues(inspectBytes(b.bytes()));
    // 1 ms per packet; the first PCR is time 0
    expect(found.map((c) => c.arrivalSeconds)).toEqual([(one.end - firstPcr) / 1000, (two.end - firstPcr) / 1000]);
  });

  it("extrapolates with the PCR rate before the first PCR and after the last one", () => {
    const b = new TsBuilder();
    b.psi(); // 0, 1
    const early = b.cue(encodeCue(insert(1, 0))); // 2
    const pcr1 = b.clock(); // 3
    b.nulls(4);
    b.clock(); // 8
    b.nulls(2);
    const late = b.cue(encodeCue(insert(2, 0))); // 11
    const found = cues(inspectBytes(b.bytes()));
    expect(found.map((c) => c.arrivalSeconds)).toEqual([(early.end - pcr1) / 1000, (late.end - pcr1) / 1000]);
    expect(early.end - pcr1).toBeLessThan(0);
  });

  it("gives null arrival times when the stream has no PCR", () => {
    const b = new TsBuilder();
    b.psi();
    b.cue(encodeCue(insert(1, 0)));
    const records = inspectBytes(b.bytes());
    expect(cues(records).map((c) => c.arrivalSeconds)).toEqual([null]);
    expect(summary(records).durationSeconds).toBeUndefined();
  });

  it("keeps the records in stream order although a cue waits for the next PCR", () => {
    const b = new TsBuilder();
    b.psi();
    b.clock();
    b.cue(encodeCue(insert(1, 0)));
    b.video(1);
    b.add(ccJump(b)); // damage after the cue, before the next PCR
    b.clock();
    const types = inspectBytes(b.bytes()).map((r) => r.type);
    expect(types.slice(0, 3)).toEqual(["program", "scte35", "error"]);
  });

  it("lists every PID sorted, named, with its packet count", () => {
    const { b } = scenario();
    const count = (pid: number) => b.packets.filter((p) => (((p[1] & 0x1f) << 8) | p[2]) === pid).length;
    const pids = ofType(inspectBytes(b.bytes()), "pid");
    expect(pids.map((p) => [p.pid, p.streamTypeName, p.streamType, p.packets])).toEqual([
      [0, "PAT", undefined, count(0)],
      [VIDEO_PID, "H.264", 0x1b, count(VIDEO_PID)],
      [CUE_PID, "SCTE-35", 0x86, count(CUE_PID)],
      [PMT_PID, "PMT", undefined, count(PMT_PID)],
      [0x1fff, "null", undefined, count(0x1fff)],
    ]);
    expect(pids.every((p: PidRecord) => p.ccErrors === 0)).toBe(true);
  });

  it("ends with a summary of a clean stream", () => {
    const { b } = scenario();
    expect(summary(inspectBytes(b.bytes()))).toEqual({
      type: "summary",
      packets: b.length,
      resyncs: 0,
      bytesSkipped: 0,
      truncatedBytes: 0,
      transportErrors: 0,
      ccErrors: 0,
      crcErrors: 0,
      scte35Sections: 2,
      sectionErrors: 0,
      scte35Errors: 0,
      errorsNotShown: 0,
      durationSeconds: b.length / 1000,
    });
  });

  it("gives the same records for any chunking of the stream", () => {
    const bytes = scenario().b.bytes();
    const whole = inspectBytes(bytes);
    for (const size of [1, 2, 187, 188, 189, 1000]) {
      const records: InspectRecord[] = [];
      const ins = new TsInspector({ onRecord: (r) => records.push(r) });
      for (let pos = 0; pos < bytes.length; pos += size) ins.push(bytes.subarray(pos, pos + size));
      ins.end();
      expect(records).toEqual(whole);
    }
  });
});

/** A video packet whose CC skips 3 values ahead of the builder's video counter. */
function ccJump(b: TsBuilder): Uint8Array {
  const p = new Uint8Array(TS_PACKET_SIZE).fill(0xab);
  writePacketHeader(p, 0, VIDEO_PID, false, 0);
  const c = b.counter(VIDEO_PID);
  c.set(c.current + 3);
  c.stamp(p, 0);
  return p;
}

describe("TsInspector: damage is counted and reported", () => {
  it("reports a cue with a wrong CRC as ONAIR_SCTE35_CRC with both values and still finds the others", () => {
    const b = new TsBuilder();
    b.psi();
    b.clock();
    b.cue(encodeCue(insert(1, 0)));
    const bad = encodeCue(insert(2, 0));
    bad[bad.length - 1] ^= 0x01;
    const badAt = b.cue(bad);
    b.cue(encodeCue(insert(3, 0)));
    b.clock();
    const records = inspectBytes(b.bytes());
    expect(cues(records).map((c) => eventId(c))).toEqual([1, 3]);
    const [e] = errors(records);
    expect(e).toMatchObject({ code: "ONAIR_SCTE35_CRC", packet: badAt.start, pid: CUE_PID });
    expect(e.message).toMatch(/section carries 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
    expect(e.details).toEqual({ stored: expect.stringMatching(/^0x/), computed: expect.stringMatching(/^0x/) });
    expect(summary(records)).toMatchObject({ crcErrors: 1, scte35Sections: 2, scte35Errors: 1 });
  });

  it("reports a section_length running past the next section as truncated and finds the next cue", () => {
    const b = new TsBuilder();
    b.psi();
    b.clock();
    const cue = encodeCue(insert(1, 0));
    const longAt = b.cue(cue, 0, longer(cue, 200)); // section_length now ends past the packet
    b.cue(encodeCue(insert(2, 0)));
    b.clock();
    const records = inspectBytes(b.bytes());
    expect(errors(records)).toEqual([
      expect.objectContaining({ code: "ONAIR_INSPECT_SECTION_TRUNCATED", packet: longAt.start, pid: CUE_PID }),
    ]);
    expect(cues(records)).toHaveLength(1);
    expect(summary(records).sectionErrors).toBe(1);
  });

  it("reports a section cut by the end of the input", () => {
    const b = new TsBuilder();
    b.psi();
    const cue = encodeCue(insert(1, 0));
    const at = b.cue(cue, 0, longer(cue, 200));
    const [e] = errors(inspectBytes(b.bytes()));
    expect(e).toMatchObject({ code: "ONAIR_INSPECT_SECTION_TRUNCATED", packet: at.start, pid: CUE_PID });
    expect(e.message).toContain("end of the input");
  });

  it("reports a section_length above 4093 and finds the next cue", () => {
    const b = new TsBuilder();
    b.psi();
    const huge = encodeCue(insert(1, 0));
    const at = b.cue(huge, 0, [huge[1] | 0x0f, 0xff]); // section_length 4095
    b.cue(encodeCue(insert(2, 0)));
    const records = inspectBytes(b.bytes());
    expect(errors(records)).toEqual([expect.objectContaining({ code: "ONAIR_INSPECT_SECTION_LENGTH", packet: at.start })]);
    expect(cues(records)).toHaveLength(1);
  });

  it("reports a splice_command_length past the end of the section as ONAIR_SCTE35_TRUNCATED", () => {
    const b = new TsBuilder();
    b.psi();
    const bad = encodeCue(insert(1, 0));
    bad[12] = 0xf0; // splice_command_length 0x0F0, past the section
    writeCrc32(bad, 0, bad.length - 4);
    const at = b.cue(bad);
    const [e] = errors(inspectBytes(b.bytes()));
    expect(e).toMatchObject({ code: "ONAIR_SCTE35_TRUNCATED", packet: at.start, pid: CUE_PID });
  });

  it("counts garbage between packets as one resync with the bytes skipped and keeps packet indexes", () => {
    const { b, one, two } = scenario();
    const head = Buffer.concat(b.packets.slice(0, one.end + 1));
    const tail = Buffer.concat(b.packets.slice(one.end + 1));
    const junk = new Uint8Array(377);
    let x = 7;
    for (let i = 0; i < junk.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      junk[i] = x >>> 24;
    }
    const records = inspectBytes(new Uint8Array(Buffer.concat([head, junk, tail])));
    expect(summary(records)).toMatchObject({ packets: b.length, resyncs: 1, bytesSkipped: 377, scte35Sections: 2 });
    expect(errors(records)).toEqual([
      expect.objectContaining({
        code: "ONAIR_INSPECT_SYNC_LOSS",
        offset: head.length,
        packet: one.end + 1,
        details: { bytesSkipped: 377 },
      }),
    ]);
    expect(cues(records).map((c) => c.packet)).toEqual([one.start, two.start]);
  });

  it("survives a file of zeros: no packets, every byte skipped", () => {
    const records = inspectBytes(new Uint8Array(188 * 20));
    expect(summary(records)).toMatchObject({ packets: 0, resyncs: 1, bytesSkipped: 188 * 20, scte35Sections: 0 });
    expect(errors(records).map((e) => e.code)).toEqual(["ONAIR_INSPECT_SYNC_LOSS", "ONAIR_INSPECT_NO_PACKETS"]);
    expect(ofType(records, "pid")).toEqual([]);
  });

  it("reports a truncated final packet", () => {
    const { b } = scenario();
    const bytes = b.bytes();
    const records = inspectBytes(bytes.subarray(0, bytes.length - 100));
    expect(summary(records)).toMatchObject({ packets: b.length - 1, truncatedBytes: 88 });
    expect(errors(records).map((e) => e.code)).toContain("ONAIR_INSPECT_TRUNCATED_PACKET");
  });

  it("counts a CC jump on the PID where it happens", () => {
    const b = new TsBuilder();
    b.psi();
    b.video(3);
    const jumpAt = b.add(ccJump(b));
    b.video(2);
    const records = inspectBytes(b.bytes());
    expect(errors(records)).toEqual([
      expect.objectContaining({ code: "ONAIR_INSPECT_CC", packet: jumpAt, pid: VIDEO_PID, details: { previous: 2, got: 6 } }),
    ]);
    const pids = ofType(records, "pid");
    expect(pids.find((p) => p.pid === VIDEO_PID)?.ccErrors).toBe(1);
    expect(pids.filter((p) => p.pid !== VIDEO_PID).every((p) => p.ccErrors === 0)).toBe(true);
    expect(summary(records).ccErrors).toBe(1);
  });

  it("accepts one duplicate packet and adaptation-field-only packets but flags a third copy", () => {
    const b = new TsBuilder();
    b.psi();
    const v = b.video(1);
    b.add(b.packets[v].slice()); // duplicate: allowed
    b.clock(); // AF only, same CC: allowed
    b.video(1);
    const w = b.video(1);
    b.add(b.packets[w].slice(), b.packets[w].slice()); // second and third copy
    const records = inspectBytes(b.bytes());
    expect(errors(records)).toEqual([expect.objectContaining({ code: "ONAIR_INSPECT_CC", packet: w + 2, pid: VIDEO_PID })]);
  });

  it("allows a CC jump flagged with discontinuity_indicator", () => {
    const b = new TsBuilder();
    b.psi();
    b.video(2);
    const p = new Uint8Array(TS_PACKET_SIZE).fill(0xab);
    writePacketHeader(p, 0, VIDEO_PID, false, 9, 0b11);
    p[4] = 1;
    p[5] = 0x80; // discontinuity_indicator
    b.add(p);
    expect(summary(inspectBytes(b.bytes())).ccErrors).toBe(0);
  });

  it("reports packets with transport_error_indicator", () => {
    const b = new TsBuilder();
    b.psi();
    const at = b.video(1);
    b.packets[at][1] |= 0x80;
    const records = inspectBytes(b.bytes());
    expect(errors(records)).toEqual([expect.objectContaining({ code: "ONAIR_INSPECT_TRANSPORT_ERROR", packet: at, pid: VIDEO_PID })]);
    expect(summary(records).transportErrors).toBe(1);
  });

  it("emits at most maxErrorRecords error records and counts the rest", () => {
    const b = new TsBuilder();
    b.psi();
    for (let i = 0; i < 5; i++) b.packets[b.video(1)][1] |= 0x80;
    const records = inspectBytes(b.bytes(), { maxErrorRecords: 2 });
    expect(errors(records)).toHaveLength(2);
    expect(summary(records)).toMatchObject({ transportErrors: 5, errorsNotShown: 3 });
  });
});
