import { describe, expect, it } from "vitest";
import { AFC_ADAPTATION_AND_PAYLOAD, TS_PACKET_SIZE, writePacketHeader } from "../../src/ts/packet.js";
import { createPesHeader, readPacketPts, readPesHeader, readPesHeaderFromPacket } from "../../src/ts/pes.js";
import { writeDts, writePts } from "../../src/ts/timestamps.js";

/** A TS packet starting a video PES with PTS (and DTS), after an adaptation field of `afLen`. */
function pesPacket(pts: number, dts: number, afLen = 0): Uint8Array {
  const b = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  writePacketHeader(b, 0, 0x100, true, 0, afLen > 0 ? AFC_ADAPTATION_AND_PAYLOAD : 1);
  let p = 4;
  if (afLen > 0) {
    b[4] = afLen - 1;
    b[5] = 0x00;
    p += afLen;
  }
  const withDts = dts >= 0;
  b.set([0, 0, 1, 0xe0, 0, 0, 0x84, withDts ? 0xc0 : 0x80, withDts ? 10 : 5], p);
  writePts(b, p + 9, pts, withDts);
  if (withDts) writeDts(b, p + 14, dts);
  return b;
}

describe("PES header", () => {
  it("reads stream_id, length, alignment, PTS and DTS from a PUSI packet", () => {
    const b = pesPacket(133200, 126000, 8);
    const h = createPesHeader();
    expect(readPesHeaderFromPacket(b, 0, h)).toBe(true);
    expect(h.streamId).toBe(0xe0);
    expect(h.pesPacketLength).toBe(0);
    expect(h.dataAlignmentIndicator).toBe(true);
    expect(h.pts).toBe(133200);
    expect(h.dts).toBe(126000);
    expect(h.payloadStart).toBe(4 + 8 + 9 + 10);
    expect(readPacketPts(b, 0)).toBe(133200);
  });

  it("gives DTS -1 when only a PTS is present", () => {
    const b = pesPacket(2 ** 33 - 1, -1);
    const h = createPesHeader();
    expect(readPesHeaderFromPacket(b, 0, h)).toBe(true);
    expect(h.pts).toBe(2 ** 33 - 1);
    expect(h.dts).toBe(-1);
  });

  it("reuses one header object without stale values", () => {
    const h = createPesHeader();
    readPesHeaderFromPacket(pesPacket(1000, 900), 0, h);
    const b = pesPacket(2000, -1);
    b[4 + 7] = 0x00; // no PTS/DTS
    b[4 + 8] = 0;
    expect(readPesHeaderFromPacket(b, 0, h)).toBe(true);
    expect(h.pts).toBe(-1);
    expect(h.dts).toBe(-1);
  });

  it("does not read a header from a packet without PUSI", () => {
    const b = pesPacket(1000, -1);
    b[1] &= ~0x40;
    expect(readPesHeaderFromPacket(b, 0, createPesHeader())).toBe(false);
    expect(readPacketPts(b, 0)).toBe(-1);
  });

  it("rejects a payload without the 00 00 01 start code", () => {
    const b = pesPacket(1000, -1);
    b[6] = 0x02;
    expect(readPesHeaderFromPacket(b, 0, createPesHeader())).toBe(false);
    expect(readPacketPts(b, 0)).toBe(-1);
  });

  it("rejects a header that runs past the end of the data", () => {
    const b = pesPacket(1000, 900);
    expect(readPesHeader(b, 4, 4 + 16, createPesHeader())).toBe(false);
    expect(readPesHeader(b, 4, 4 + 4, createPesHeader())).toBe(false);
  });

  it("reads padding streams without an optional header", () => {
    const b = new Uint8Array([0, 0, 1, 0xbe, 0, 4, 0xff, 0xff, 0xff, 0xff]);
    const h = createPesHeader();
    expect(readPesHeader(b, 0, b.length, h)).toBe(true);
    expect(h.hasOptionalHeader).toBe(false);
    expect(h.pts).toBe(-1);
    expect(h.payloadStart).toBe(6);
  });
});
