import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pid, TS_PACKET_SIZE, writePacketHeader } from "../../src/ts/packet.js";
import { TsReader, type TsReaderStats } from "../../src/ts/reader.js";

/** Packet i: PID 0x100 + (i % 3), CC i % 16, payload bytes that never contain 0x47. */
function makePacket(i: number): Uint8Array {
  const b = new Uint8Array(TS_PACKET_SIZE);
  writePacketHeader(b, 0, 0x100 + (i % 3), i % 10 === 0, i & 15);
  for (let j = 4; j < TS_PACKET_SIZE; j++) {
    const v = (i * 7 + j) & 0xff;
    b[j] = v === 0x47 ? 0x46 : v;
  }
  return b;
}

function garbage(n: number, seed: number): Uint8Array {
  const g = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const v = x >>> 24;
    g[i] = v === 0x47 ? 0x48 : v;
  }
  return g;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

interface Result {
  packets: Uint8Array;
  stats: TsReaderStats;
  runs: number;
  lossOffsets: number[];
}

/** Feeds `stream` cut into chunks of the given sizes (cycled) and collects everything. */
function readChunked(stream: Uint8Array, sizes: number[]): Result {
  const out: Uint8Array[] = [];
  let runs = 0;
  const lossOffsets: number[] = [];
  const r = new TsReader({
    onPackets: (buf, start, count) => {
      runs++;
      expect(start + count * TS_PACKET_SIZE).toBeLessThanOrEqual(buf.length);
      out.push(buf.slice(start, start + count * TS_PACKET_SIZE));
    },
    onSyncLoss: (o) => lossOffsets.push(o),
  });
  let pos = 0;
  let k = 0;
  while (pos < stream.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]);
    r.push(stream.subarray(pos, pos + n));
    pos += n;
  }
  r.end();
  return { packets: concat(out), stats: { ...r.stats }, runs, lossOffsets };
}

/**
 * 40 packets with garbage runs inserted before packets 0 (13 bytes), 9 (1 byte),
 * 17 (400 bytes), 26 (187 bytes) and 38 (5 bytes), a TEI packet, and a 100-byte truncated tail.
 */
function damagedStream(): { stream: Uint8Array; clean: Uint8Array; garbageBytes: number; episodes: number; lossAt: number[] } {
  const insert = new Map<number, number>([
    [0, 13],
    [9, 1],
    [17, 400],
    [26, 187],
    [38, 5],
  ]);
  const parts: Uint8Array[] = [];
  const clean: Uint8Array[] = [];
  const lossAt: number[] = [];
  let len = 0;
  let garbageBytes = 0;
  for (let i = 0; i < 40; i++) {
    const g = insert.get(i);
    if (g) {
      lossAt.push(len);
      parts.push(garbage(g, i + 1));
      len += g;
      garbageBytes += g;
    }
    const p = makePacket(i);
    if (i === 5) p[1] |= 0x80;
    parts.push(p);
    clean.push(p);
    len += TS_PACKET_SIZE;
  }
  parts.push(makePacket(40).subarray(0, 100));
  return { stream: concat(parts), clean: concat(clean), garbageBytes, episodes: insert.size, lossAt };
}

