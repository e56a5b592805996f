import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PatSection } from "../../src/ts/pat.js";
import { PmtSection, STREAM_TYPE_AAC_ADTS, STREAM_TYPE_H264, STREAM_TYPE_SCTE35 } from "../../src/ts/pmt.js";
import { writeCrc32 } from "../../src/ts/crc32.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));

const FFMPEG_PAT = "00B00D0001C100000001F0002AB104B2";

/** A PMT like ffmpeg's (video 0x100 H.264, audio 0x101 AAC with an ISO 639 descriptor), CRC computed. */
function ffmpegLikePmt(): Uint8Array {
  const s = bytes("02 B0 1D 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 0F E1 01 F0 06 0A 04 65 6E 67 00 00 00 00 00");
  writeCrc32(s, 0, s.length - 4);
  return s;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe("PatSection", () => {
  it("decodes ffmpeg's default PAT", () => {
    const pat = PatSection.decode(bytes(FFMPEG_PAT));
    expect(pat.transportStreamId).toBe(1);
    expect(pat.versionNumber).toBe(0);
    expect(pat.currentNextIndicator).toBe(true);
    expect(pat.programs).toEqual([{ programNumber: 1, pid: 0x1000 }]);
    expect(pat.pmtPid(1)).toBe(0x1000);
    expect(pat.pmtPid(2)).toBe(-1);
  });

  it("re-encodes ffmpeg's default PAT byte for byte", () => {
    expect(hex(PatSection.decode(bytes(FFMPEG_PAT)).encode())).toBe(FFMPEG_PAT);
  });

  it("round-trips random PATs: decode(encode(x)) equals x", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 31 }),
        fc.array(fc.record({ programNumber: fc.integer({ min: 0, max: 0xffff }), pid: fc.integer({ min: 0, max: 0x1fff }) }), {
          maxLength: 50,
        }),
        (tsid, v, programs) => {
          const pat = new PatSection({ transportStreamId: tsid, versionNumber: v, programs });
          const back = PatSection.decode(pat.encode());
          expect(back).toEqual(pat);
          expect(hex(back.encode())).toBe(hex(pat.encode()));
        },
      ),
    );
  });

  it("reports a wrong CRC, a wrong table_id and a truncated section with their codes", () => {
    const bad = bytes(FFMPEG_PAT);
    bad[15] ^= 1;
    expect(codeOf(() => PatSection.decode(bad))).toBe("ONAIR_TS_CRC");
    expect(codeOf(() => PatSection.decode(ffmpegLikePmt()))).toBe("ONAIR_TS_BAD_TABLE_ID");
    expect(codeOf(() => PatSection.decode(bytes(FFMPEG_PAT).subarray(0, 10)))).toBe("ONAIR_TS_TRUNCATED");
    expect(codeOf(() => PatSection.decode(new Uint8Array(0)))).toBe("ONAIR_TS_TRUNCATED");
  });

  it("rejects a program loop that is not a multiple of 4 bytes", () => {
    const s = bytes("00 B0 0E 00 01 C1 00 00 00 01 F0 00 AA 00 00 00 00");
    writeCrc32(s, 0, s.length - 4);
    expect(codeOf(() => PatSection.decode(s))).toBe("ONAIR_TS_BAD_SECTION");
  });
});

describe("PmtSection", () => {
  it("decodes an ffmpeg-style PMT with descriptors kept raw", () => {
    const pmt = PmtSection.decode(ffmpegLikePmt());
    expect(pmt.programNumber).toBe(1);
    expect(pmt.pcrPid).toBe(0x100);
    expect(pmt.programInfo).toEqual([]);
    expect(pmt.streams.map((s) => [s.streamType, s.elementaryPid])).toEqual([
      [STREAM_TYPE_H264, 0x100],
      [STREAM_TYPE_AAC_ADTS, 0x101],
    ]);
    expect(pmt.streams[1].descriptors).toEqual([{ tag: 0x0a, data: bytes("656E6700") }]);
    expect(pmt.findStream(STREAM_TYPE_AAC_ADTS)?.elementaryPid).toBe(0x101);
  });

  it("re-encodes the PMT byte for byte", () => {
    const b = ffmpegLikePmt();
    expect(hex(PmtSection.decode(b).encode())).toBe(hex(b));
  });

  it("adds the SCTE-35 stream and CUEI registration with a new version and CRC", () => {
    const pmt = PmtSection.decode(ffmpegLikePmt());
    pmt.versionNumber = 1;
    pmt.programInfo.push({ tag: 0x05, data: bytes("43554549") });
    pmt.streams.push({ streamType: STREAM_TYPE_SCTE35, elementaryPid: 0x1f4, descriptors: [{ tag: 0x8a, data: bytes("01") }] });
    const out = pmt.encode();
    expect(hex(out).slice(0, 32)).toBe("02B02B0001C30000E100F00605044355");
    expect(hex(out)).toContain("86E1F4F0038A0101");
    expect(PmtSection.decode(out)).toEqual(pmt);
  });

  it("round-trips random PMTs: decode(encode(x)) equals x", () => {
    const descriptor = fc.record({ tag: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: 0, max: 0x1fff }),
        fc.array(descriptor, { maxLength: 4 }),
        fc.array(
          fc.record({
            streamType: fc.integer({ min: 0, max: 255 }),
            elementaryPid: fc.integer({ min: 0, max: 0x1fff }),
            descriptors: fc.array(descriptor, { maxLength: 3 }),
          }),
          { maxLength: 8 },
        ),
        (programNumber, versionNumber, pcrPid, programInfo, streams) => {
          const pmt = new PmtSection({ programNumber, versionNumber, pcrPid, programInfo, streams });
          const enc = pmt.encode();
          expect(PmtSection.decode(enc)).toEqual(pmt);
          expect(hex(PmtSection.decode(enc).encode())).toBe(hex(enc));
        },
      ),
    );
  });

  it("reports an ES_info loop that runs past the section as truncated", () => {
    const s = ffmpegLikePmt();
    s[21] = 0x07; // ES_info_length 6 → 7: the descriptor loop overruns the section
    writeCrc32(s, 0, s.length - 4);
    expect(codeOf(() => PmtSection.decode(s))).toBe("ONAIR_TS_TRUNCATED");
  });

  it("reports a wrong CRC and a PAT given as PMT", () => {
    const s = ffmpegLikePmt();
    s[10] ^= 0x01;
    expect(codeOf(() => PmtSection.decode(s))).toBe("ONAIR_TS_CRC");
    expect(codeOf(() => PmtSection.decode(bytes(FFMPEG_PAT)))).toBe("ONAIR_TS_BAD_TABLE_ID");
  });

  it("refuses to encode a PMT longer than 1024 bytes", () => {
    const big = new PmtSection({
      programNumber: 1,
      pcrPid: 0x100,
      streams: Array.from({ length: 10 }, (_, i) => ({
        streamType: 6,
        elementaryPid: 0x200 + i,
        descriptors: [{ tag: 0x80, data: new Uint8Array(200) }],
      })),
    });
    expect(codeOf(() => big.encode())).toBe("ONAIR_TS_SECTION_TOO_LONG");
  });
});
