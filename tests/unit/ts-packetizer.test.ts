import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import {
  AFC_ADAPTATION_ONLY,
  continuityCounter,
  payloadOffset,
  pid,
  pusi,
  TS_PACKET_SIZE,
  writeNullPacket,
  writePacketHeader,
} from "../../src/ts/packet.js";
import {
  cachedPacketCc,
  ContinuityCounter,
  countPackets,
  packetize,
  packetizeSections,
  writeCachedPacket,
} from "../../src/ts/packetizer.js";
import { buildLongSection } from "../../src/ts/section.js";
import { SectionAssembler } from "../../src/ts/section-assembler.js";

const PAT_HEX = "00B00D0001C100000001F0002AB104B2";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

function longSection(tableId: number, bodyLen: number, fill = 0x22): Uint8Array {
  return buildLongSection(
    {
      tableId,
      privateIndicator: true,
      tableIdExtension: 1,
      versionNumber: 0,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
    },
    new Uint8Array(bodyLen).fill(fill),
  );
}

function reassemble(pkts: Uint8Array[], pidValue: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const a = new SectionAssembler(pidValue, { onSection: (s) => out.push(s), onError: (k) => out.push(Uint8Array.of(0xee, k.length)) });
  for (const p of pkts) a.push(p, 0);
  return out;
}