describe("TsReader", () => {
  it("emits aligned packets of one chunk in place as a single run", () => {
    const stream = concat([makePacket(0), makePacket(1), makePacket(2), makePacket(3), makePacket(4), makePacket(5)]);
    const seen: { buf: Uint8Array; start: number; count: number }[] = [];
    const r = new TsReader({ onPackets: (buf, start, count) => seen.push({ buf, start, count }) });
    r.push(stream);
    r.end();
    expect(seen).toHaveLength(1);
    expect(seen[0].buf).toBe(stream);
    expect(seen[0].start).toBe(0);
    expect(seen[0].count).toBe(6);
    expect(r.stats.packets).toBe(6);
    expect(r.stats.resyncs).toBe(0);
    expect(r.stats.bytesSkipped).toBe(0);
  });

  it("recovers every packet around garbage and counts the damage", () => {
    const d = damagedStream();
    const res = readChunked(d.stream, [d.stream.length]);
    expect(Buffer.from(res.packets).equals(Buffer.from(d.clean))).toBe(true);
    expect(res.stats.packets).toBe(40);
    expect(res.stats.bytesSkipped).toBe(d.garbageBytes);
    expect(res.stats.resyncs).toBe(d.episodes);
    expect(res.lossOffsets).toEqual(d.lossAt);
    expect(res.stats.transportErrors).toBe(1);
    expect(res.stats.truncatedPackets).toBe(1);
    expect(res.stats.truncatedBytes).toBe(100);
    expect(res.stats.bytesIn).toBe(d.stream.length);
  });

  it("gives identical packets and counters for a split at every offset", () => {
    const d = damagedStream();
    const ref = readChunked(d.stream, [d.stream.length]);
    for (let k = 1; k < d.stream.length; k++) {
      const out: Uint8Array[] = [];
      const rr = new TsReader({ onPacket: (b, o) => out.push(b.slice(o, o + TS_PACKET_SIZE)) });
      rr.push(d.stream.subarray(0, k));
      rr.push(d.stream.subarray(k));
      rr.end();
      const got = concat(out);
      if (!Buffer.from(got).equals(Buffer.from(ref.packets))) throw new Error(`packets differ when split at ${k}`);
      expect(rr.stats, `split at ${k}`).toEqual(ref.stats);
    }
  });

  it("gives identical packets and counters for 1-byte chunks", () => {
    const d = damagedStream();
    const ref = readChunked(d.stream, [d.stream.length]);
    const res = readChunked(d.stream, [1]);
    expect(Buffer.from(res.packets).equals(Buffer.from(ref.packets))).toBe(true);
    expect(res.stats).toEqual(ref.stats);
    expect(res.lossOffsets).toEqual(ref.lossOffsets);
  });

  it("gives identical packets and counters for random chunk sizes", () => {
    const d = damagedStream();
    const ref = readChunked(d.stream, [d.stream.length]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const res = readChunked(d.stream, sizes);
        expect(Buffer.from(res.packets).equals(Buffer.from(ref.packets))).toBe(true);
        expect(res.stats).toEqual(ref.stats);
        expect(res.lossOffsets).toEqual(ref.lossOffsets);
      }),
      { numRuns: 200 },
    );
  });

  it("drops a packet whose sync byte is corrupted and relocks on the next one", () => {
    const pkts = Array.from({ length: 12 }, (_, i) => makePacket(i));
    pkts[6][0] = 0x00;
    const res = readChunked(concat(pkts), [1000]);
    expect(res.stats.packets).toBe(11);
    expect(res.stats.resyncs).toBe(1);
    expect(res.stats.bytesSkipped).toBe(TS_PACKET_SIZE);
    const pids: number[] = [];
    for (let o = 0; o < res.packets.length; o += TS_PACKET_SIZE) pids.push(res.packets[o + 3] & 15);
    expect(pids).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11]);
  });

  it("does not lock on fewer than 5 sync bytes at 188 spacing inside a stream", () => {
    // Four fake sync bytes at 188 spacing in garbage (the fifth spacing is garbage), then real packets.
    const fake = garbage(4 * TS_PACKET_SIZE + 10, 7);
    for (let k = 0; k < 4; k++) fake[k * TS_PACKET_SIZE] = 0x47;
    const real = Array.from({ length: 8 }, (_, i) => makePacket(i));
    const res = readChunked(concat([fake, ...real]), [50]);
    expect(res.stats.packets).toBe(8);
    expect(res.stats.bytesSkipped).toBe(fake.length);
    expect(res.stats.resyncs).toBe(1);
  });

  it("reads a stream of zeros or random bytes without throwing or emitting", () => {
    const zeros = new Uint8Array(5000);
    const z = readChunked(zeros, [333]);
    expect(z.stats.packets).toBe(0);
    expect(z.stats.bytesSkipped).toBe(5000);
    expect(z.stats.resyncs).toBe(1);
    const g = readChunked(garbage(5000, 99), [77]);
    expect(g.stats.packets).toBe(0);
    expect(g.stats.bytesSkipped).toBe(5000);
  });

  it("reports a final partial packet as truncated, not as a packet", () => {
    const stream = concat([makePacket(0), makePacket(1), makePacket(2).subarray(0, 50)]);
    const res = readChunked(stream, [7]);
    expect(res.stats.packets).toBe(2);
    expect(res.stats.truncatedPackets).toBe(1);
    expect(res.stats.truncatedBytes).toBe(50);
  });

  it("reads views into a larger pooled ArrayBuffer using their byteOffset", () => {
    const pkts = concat(Array.from({ length: 6 }, (_, i) => makePacket(i)));
    const pool = new ArrayBuffer(pkts.length + 1000);
    new Uint8Array(pool).fill(0x47);
    const view = Buffer.from(pool, 333, pkts.length);
    view.set(pkts);
    const res = readChunked(view, [401]);
    expect(Buffer.from(res.packets).equals(Buffer.from(pkts))).toBe(true);
  });

  it("calls onPacket once per packet in order when no run handler is given", () => {
    const pids: number[] = [];
    const r = new TsReader({ onPacket: (b, o) => pids.push(pid(b, o)) });
    r.push(concat(Array.from({ length: 6 }, (_, i) => makePacket(i))));
    r.end();
    expect(pids).toEqual([0x100, 0x101, 0x102, 0x100, 0x101, 0x102]);
  });

  it("holds back at most lockCount packets while searching", () => {
    const r = new TsReader({ onPackets: () => {} });
    r.push(garbage(3, 1));
    r.push(concat([makePacket(0), makePacket(1)]));
    expect(r.isLocked).toBe(false);
    expect(r.pendingBytes).toBe(2 * TS_PACKET_SIZE);
    expect(r.stats.bytesSkipped).toBe(3);
    r.push(concat([makePacket(2), makePacket(3), makePacket(4)]));
    expect(r.isLocked).toBe(true);
    expect(r.stats.packets).toBe(5);
  });
});
