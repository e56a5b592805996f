import { describe, expect, it } from "vitest";
import { AFC_ADAPTATION_AND_PAYLOAD, TS_PACKET_SIZE, writeNullPacket, writePacketHeader } from "../../src/ts/packet.js";
import { buildLongSection } from "../../src/ts/section.js";
import { SectionAssembler, SectionDemux, type SectionErrorKind } from "../../src/ts/section-assembler.js";

const PAT_HEX = "00B00D0001C100000001F0002AB104B2";
const pat = () => Uint8Array.from(Buffer.from(PAT_HEX, "hex"));

function longSection(tableId: number, ext: number, bodyLen: number, fill = 0x11): Uint8Array {
  return buildLongSection(
    {
      tableId,
      privateIndicator: true,
      tableIdExtension: ext,
      versionNumber: 1,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
    },
    new Uint8Array(bodyLen).fill(fill),
  );
}

/** One packet carrying raw payload bytes (0xFF padded). */
function packet(pidValue: number, pusiFlag: boolean, cc: number, payload: number[] | Uint8Array): Uint8Array {
  const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  writePacketHeader(b, 0, pidValue, pusiFlag, cc);
  b.set(payload, 4);
  return b;
}

function collector(opts: { checkCrc?: boolean; maxSectionLength?: number } = {}) {
  const sections: Uint8Array[] = [];
  const errors: SectionErrorKind[] = [];
  const a = new SectionAssembler(0x20, {
    onSection: (s, p) => {
      expect(p).toBe(0x20);
      sections.push(s);
    },
    onError: (k) => errors.push(k),
    ...opts,
  });
  return { a, sections, errors, feed: (...pkts: Uint8Array[]) => pkts.forEach((p) => a.push(p, 0)) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

describe("SectionAssembler", () => {
  it("emits a section contained in one packet, as an exact copy", () => {
    const c = collector();
    const pkt = packet(0x20, true, 0, [0, ...pat()]);
    c.feed(pkt);
    expect(c.sections.map(hex)).toEqual([PAT_HEX]);
    pkt.fill(0);
    expect(hex(c.sections[0])).toBe(PAT_HEX);
    expect(c.a.sections).toBe(1);
  });

  it("reads a packet at an offset inside a larger buffer", () => {
    const c = collector();
    const buf = new Uint8Array(3 * TS_PACKET_SIZE);
    buf.set(packet(0x20, true, 0, [0, ...pat()]), TS_PACKET_SIZE);
    c.a.push(buf, TS_PACKET_SIZE);
    expect(c.sections.map(hex)).toEqual([PAT_HEX]);
  });

  it("assembles a section spanning three packets", () => {
    const s = longSection(0x4e, 7, 400);
    const c = collector();
    c.feed(
      packet(0x20, true, 3, [0, ...s.subarray(0, 183)]),
      packet(0x20, false, 4, s.subarray(183, 367)),
      packet(0x20, false, 5, s.subarray(367)),
    );
    expect(c.sections).toHaveLength(1);
    expect(c.sections[0]).toEqual(s);
  });

  it("emits several sections from one packet and stops at 0xFF stuffing", () => {
    const s1 = pat();
    const s2 = longSection(0x42, 1, 20);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s1, ...s2, 0xff, ...s1]));
    expect(c.sections.map(hex)).toEqual([hex(s1), hex(s2)]);
    expect(c.a.errorCount).toBe(0);
  });

  it("uses pointer_field to finish the previous section and start the next", () => {
    const s1 = longSection(0x4e, 1, 200);
    const s2 = longSection(0x4e, 2, 10);
    const tail = s1.subarray(183);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s1.subarray(0, 183)]), packet(0x20, true, 1, [tail.length, ...tail, ...s2]));
    expect(c.sections).toEqual([s1, s2]);
  });

  it("skips the pointer_field bytes when it joins mid-section", () => {
    const s2 = pat();
    const c = collector();
    c.feed(packet(0x20, false, 0, [1, 2, 3]), packet(0x20, true, 1, [3, 0xaa, 0xbb, 0xcc, ...s2]));
    expect(c.sections.map(hex)).toEqual([PAT_HEX]);
    expect(c.a.errorCount).toBe(0);
  });

  it("drops the section in progress on a CC jump and counts it", () => {
    const s = longSection(0x4e, 7, 300);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s.subarray(0, 183)]), packet(0x20, false, 2, s.subarray(183)));
    expect(c.sections).toHaveLength(0);
    expect(c.errors).toEqual(["continuity"]);
    expect(c.a.errors.continuity).toBe(1);
    c.feed(packet(0x20, true, 3, [0, ...pat()]));
    expect(c.sections.map(hex)).toEqual([PAT_HEX]);
  });

  it("accepts a CC jump flagged with discontinuity_indicator", () => {
    const s = longSection(0x4e, 7, 300);
    const second = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    writePacketHeader(second, 0, 0x20, false, 9, AFC_ADAPTATION_AND_PAYLOAD);
    second[4] = 1;
    second[5] = 0x80;
    const rest = s.subarray(183);
    second.set(rest, 6);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s.subarray(0, 183)]), second);
    expect(c.sections).toEqual([s]);
    expect(c.a.errorCount).toBe(0);
  });

  it("ignores one duplicate packet but not a third copy", () => {
    const s = longSection(0x4e, 7, 300);
    const p1 = packet(0x20, true, 0, [0, ...s.subarray(0, 183)]);
    const p2 = packet(0x20, false, 1, s.subarray(183));
    const c = collector();
    c.feed(p1, p1, p2);
    expect(c.sections).toEqual([s]);
    expect(c.a.errorCount).toBe(0);
    c.feed(p2, p2);
    expect(c.errors).toEqual(["continuity"]);
  });

  it("counts a section cut short by a new PUSI as truncated", () => {
    const s = longSection(0x4e, 7, 300);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s.subarray(0, 183)]), packet(0x20, true, 1, [0, ...pat()]));
    expect(c.errors).toEqual(["truncated"]);
    expect(c.sections.map(hex)).toEqual([PAT_HEX]);
  });

  it("counts a section left incomplete at flush as truncated", () => {
    const s = longSection(0x4e, 7, 300);
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s.subarray(0, 183)]));
    expect(c.a.inProgress).toBe(true);
    c.a.flush();
    expect(c.errors).toEqual(["truncated"]);
    expect(c.a.inProgress).toBe(false);
  });

  it("rejects section_length past the limit of its table", () => {
    const c = collector();
    // PAT with section_length 1022 (> 1021)
    c.feed(packet(0x20, true, 0, [0, 0x00, 0xb3, 0xfe, 0, 1, 0xc1, 0, 0]));
    // private section with section_length 4095 (> 4093)
    c.feed(packet(0x20, true, 1, [0, 0x4e, 0xff, 0xff, 0, 1, 0xc1, 0, 0]));
    // long section too short for its header and CRC
    c.feed(packet(0x20, true, 2, [0, 0x4e, 0xf0, 0x03, 0, 1, 0xc1]));
    expect(c.errors).toEqual(["sectionLength", "sectionLength", "sectionLength"]);
    expect(c.sections).toHaveLength(0);
  });

  it("applies a per-assembler maximum section length", () => {
    const c = collector({ maxSectionLength: 100 });
    const s = longSection(0x4e, 1, 150);
    c.feed(packet(0x20, true, 0, [0, ...s]));
    expect(c.errors).toEqual(["sectionLength"]);
  });

  it("drops and counts a section with a wrong CRC, unless CRC checks are off", () => {
    const bad = pat();
    bad[15] ^= 0xff;
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...bad]));
    expect(c.errors).toEqual(["crc"]);
    expect(c.sections).toHaveLength(0);
    const n = collector({ checkCrc: false });
    n.feed(packet(0x20, true, 0, [0, ...bad]));
    expect(n.sections).toHaveLength(1);
  });

  it("passes a TDT, which has no CRC", () => {
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, 0x70, 0x70, 0x05, 0xed, 0x9b, 0x14, 0x30, 0x05]));
    expect(c.sections.map(hex)).toEqual(["707005ED9B143005"]);
  });

  it("counts a pointer_field that points past the packet", () => {
    const c = collector();
    c.feed(packet(0x20, true, 0, [200]));
    expect(c.errors).toEqual(["pointerField"]);
  });

  it("counts packets with transport_error_indicator and drops the section in progress", () => {
    const s = longSection(0x4e, 7, 300);
    const p2 = packet(0x20, false, 1, s.subarray(183));
    p2[1] |= 0x80;
    const c = collector();
    c.feed(packet(0x20, true, 0, [0, ...s.subarray(0, 183)]), p2);
    expect(c.errors).toEqual(["transportError"]);
    expect(c.sections).toHaveLength(0);
  });

  it("ignores adaptation-field-only packets", () => {
    const c = collector();
    const af = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    writePacketHeader(af, 0, 0x20, false, 0, 0b10);
    af[4] = 183;
    c.feed(packet(0x20, true, 0, [0, ...pat()]), af, packet(0x20, true, 1, [0, ...pat()]));
    expect(c.sections).toHaveLength(2);
    expect(c.a.errorCount).toBe(0);
  });

  it("never throws on random packets or a buffer of zeros, and counts what it sees", () => {
    const c = collector();
    let x = 12345;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const pkt = new Uint8Array(TS_PACKET_SIZE);
    for (let i = 0; i < 3000; i++) {
      for (let j = 0; j < TS_PACKET_SIZE; j++) pkt[j] = rnd();
      pkt[0] = 0x47;
      expect(() => c.a.push(pkt, 0)).not.toThrow();
    }
    expect(c.a.errorCount).toBeGreaterThan(0);
    const zeros = new Uint8Array(TS_PACKET_SIZE * 4);
    for (let o = 0; o < zeros.length; o += TS_PACKET_SIZE) expect(() => c.a.push(zeros, o)).not.toThrow();
    expect(c.errors.length).toBe(c.a.errorCount);
  });
});

describe("SectionDemux", () => {
  it("routes packets to the assembler of their PID and ignores others", () => {
    const got: [number, string][] = [];
    const d = new SectionDemux({ onSection: (s, p) => got.push([p, hex(s)]) });
    d.addPid(0);
    d.addPid(0x1000);
    const buf = new Uint8Array(3 * TS_PACKET_SIZE);
    buf.set(packet(0, true, 0, [0, ...pat()]), 0);
    writeNullPacket(buf, TS_PACKET_SIZE);
    buf.set(packet(0x1000, true, 0, [0, ...pat()]), 2 * TS_PACKET_SIZE);
    d.pushRun(buf, 0, 3);
    expect(got).toEqual([
      [0, PAT_HEX],
      [0x1000, PAT_HEX],
    ]);
    d.removePid(0x1000);
    expect(d.hasPid(0x1000)).toBe(false);
    expect(d.assembler(0)?.sections).toBe(1);
  });
});