describe("packetize", () => {
  it("turns ffmpeg's PAT into ffmpeg's PAT packet", () => {
    const [p] = packetize(Buffer.from(PAT_HEX, "hex"), 0);
    expect(hex(p.subarray(0, 21))).toBe("474000100000B00D0001C100000001F0002AB104B2");
    expect(p.subarray(21).every((b) => b === 0xff)).toBe(true);
  });

  it("needs ceil((L + 1) / 184) packets for an L-byte section", () => {
    for (const bodyLen of [1, 170, 171, 172, 354, 355, 356, 1000]) {
      const s = longSection(0x4e, bodyLen);
      const pkts = packetize(s, 0x12);
      expect(pkts.length, `L=${s.length}`).toBe(Math.ceil((s.length + 1) / 184));
      expect(countPackets([s])).toBe(pkts.length);
    }
  });

  it("sets PUSI and pointer_field 0 only on the first packet, CC +1 per packet", () => {
    const s = longSection(0x4e, 600);
    const pkts = packetize(s, 0x12, { counter: new ContinuityCounter(13) });
    expect(pkts.map((p) => pusi(p, 0))).toEqual([true, false, false, false]);
    expect(pkts[0][4]).toBe(0);
    expect(pkts.map((p) => continuityCounter(p, 0))).toEqual([14, 15, 0, 1]);
    expect(pkts.every((p) => pid(p, 0) === 0x12 && p.length === TS_PACKET_SIZE)).toBe(true);
  });

  it("starts the next section in the same packet, with pointer_field = tail length", () => {
    const s1 = longSection(0x4e, 200); // 212 bytes: 183 in packet 1, 29 in packet 2
    const s2 = longSection(0x4f, 10);
    const pkts = packetize([s1, s2], 0x12);
    expect(pkts).toHaveLength(2);
    expect(pusi(pkts[1], 0)).toBe(true);
    expect(pkts[1][4]).toBe(s1.length - 183);
    expect(pkts[1][5 + s1.length - 183]).toBe(0x4f);
  });

  it("starts every section in a new packet at payload start when asked (SCTE-35)", () => {
    const sections = [longSection(0xfc, 20), longSection(0xfc, 30), longSection(0xfc, 300)];
    const pkts = packetize(sections, 0x1f4, { newPacketPerSection: true });
    expect(pkts).toHaveLength(4);
    expect(pkts.map((p) => pusi(p, 0))).toEqual([true, true, true, false]);
    for (const i of [0, 1, 2]) {
      expect(pkts[i][4]).toBe(0);
      expect(pkts[i][5]).toBe(0xfc);
    }
    expect(reassemble(pkts, 0x1f4)).toEqual(sections);
  });

  it("does not start a section in a packet without room after the pointer_field", () => {
    // First section leaves exactly 183 bytes for packet 2: no room for pointer + next section.
    const s1 = longSection(0x4e, 183 + 183 - 12);
    expect(s1.length).toBe(183 + 183);
    const s2 = longSection(0x4f, 5);
    const pkts = packetize([s1, s2], 0x12);
    expect(pkts.map((p) => pusi(p, 0))).toEqual([true, false, true]);
    expect(pkts[1][187]).toBe(0xff);
    expect(reassemble(pkts, 0x12)).toEqual([s1, s2]);
  });

  it("refuses something that is not one whole section", () => {
    const s = longSection(0x4e, 10);
    for (const bad of [s.subarray(0, 5), new Uint8Array([1, 2]), Uint8Array.from([0xff, 0x00, 0x00])]) {
      let err: unknown;
      try {
        packetizeSections([bad], 0x12);
      } catch (e) {
        err = e;
      }
      expect(isOnairError(err) && err.code).toBe("ONAIR_TS_BAD_SECTION");
    }
  });

  it("round-trips random sections through the assembler, packed or one per packet", () => {
    const section = fc.oneof(
      fc
        .record({
          tid: fc.integer({ min: 0x03, max: 0xfe }),
          len: fc.integer({ min: 1, max: 1200 }),
          fill: fc.integer({ min: 0, max: 255 }),
        })
        .map(({ tid, len, fill }) => longSection(tid, len, fill)),
      // short sections without CRC (TDT-like, ssi 0)
      fc.uint8Array({ minLength: 0, maxLength: 400 }).map((body) => {
        const s = new Uint8Array(3 + body.length);
        s[0] = 0x70;
        s[1] = 0x70 | (body.length >> 8);
        s[2] = body.length & 0xff;
        s.set(body, 3);
        return s;
      }),
    );
    fc.assert(
      fc.property(
        fc.array(section, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 15 }),
        (sections, perSection, cc0) => {
          const counter = new ContinuityCounter(cc0);
          const pkts = packetize(sections, 0x30, { newPacketPerSection: perSection, counter });
          expect(reassemble(pkts, 0x30)).toEqual(sections);
          expect(pkts.length).toBe(countPackets(sections, { newPacketPerSection: perSection }));
          pkts.forEach((p, i) => expect(continuityCounter(p, 0)).toBe((cc0 + 1 + i) & 15));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("cached packets and continuity counters", () => {
  it("writes a cached packet into a null slot with the PID's next CC", () => {
    const cached = packetizeSections([longSection(0x42, 300)], 0x11);
    expect(cached.map(cachedPacketCc)).toEqual([0, 0]);
    const out = new Uint8Array(4 * TS_PACKET_SIZE);
    for (let i = 0; i < 4; i++) writeNullPacket(out, i * TS_PACKET_SIZE);
    const cc = new ContinuityCounter(6);
    expect(writeCachedPacket(out, TS_PACKET_SIZE, cached[0], cc)).toBe(7);
    expect(writeCachedPacket(out, 3 * TS_PACKET_SIZE, cached[1], cc)).toBe(8);
    expect(pid(out, TS_PACKET_SIZE)).toBe(0x11);
    expect(continuityCounter(out, 3 * TS_PACKET_SIZE)).toBe(8);
    expect(pid(out, 0)).toBe(0x1fff);
    expect(cachedPacketCc(cached[0])).toBe(0);
    const p1 = out.slice(TS_PACKET_SIZE, 2 * TS_PACKET_SIZE);
    const p3 = out.slice(3 * TS_PACKET_SIZE);
    expect(reassemble([p1, p3], 0x11)).toEqual([longSection(0x42, 300)]);
  });

  it("keeps the CC of adaptation-field-only packets and wraps at 16", () => {
    const cc = new ContinuityCounter();
    const b = new Uint8Array(TS_PACKET_SIZE);
    writePacketHeader(b, 0, 0x100, false, 0);
    const seen: number[] = [];
    for (let i = 0; i < 17; i++) seen.push(cc.stamp(b, 0));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]);
    writePacketHeader(b, 0, 0x100, false, 0, AFC_ADAPTATION_ONLY);
    b[4] = 183;
    expect(payloadOffset(b, 0)).toBe(-1);
    expect(cc.stamp(b, 0)).toBe(0);
    expect(cc.current).toBe(0);
    cc.set(9);
    expect(cc.next()).toBe(10);
  });
});
