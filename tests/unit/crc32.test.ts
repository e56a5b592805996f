import { describe, expect, it } from "vitest";
import { crc32Mpeg2, readCrc32, writeCrc32 } from "../../src/ts/crc32.js";

describe("CRC-32/MPEG-2", () => {
  it("gives the standard check value for '123456789'", () => {
    expect(crc32Mpeg2(Buffer.from("123456789", "ascii"))).toBe(0x0376e6e7);
  });

  it("matches ffmpeg's default PAT CRC", () => {
    const pat = Buffer.from("00B00D0001C100000001F000", "hex");
    expect(crc32Mpeg2(pat).toString(16)).toBe("2ab104b2");
  });

  it("yields 0 over a section that includes its own CRC", () => {
    const sec = Buffer.alloc(16);
    Buffer.from("00B00D0001C100000001F000", "hex").copy(sec);
    writeCrc32(sec, 0, 12);
    expect(readCrc32(sec, 12)).toBe(0x2ab104b2);
    expect(crc32Mpeg2(sec)).toBe(0);
  });

  it("is not zlib's reflected CRC-32", () => {
    expect(crc32Mpeg2(Buffer.from("123456789", "ascii"))).not.toBe(0xcbf43926);
  });
});
