/**
 * JpegSplitter: a stream of JPEGs cut into whole images whatever the chunk boundaries (split
 * at every offset, byte by byte, at random), FF D9 inside marker segments not taken for an
 * end, stuffing, restart markers, fill bytes and progressive scans followed, garbage between
 * images skipped, broken and oversized images dropped; and FFmpeg's own mjpeg stream.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JpegSplitter } from "../../src/console/thumbnail-jpeg.js";
import { haveFfmpeg, runTool } from "../helpers/ffmpeg.js";

/** A marker segment: FF code, a 2-byte length, the payload. */
function segment(code: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, code, len >> 8, len & 0xff, ...payload];
}

/** A baseline image whose segments and entropy-coded data hold every tricky byte sequence. */
function trickyJpeg(tag: number): Buffer {
  return Buffer.from([
    0xff,
    0xd8,
    // APP0 whose payload holds an EOI, an SOI and FF FF
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9, 0xff, 0xd8, 0xff, 0xff, tag]),
    // COM of FF bytes
    ...segment(0xfe, [0xff, 0xff, 0xff, 0xd9]),
    ...segment(0xdb, [0x00, ...Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff)]),
    ...segment(0xc0, [0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00]),
    ...segment(0xc4, [0x00, ...Array.from({ length: 16 }, () => 0), 0xff]),
    ...segment(0xdd, [0x00, 0x04]), // DRI
    // fill bytes before a marker
    0xff,
    0xff,
    ...segment(0xda, [0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
    // entropy-coded data: stuffed FF 00, restart markers, a fill FF before a restart
    0x12,
    0xff,
    0x00,
    0x34,
    0xff,
    0xd0,
    0x56,
    0xff,
    0x00,
    0xff,
    0xff,
    0xd1,
    tag,
    0xff,
    0x00,
    0xff,
    0xd9,
  ]);
}

/** A progressive-style image: two scans with a table between them. */
function twoScanJpeg(tag: number): Buffer {
  return Buffer.from([
    0xff,
    0xd8,
    ...segment(0xc2, [0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00]),
    ...segment(0xda, [0x01, 0x01, 0x00, 0x00, 0x00, 0x01]),
    0xaa,
    0xff,
    0x00,
    tag,
    ...segment(0xc4, [0x10, ...Array.from({ length: 16 }, () => 0)]),
    ...segment(0xda, [0x01, 0x01, 0x00, 0x01, 0x3f, 0x00]),
    0xbb,
    0xff,
    0xd7,
    0xcc,
    0xff,
    0xd9,
  ]);
}

/** The smallest image: SOI, EOI. */
const EMPTY_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

const IMAGES = [trickyJpeg(1), twoScanJpeg(2), EMPTY_JPEG, trickyJpeg(3)];
/** The images with garbage before, between (an FF, a lone FF D9) and after them. */
const STREAM = Buffer.concat([
  Buffer.from([0x00, 0xff, 0x12, 0xff]),
  IMAGES[0],
  IMAGES[1],
  Buffer.from([0xff, 0xd9, 0x00]),
  IMAGES[2],
  IMAGES[3],
  Buffer.from([0xff, 0xff]),
]);

/** The images as size and digest (vitest's deep equality on Buffers is slow). */
function sig(images: Buffer[]): string[] {
  return images.map((b) => `${b.length}:${createHash("sha256").update(b).digest("hex")}`);
}

function splitAll(chunks: Buffer[], splitter = new JpegSplitter()): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...splitter.push(c));
  return out;
}

