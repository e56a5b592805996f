import { describe, expect, it } from "vitest";
import {
  adaptationFieldControl,
  continuityCounter,
  discontinuityIndicator,
  hasPayload,
  hasPcr,
  isNullPacket,
  NULL_PID,
  payloadOffset,
  pid,
  pusi,
  randomAccessIndicator,
  readPcr,
  setContinuityCounter,
  setDiscontinuityIndicator,
  setPid,
  transportErrorIndicator,
  TS_PACKET_SIZE,
  writeNullPacket,
  writePacketHeader,
  writePcr,
  writePcrField,
  readPcrField,
  AFC_ADAPTATION_ONLY,
  AFC_ADAPTATION_AND_PAYLOAD,
} from "../../src/ts/packet.js";

/** A video packet like ffmpeg's first one: PUSI, AF with RAI + PCR, then payload. */
function videoPacketWithPcr(pcr27: number): Uint8Array {
  const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  writePacketHeader(b, 0, 0x100, true, 5, AFC_ADAPTATION_AND_PAYLOAD);
  b[4] = 7; // AF length: flags + PCR
  b[5] = 0x50; // RAI + PCR_flag
  writePcrField(b, 6, pcr27);
  return b;
}

describe("TS packet header accessors", () => {
  it("reads the fields of ffmpeg's PAT packet header 47 40 00 10", () => {
    const b = new Uint8Array(TS_PACKET_SIZE);
    b.set([0x47, 0x40, 0x00, 0x10]);
    expect(pid(b, 0)).toBe(0);
    expect(pusi(b, 0)).toBe(true);
    expect(transportErrorIndicator(b, 0)).toBe(false);
    expect(adaptationFieldControl(b, 0)).toBe(1);
    expect(continuityCounter(b, 0)).toBe(0);
    expect(hasPayload(b, 0)).toBe(true);
    expect(payloadOffset(b, 0)).toBe(4);
  });

  it("works at an offset inside a larger buffer", () => {
    const b = new Uint8Array(3 * TS_PACKET_SIZE);
    writePacketHeader(b, TS_PACKET_SIZE, 0x1234 & 0x1fff, false, 9);
    b[TS_PACKET_SIZE + 1] |= 0x80;
    expect(pid(b, TS_PACKET_SIZE)).toBe(0x1234 & 0x1fff);
    expect(continuityCounter(b, TS_PACKET_SIZE)).toBe(9);
    expect(transportErrorIndicator(b, TS_PACKET_SIZE)).toBe(true);
    expect(pusi(b, TS_PACKET_SIZE)).toBe(false);
    expect(payloadOffset(b, TS_PACKET_SIZE)).toBe(TS_PACKET_SIZE + 4);
  });

  it("sets the continuity counter and PID without touching other bits", () => {
    const b = new Uint8Array(TS_PACKET_SIZE);
    writePacketHeader(b, 0, 0x100, true, 0, AFC_ADAPTATION_AND_PAYLOAD);
    setContinuityCounter(b, 0, 17);
    expect(continuityCounter(b, 0)).toBe(1);
    expect(adaptationFieldControl(b, 0)).toBe(3);
    setPid(b, 0, 0x1fff);
    expect(pid(b, 0)).toBe(0x1fff);
    expect(pusi(b, 0)).toBe(true);
  });

  it("gives the payload offset after the adaptation field, and -1 without payload", () => {
    const b = videoPacketWithPcr(0);
    expect(payloadOffset(b, 0)).toBe(4 + 1 + 7);
    b[3] = (b[3] & 0xcf) | (AFC_ADAPTATION_ONLY << 4);
    b[4] = 183;
    expect(hasPayload(b, 0)).toBe(false);
    expect(payloadOffset(b, 0)).toBe(-1);
  });

  it("returns -1 for an adaptation field length that leaves no room for payload", () => {
    const b = videoPacketWithPcr(0);
    b[4] = 183;
    expect(payloadOffset(b, 0)).toBe(-1);
    b[4] = 200;
    expect(payloadOffset(b, 0)).toBe(-1);
    expect(hasPcr(b, 0)).toBe(false);
    expect(readPcr(b, 0)).toBe(-1);
  });

  it("reads the adaptation field flags", () => {
    const b = videoPacketWithPcr(0);
    expect(randomAccessIndicator(b, 0)).toBe(true);
    expect(discontinuityIndicator(b, 0)).toBe(false);
    expect(setDiscontinuityIndicator(b, 0)).toBe(true);
    expect(discontinuityIndicator(b, 0)).toBe(true);
    expect(randomAccessIndicator(b, 0)).toBe(true);
    setDiscontinuityIndicator(b, 0, false);
    expect(discontinuityIndicator(b, 0)).toBe(false);
  });

  it("refuses to set discontinuity on a packet without adaptation field", () => {
    const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    writePacketHeader(b, 0, 0x100, false, 0);
    const before = b.slice();
    expect(setDiscontinuityIndicator(b, 0)).toBe(false);
    expect(b).toEqual(before);
    expect(discontinuityIndicator(b, 0)).toBe(false);
  });
});

describe("PCR", () => {
  it("writes base 63000 ext 0 as 00 00 7B 0C 7E 00", () => {
    const b = new Uint8Array(6);
    writePcrField(b, 0, 63000 * 300);
    expect(Buffer.from(b).toString("hex")).toBe("00007b0c7e00");
  });

  it("round-trips 42-bit values near the wrap", () => {
    const b = videoPacketWithPcr(0);
    for (const v of [0, 1, 299, 300, 2 ** 32 * 300 + 17, (2 ** 33 - 1) * 300 + 299]) {
      expect(writePcr(b, 0, v)).toBe(true);
      expect(readPcr(b, 0)).toBe(v);
    }
  });

  it("wraps a PCR past 2^33 × 300", () => {
    const b = new Uint8Array(6);
    writePcrField(b, 0, 2 ** 33 * 300 + 5);
    expect(readPcrField(b, 0)).toBe(5);
  });

  it("does not write a PCR into a packet without a PCR field", () => {
    const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
    writePacketHeader(b, 0, 0x100, false, 0);
    expect(writePcr(b, 0, 1234)).toBe(false);
    expect(b[4]).toBe(0xff);
  });
});

describe("null packets", () => {
  it("writes ffmpeg's null packet 47 1F FF 10 FF…", () => {
    const b = new Uint8Array(TS_PACKET_SIZE + 10).fill(0);
    writeNullPacket(b, 10);
    expect(Buffer.from(b.subarray(10, 14)).toString("hex")).toBe("471fff10");
    expect(b.subarray(14).every((x) => x === 0xff)).toBe(true);
    expect(isNullPacket(b, 10)).toBe(true);
    expect(pid(b, 10)).toBe(NULL_PID);
  });

  it("does not take other PIDs for null packets", () => {
    const b = new Uint8Array(TS_PACKET_SIZE);
    writePacketHeader(b, 0, 0x1ffe, false, 0);
    expect(isNullPacket(b, 0)).toBe(false);
  });
});
