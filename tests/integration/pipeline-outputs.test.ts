/**
 * Outputs on 127.0.0.1 and a temp dir, fed with a real FFmpeg TS (tests/helpers/ffmpeg.ts).
 */
import { createSocket, type Socket } from "node:dgram";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandPathTemplate, FileOutput, OutputFanout, StdoutOutput, UdpOutput } from "../../src/pipeline/outputs/index.js";
import { cleanupTestTs, makeTestTs } from "../helpers/ffmpeg.js";
import { until, waitEvent } from "../helpers/pipeline.js";

let ts: Buffer;
let tmp: string;

beforeAll(async () => {
  ts = readFileSync(await makeTestTs({ seconds: 2, muxrate: "1M", name: "outputs.ts" }));
  tmp = mkdtempSync(join(tmpdir(), "onair-outputs-"));
});
afterAll(() => {
  cleanupTestTs();
  rmSync(tmp, { recursive: true, force: true });
});

/** A UDP receiver on 127.0.0.1 collecting datagrams. */
async function receiver(): Promise<{ sock: Socket; port: number; got: Buffer[]; bytes: () => number }> {
  const sock = createSocket("udp4");
  const got: Buffer[] = [];
  sock.on("message", (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return { sock, port: sock.address().port, got, bytes: () => got.reduce((n, b) => n + b.length, 0) };
}

/** Irregular chunk sizes (never 188-aligned), deterministic. */
function* chunksOf(buf: Buffer): Generator<Buffer> {
  const sizes = [1, 187, 189, 1000, 4096, 7, 65_536, 333];
  let i = 0;
  for (let k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length];
    yield buf.subarray(i, i + n);
    i += n;
  }
}

/** Feeds `buf` paced by the receiver (loopback socket buffers are small): waits, never sleeps. */
async function feedPaced(write: (c: Buffer) => void, buf: Buffer, received: () => number, base = 0): Promise<void> {
  let fed = 0;
  for (const c of chunksOf(buf)) {
    write(c);
    fed += c.length;
    if (fed - (received() - base) > 40 * 1024) {
      const target = Math.floor((fed - 8 * 1024) / 1316) * 1316;
      await until(() => received() - base >= target, 5000, "the receiver to catch up");
    }
  }
}

describe("UdpOutput", () => {
  it("sends datagrams of exactly 7×188 bytes, each starting on a packet, nothing lost or reordered", async () => {
    const rx = await receiver();
    const out = new UdpOutput({ host: "127.0.0.1", port: rx.port });
    try {
      await out.open();
      await feedPaced((c) => out.write(c), ts, rx.bytes);
      const whole = Math.floor(ts.length / 1316) * 1316;
      await until(() => rx.bytes() >= whole, 5000, "all datagrams");
      expect(rx.got.length).toBe(whole / 1316);
      for (const d of rx.got) {
        expect(d.length).toBe(1316);
        for (let i = 0; i < 1316; i += 188) expect(d[i]).toBe(0x47);
      }
      expect(Buffer.concat(rx.got).equals(ts.subarray(0, whole))).toBe(true);
      expect(out.stats).toMatchObject({
        datagrams: whole / 1316,
        bytes: whole,
        packets: whole / 188,
        droppedBytes: 0,
        errors: 0,
        resyncBytes: 0,
      });
    } finally {
      await out.close();
      rx.sock.close();
    }
  });

  it("sends the partly filled datagram at close, and reused datagram buffers never mix their contents", async () => {
    const rx = await receiver();
    const out = new UdpOutput({ host: "127.0.0.1", port: rx.port });
    const pkts = ts.subarray(0, 188 * 40); // 5 whole datagrams and 5 packets
    try {
      await out.open();
      // one datagram at a time, each sent only after the previous one arrived: the same buffer comes back
      for (let d = 0; d < 5; d++) {
        out.write(pkts.subarray(d * 1316, (d + 1) * 1316));
        await until(() => rx.got.length === d + 1, 3000, `datagram ${d + 1}`);
      }
      out.write(pkts.subarray(5 * 1316));
      expect(rx.got.length).toBe(5);
    } finally {
      await out.close();
    }
    await until(() => rx.got.length === 6, 3000, "the flushed datagram");
    rx.sock.close();
    expect(rx.got.map((d) => d.length)).toEqual([1316, 1316, 1316, 1316, 1316, 5 * 188]);
    expect(Buffer.concat(rx.got).equals(pkts)).toBe(true);
  });

  it("regains packet sync after garbage and honours packetsPerDatagram", async () => {
    const rx = await receiver();
    const out = new UdpOutput({ host: "127.0.0.1", port: rx.port, packetsPerDatagram: 2 });
    try {
      await out.open();
      const pkts = ts.subarray(0, 188 * 10);
      out.write(Buffer.concat([Buffer.from([1, 2, 3]), pkts.subarray(0, 200), Buffer.from([9, 9]), pkts.subarray(200 + 176)]));
      // 3 junk bytes skipped; the packet cut at 200 is lost with its 176 bytes, the 2 junk bytes + 12 stray bytes skipped
      await until(() => out.stats.datagrams >= 4, 3000, "datagrams");
      expect(rx.got.every((d) => d.length === 376 && d[0] === 0x47 && d[188] === 0x47)).toBe(true);
      expect(out.stats.resyncBytes).toBeGreaterThan(0);
    } finally {
      await out.close();
      rx.sock.close();
    }
  });

  it("finds sync by the TS reader's rule: a stray 0x47 in garbage is not taken for a packet start", async () => {
    const rx = await receiver();
    const out = new UdpOutput({ host: "127.0.0.1", port: rx.port, packetsPerDatagram: 2 });
    const garbage = Buffer.alloc(50, 0xff);
    garbage[10] = 0x47; // one sync byte, not followed by another 188 bytes on
    const good = ts.subarray(0, 188 * 20);
    try {
      await out.open();
      out.write(Buffer.concat([good.subarray(0, 188 * 10), garbage, good.subarray(188 * 10)]));
      await until(() => rx.bytes() >= good.length, 3000, "the 20 packets");
      expect(Buffer.concat(rx.got).equals(good)).toBe(true);
      expect(out.stats).toMatchObject({ resyncBytes: garbage.length, packets: 20, datagrams: 10 });
    } finally {
      await out.close();
      rx.sock.close();
    }
  });

  it("sets multicast TTL and interface without failing", async () => {
    const out = new UdpOutput({ host: "239.255.42.1", port: 5999, ttl: 4, interface: "127.0.0.1" });
    try {
      await out.open();
      out.write(ts.subarray(0, 188 * 14));
      await until(() => out.stats.datagrams + out.stats.errors >= 2, 3000, "two sends");
      // the send itself may fail where no multicast route exists; either way it is counted, not thrown
      expect(out.stats.datagrams + out.stats.droppedChunks).toBe(2);
    } finally {
      await out.close();
    }
  });

  it("sends to a unicast port nobody listens on without an error (no receiver yet is normal for UDP)", async () => {
    const rx = await receiver();
    const port = rx.port;
    await new Promise<void>((r) => rx.sock.close(r));
    const out = new UdpOutput({ host: "127.0.0.1", port });
    try {
      await out.open();
      // each datagram draws an ICMP port unreachable; it must not turn into output errors
      for (let k = 0; k < 20; k++) {
        out.write(ts.subarray(k * 1316 * 3, (k + 1) * 1316 * 3));
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => out.stats.datagrams === 60, 3000, "60 datagrams");
      expect(out.stats).toMatchObject({ errors: 0, droppedBytes: 0, failing: false });
    } finally {
      await out.close();
    }
  });

  it("counts a lookup failure and keeps dropping (bounded) instead of throwing", async () => {
    const out = new UdpOutput({ host: "no-such-host.invalid", port: 5000, retryMinMs: 50, retryMaxMs: 100 });
    try {
      const failed = waitEvent(out, "failed", 10_000);
      void out.open();
      await failed;
      out.write(ts.subarray(0, 1316 * 3));
      expect(out.stats.droppedBytes).toBe(1316 * 3);
      expect(out.stats.errors).toBeGreaterThanOrEqual(1);
    } finally {
      await out.close();
    }
  });
});

describe("FileOutput", () => {
  it("rotates by size into several files whose concatenation is the input", async () => {
    const dir = join(tmp, "rot");
    // wall time stands still, so that every file opens in the same second (a real clock can
    // cross a second between two files, and the suffix is only for same-second names)
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
    const clock = { now: () => at, monotonic: () => performance.now() };
    const out = new FileOutput({ path: join(dir, "rec-%Y%m%d-%H%M%S.ts"), rotateBytes: 188 * 1000, clock });
    const rotated: string[] = [];
    out.on("rotated", (e) => rotated.push(e.path));
    for (const c of chunksOf(ts)) out.write(c);
    await out.close();
    const expected = Math.ceil(ts.length / (188 * 1000));
    expect(rotated.length).toBe(expected);
    expect(readdirSync(dir).length).toBe(expected);
    const files = rotated.map((p) => readFileSync(p));
    for (const f of files.slice(0, -1)) expect(f.length).toBe(188 * 1000);
    expect(Buffer.concat(files).equals(ts)).toBe(true);
    // names carry the timestamp; same-second files get a -N suffix, never overwrite
    expect(rotated[0]).toMatch(/rec-\d{8}-\d{6}\.ts$/);
    expect(rotated[1]).toMatch(/rec-\d{8}-\d{6}-1\.ts$/);
    expect(rotated[1].replace(/-1\.ts$/, ".ts")).toBe(rotated[0]);
    expect(out.stats).toMatchObject({ bytes: ts.length, files: expected, droppedBytes: 0, errors: 0 });
  });

  it("keeps only the newest files it created", async () => {
    const dir = join(tmp, "keep");
    const out = new FileOutput({ path: join(dir, "k.ts"), rotateBytes: 188 * 100, keep: 2 });
    out.write(ts.subarray(0, 188 * 450));
    await out.close();
    expect(readdirSync(dir).sort()).toEqual(["k-3.ts", "k-4.ts"]);
  });

  it("keep counts the recordings of earlier runs too, and deletes only files of its own pattern", async () => {
    const dir = join(tmp, "keep-runs");
    mkdirSync(join(dir, "rec-20250101-000000.ts"), { recursive: true }); // a directory with a matching name
    const other = join(tmp, "elsewhere.ts");
    writeFileSync(other, "x");
    symlinkSync(other, join(dir, "rec-20250101-000001.ts")); // a symlink with a matching name
    const foreign = ["notes.txt", "rec-2025.ts", "tv-20250101-000000.ts", "rec-20250101-000000.ts.part", "rec-20250101-000000-x.ts"];
    for (const f of foreign) writeFileSync(join(dir, f), "keep me");
    // six starts, three files each, with keep: 3 (the issue saw 13 left after 6 starts)
    let at = Date.UTC(2026, 0, 2, 3, 4, 5);
    for (let run = 0; run < 6; run++) {
      at += 3600_000;
      const clock = { now: () => at, monotonic: () => performance.now() };
      const out = new FileOutput({ path: join(dir, "rec-%Y%m%d-%H%M%S.ts"), rotateBytes: 188 * 100, keep: 3, clock });
      out.write(ts.subarray(0, 188 * 250));
      await out.close();
      const recs = readdirSync(dir).filter(
        (f) => /^rec-\d{8}-\d{6}(-\d+)?\.ts$/.test(f) && statSync(join(dir, f)).isFile() && !lstatSync(join(dir, f)).isSymbolicLink(),
      );
      expect(recs.length, `after start ${run + 1}`).toBe(3);
    }
    // the last run's three files are the ones kept; nothing else was touched
    const stamp = expandPathTemplate("rec-%Y%m%d-%H%M%S", at);
    expect(readdirSync(dir).sort()).toEqual(
      [...foreign, "rec-20250101-000000.ts", "rec-20250101-000001.ts", `${stamp}.ts`, `${stamp}-1.ts`, `${stamp}-2.ts`].sort(),
    );
    expect(readFileSync(other, "utf8")).toBe("x");
  });

  it("a recording that cannot be written keeps erroring while UDP gets everything", async () => {
    // tests run as root, which ignores permission bits: make the directory impossible
    // instead (a path under a regular file → ENOTDIR)
    const blocker = join(tmp, "blocker");
    writeFileSync(blocker, "not a directory");
    const rx = await receiver();
    const udp = new UdpOutput({ host: "127.0.0.1", port: rx.port });
    const file = new FileOutput({ path: join(blocker, "day", "rec-%H%M%S.ts"), retryMinMs: 20, retryMaxMs: 50, maxQueueBytes: 256 * 1024 });
    const fan = new OutputFanout([udp, file]);
    try {
      await fan.open();
      const failed = waitEvent<{ error: NodeJS.ErrnoException }>(file, "failed", 5000);
      await feedPaced((c) => fan.write(c), ts, rx.bytes);
      const whole = Math.floor(ts.length / 1316) * 1316;
      await until(() => rx.bytes() >= whole, 5000, "all datagrams");
      expect(Buffer.concat(rx.got).equals(ts.subarray(0, whole))).toBe(true);
      expect((await failed).error.code).toBe("ENOTDIR");
      await until(() => file.stats.errors >= 3, 5000, "repeated retries");
      expect(file.stats.lastError).toBe("ENOTDIR");
      expect(file.stats.queuedBytes).toBeLessThanOrEqual(256 * 1024);
      expect(file.stats.droppedBytes).toBeGreaterThan(0);
      expect(udp.stats).toMatchObject({ errors: 0, droppedBytes: 0 });

      // the way is cleared: the recording comes back on its own
      rmSync(blocker);
      const recovered = waitEvent(file, "recovered", 5000);
      fan.write(ts.subarray(0, 188 * 50));
      await recovered;
      expect(file.stats.reconnects).toBe(1);
      expect(file.stats.failing).toBe(false);
    } finally {
      await fan.close();
      rx.sock.close();
    }
  });
});

describe("StdoutOutput and OutputFanout", () => {
  it("a stuck stdout drops beyond its bound and does not hold up UDP", async () => {
    const stuck = new Writable({ highWaterMark: 1024, write: () => undefined }); // never calls back
    const std = new StdoutOutput({ stream: stuck, maxQueueBytes: 64 * 1024 });
    const rx = await receiver();
    const udp = new UdpOutput({ host: "127.0.0.1", port: rx.port });
    const fan = new OutputFanout([std, udp]);
    try {
      await fan.open();
      await feedPaced((c) => fan.write(c), ts, rx.bytes);
      const whole = Math.floor(ts.length / 1316) * 1316;
      await until(() => rx.bytes() >= whole, 5000, "all datagrams");
      expect(udp.stats.droppedBytes).toBe(0);
      expect(std.stats.droppedBytes).toBeGreaterThan(ts.length - 128 * 1024);
      expect(stuck.writableLength).toBeLessThanOrEqual(64 * 1024);
      expect(fan.stats().map((s) => s.kind)).toEqual(["stdout", "udp"]);
    } finally {
      await fan.close();
      rx.sock.close();
    }
  });

  it("counts an output that throws and still feeds the others", async () => {
    const rx = await receiver();
    const udp = new UdpOutput({ host: "127.0.0.1", port: rx.port });
    const bad = new StdoutOutput({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
    bad.write = () => {
      throw new Error("boom");
    };
    const fan = new OutputFanout([bad, udp]);
    try {
      await fan.open();
      fan.write(ts.subarray(0, 1316 * 2));
      await until(() => rx.got.length === 2, 3000, "two datagrams");
      expect(fan.thrown.get("stdout")).toBe(1);
      expect(bad.stats.errors).toBe(1);
    } finally {
      await fan.close();
      rx.sock.close();
    }
  });
});