function randomChunks(buf: Buffer, seed: number, maxLen: number): Buffer[] {
  let x = seed;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length;) {
    const n = 1 + Math.floor(rnd() * maxLen);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe("JpegSplitter", () => {
  it("finds every image of a stream in one chunk, skipping the garbage around them", () => {
    const s = new JpegSplitter();
    expect(sig(splitAll([STREAM], s))).toEqual(sig(IMAGES));
    expect(s.stats.images).toBe(4);
    expect(s.stats.skippedBytes).toBe(4 + 3 + 1); // the last FF could still start an SOI
    expect(s.stats.broken).toBe(0);
    expect(s.pending).toBe(false);
  });

  it("gives the same images with the stream split in two at every offset", () => {
    for (let k = 0; k <= STREAM.length; k++) {
      const got = splitAll([STREAM.subarray(0, k), STREAM.subarray(k)]);
      expect(sig(got), `split at ${k}`).toEqual(sig(IMAGES));
    }
  });

  it("gives the same images fed one byte at a time, and in random chunks", () => {
    const bytes = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
    expect(sig(splitAll(bytes))).toEqual(sig(IMAGES));
    for (let seed = 1; seed <= 50; seed++) expect(sig(splitAll(randomChunks(STREAM, seed, 40)))).toEqual(sig(IMAGES));
  });

  it("hands out copies: editing the chunks afterwards changes nothing", () => {
    const copy = Buffer.from(STREAM);
    const got = splitAll([copy.subarray(0, 50), copy.subarray(50)]);
    copy.fill(0);
    expect(sig(got)).toEqual(sig(IMAGES));
  });

  it("drops an image that breaks the marker syntax and finds the next one", () => {
    // a byte other than FF where a marker must start (right after the APP0 segment)
    const bad = Buffer.from(IMAGES[0]);
    const app0Length = (bad[4] << 8) | bad[5];
    bad[4 + app0Length] = 0x00;
    const s = new JpegSplitter();
    for (let k = 0; k <= bad.length; k += 7) {
      const stream = Buffer.concat([bad, IMAGES[1]]);
      const split = new JpegSplitter();
      expect(sig(splitAll([stream.subarray(0, k), stream.subarray(k)], split))).toEqual(sig([IMAGES[1]]));
      expect(split.stats.broken).toBe(1);
    }
    // an image cut short in its entropy-coded data by the next SOI: the new one is kept
    const cut = Buffer.concat([IMAGES[3].subarray(0, IMAGES[3].length - 4), IMAGES[1]]);
    expect(sig(splitAll([cut], s))).toEqual(sig([IMAGES[1]]));
    expect(s.stats.broken).toBe(1);
  });

  it("drops an image larger than its limit and keeps the next", () => {
    const big = Buffer.concat([
      Buffer.from([0xff, 0xd8]),
      Buffer.from(
        segment(
          0xfe,
          Array.from({ length: 3000 }, () => 0x41),
        ),
      ),
      Buffer.from([0xff, 0xd9]),
    ]);
    const s = new JpegSplitter(1000);
    const got = splitAll(randomChunks(Buffer.concat([big, IMAGES[0]]), 7, 300), s);
    expect(sig(got)).toEqual(sig([IMAGES[0]]));
    expect(s.stats.oversize).toBe(1);
  });

  it("forgets a partial image on reset", () => {
    const s = new JpegSplitter();
    s.push(IMAGES[0].subarray(0, 30));
    expect(s.pending).toBe(true);
    s.reset();
    expect(sig(splitAll([IMAGES[0].subarray(30), IMAGES[1]], s))).toEqual(sig([IMAGES[1]]));
  });

  it.runIf(haveFfmpeg())("splits FFmpeg's mjpeg image2pipe stream into its frames, however chunked", async () => {
    const { stdout } = await runTool("ffmpeg", [
      ...["-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"],
      ...["-frames:v", "6", "-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "pipe:1"],
    ]);
    const whole = splitAll([stdout]);
    expect(whole).toHaveLength(6);
    expect(Buffer.concat(whole).equals(stdout)).toBe(true);
    for (const img of whole) {
      expect(img.readUInt16BE(0)).toBe(0xffd8);
      expect(img.readUInt16BE(img.length - 2)).toBe(0xffd9);
    }
    for (let seed = 1; seed <= 20; seed++) expect(sig(splitAll(randomChunks(stdout, seed, 4096)))).toEqual(sig(whole));
    // two-way splits at every 97th offset (every offset of ~100 KB would take minutes)
    for (let k = 0; k <= stdout.length; k += 97) expect(sig(splitAll([stdout.subarray(0, k), stdout.subarray(k)]))).toEqual(sig(whole));
  });
});
