/**
 * SrtOutput against a real FFmpeg SRT listener on 127.0.0.1 (ephemeral UDP ports), fed with
 * a real FFmpeg TS in paced chunks: byte-exact delivery (clear and encrypted), a caller
 * whose listener is absent (retries, bounded drops, the UDP output beside it unharmed,
 * recovery once the listener comes), and no child left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observe/logger.js";
import { Channel } from "../../src/pipeline/channel.js";
import { OutputFanout, SrtOutput, UdpOutput } from "../../src/pipeline/outputs/index.js";
import { openStore } from "../../src/store/db.js";
import { PmtSection } from "../../src/ts/pmt.js";
import { testProfile, udpCapture } from "../helpers/channel.js";
import { cleanupTestTs, makeTestTs, runFfprobeJson } from "../helpers/ffmpeg.js";
import { childPids, freeUdpPort, until, waitEvent } from "../helpers/pipeline.js";
import { scanTs } from "../helpers/tsscan.js";

const PASS = "onair-test-passphrase";
/** 4 datagrams' worth of packets per tick of the paced feeder. */
const TICK_BYTES = 4 * 1316;
const TICK_MS = 10;

let ts: Buffer;
let tmp: string;

beforeAll(async () => {
  ts = readFileSync(await makeTestTs({ seconds: 4, muxrate: "1M", name: "srt.ts" }));
  tmp = mkdtempSync(join(tmpdir(), "onair-srt-"));
});
afterAll(() => {
  cleanupTestTs();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  // every test stops what it started; nothing may be left behind
  await until(() => childPids().length === 0, 5000, "no child process left");
});

interface Listener {
  child: ChildProcess;
  bytes(): number;
  data(): Buffer;
  stop(): Promise<void>;
}

/** The far end: `ffmpeg -f data -i srt://127.0.0.1:PORT?mode=listener` copying what it receives to stdout. */
function startListener(port: number, passphrase?: string): Listener {
  const args = ["-hide_banner", "-nostdin", "-loglevel", "warning", "-f", "data"];
  if (passphrase) args.push("-passphrase", passphrase);
  args.push("-i", `srt://127.0.0.1:${port}?mode=listener`, "-map", "0", "-c", "copy", "-f", "data", "-flush_packets", "1", "pipe:1");
  const child = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
  const got: Buffer[] = [];
  let n = 0;
  child.stdout.on("data", (c: Buffer) => {
    got.push(c);
    n += c.length;
  });
  child.stderr.resume();
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  return {
    child,
    bytes: () => n,
    data: () => Buffer.concat(got),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await closed;
    },
  };
}

/** A live source: `TICK_BYTES` of the TS every `TICK_MS`, looping; every chunk is whole packets. */
function feeder(write: (c: Buffer) => void, opts: { loop: boolean }): { fed: () => number; done: Promise<void>; stop: () => void } {
  let off = 0;
  let fed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const timer = setInterval(() => {
    if (off >= ts.length) {
      if (!opts.loop) {
        clearInterval(timer);
        resolveDone();
        return;
      }
      off = 0;
    }
    const c = ts.subarray(off, Math.min(off + TICK_BYTES, ts.length));
    off += c.length;
    fed += c.length;
    write(c);
  }, TICK_MS);
  return {
    fed: () => fed,
    done,
    stop: () => {
      clearInterval(timer);
      resolveDone();
    },
  };
}

async function udpReceiver(): Promise<{ sock: Socket; port: number; got: Buffer[]; bytes: () => number }> {
  const sock = createSocket("udp4");
  const got: Buffer[] = [];
  let n = 0;
  sock.on("message", (m) => {
    got.push(m);
    n += m.length;
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return { sock, port: sock.address().port, got, bytes: () => n };
}

/** Sends the whole TS to a listener through a caller SrtOutput; returns what arrived. */
async function deliver(passphrase?: string): Promise<{ received: Buffer; out: SrtOutput }> {
  const port = await freeUdpPort();
  const rx = startListener(port, passphrase);
  const out = new SrtOutput({
    mode: "caller",
    host: "127.0.0.1",
    port,
    passphrase,
    pbkeylen: passphrase ? 16 : undefined,
    retryMinMs: 100,
    retryMaxMs: 500,
    stopTimeoutMs: 5000,
  });
  try {
    await out.open();
    const feed = feeder((c) => out.write(c), { loop: false });
    await feed.done;
    // the last partial 1316-byte message stays in FFmpeg's buffer until more comes
    const whole = Math.floor(ts.length / 1316) * 1316;
    await until(() => rx.bytes() >= whole, 15_000, "the listener to receive the TS");
    const received = rx.data();
    // an idle, connected child ends on close() at once (EOF on stdin), not at the SIGKILL deadline
    const t = performance.now();
    await out.close();
    expect(performance.now() - t).toBeLessThan(2500);
    return { received, out };
  } finally {
    await out.close();
    await rx.stop();
  }
}

describe("SrtOutput (real FFmpeg, libsrt, loopback)", () => {
  it("delivers the channel's TS byte for byte to an SRT listener", async () => {
    const { received, out } = await deliver();
    expect(received.equals(ts.subarray(0, received.length))).toBe(true);
    expect(out.stats).toMatchObject({ errors: 0, droppedBytes: 0, failing: false });
    // FFmpeg's progress report (every 0.5 s) counts what it sent
    expect(out.stats.bytes).toBeGreaterThan(0);
    expect(out.stats.bytes).toBeLessThanOrEqual(ts.length);
    const scan = scanTs(received);
    expect(scan.packets).toBe(received.length / 188);
    expect(scan.resyncs).toBe(0);
    expect([...scan.ccErrors.values()].reduce((a, b) => a + b, 0)).toBe(0);
    const file = join(tmp, "received.ts");
    writeFileSync(file, received);
    const probe = await runFfprobeJson<{ streams: Array<{ codec_name: string }> }>(["-show_entries", "stream=codec_name", file]);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    const frames = await runFfprobeJson<{ frames: unknown[] }>(["-select_streams", "v", "-show_entries", "frame=pict_type", file]);
    expect(frames.frames.length).toBeGreaterThan(90); // of 100 frames in 4 s at 25 fps
  });

  it("delivers it encrypted with a passphrase on both sides", async () => {
    const { received, out } = await deliver(PASS);
    expect(received.equals(ts.subarray(0, received.length))).toBe(true);
    expect(out.stats).toMatchObject({ errors: 0, droppedBytes: 0 });
  });

  it("keeps failing, never connects and sends nothing with the wrong passphrase", async () => {
    const port = await freeUdpPort();
    const rx = startListener(port, PASS);
    const out = new SrtOutput({
      mode: "caller",
      host: "127.0.0.1",
      port,
      passphrase: "not-the-right-one",
      connectTimeoutMs: 500,
      retryMinMs: 100,
      retryMaxMs: 300,
    });
    try {
      await out.open();
      const feed = feeder((c) => out.write(c), { loop: true });
      await until(() => out.stats.errors >= 2, 15_000, "two failed attempts");
      feed.stop();
      expect(out.connects).toBe(0);
      expect(out.stats.failing).toBe(true);
      expect(rx.bytes()).toBe(0);
    } finally {
      await out.close();
      await rx.stop();
    }
  });

  it("a caller with no listener retries and drops, the UDP output beside it loses nothing, and it recovers when the listener comes", async () => {
    const srtPort = await freeUdpPort();
    const udpRx = await udpReceiver();
    const maxQueueBytes = 128 * 1024;
    const srt = new SrtOutput({
      mode: "caller",
      host: "127.0.0.1",
      port: srtPort,
      connectTimeoutMs: 300,
      retryMinMs: 100,
      retryMaxMs: 400,
      maxQueueBytes,
    });
    const udp = new UdpOutput({ host: "127.0.0.1", port: udpRx.port });
    const fan = new OutputFanout([srt, udp]);
    let failedEvents = 0;
    srt.on("failed", () => failedEvents++);
    const sent: Buffer[] = [];
    let maxQueued = 0;
    let rx: Listener | undefined;
    const feed = feeder(
      (c) => {
        sent.push(c);
        fan.write(c);
        maxQueued = Math.max(maxQueued, srt.stats.queuedBytes);
      },
      { loop: true },
    );
    try {
      await fan.open();
      await until(() => srt.stats.errors >= 3, 20_000, "three failed connection attempts");
      expect(srt.stats.failing).toBe(true);
      expect(failedEvents).toBe(1);
      expect(srt.spawns).toBeGreaterThanOrEqual(3);
      expect(srt.stats.lastError).toMatch(/exited with code \d+/);
      expect(srt.stats.droppedChunks).toBeGreaterThan(0);
      expect(srt.stats.droppedBytes % 188).toBe(0);
      expect(maxQueued).toBeLessThanOrEqual(maxQueueBytes);

      // the listener comes: the output reconnects on its own
      const t0 = performance.now();
      rx = startListener(srtPort);
      await waitEvent(srt, "recovered", 20_000);
      const recoverMs = performance.now() - t0;
      await until(() => rx!.bytes() >= 100 * 1316, 10_000, "the listener to receive data");
      expect(srt.stats).toMatchObject({ failing: false, reconnects: 1 });
      expect(srt.connected).toBe(true);
      expect(recoverMs).toBeLessThan(5000);
      const scan = scanTs(rx.data());
      expect(scan.resyncs).toBe(0);
      expect(scan.pidCounts.get(0x100)).toBeGreaterThan(0);
      expect(maxQueued).toBeLessThanOrEqual(maxQueueBytes);

      // meanwhile the UDP output delivered every byte
      feed.stop();
      const all = Buffer.concat(sent);
      udp.flush(); // the TS loops at a length that is not a multiple of 1316
      await until(() => udpRx.bytes() >= all.length, 5000, "every UDP byte");
      expect(Buffer.concat(udpRx.got).equals(all)).toBe(true);
      expect(udp.stats).toMatchObject({ droppedBytes: 0, errors: 0, bytes: all.length });
    } finally {
      feed.stop();
      await fan.close();
      await rx?.stop();
      udpRx.sock.close();
    }
  });

  it("close() leaves no child process, connecting or listening", async () => {
    const callerPort = await freeUdpPort();
    const listenerPort = await freeUdpPort();
    // a caller stuck in its connect (libsrt's default 3 s timeout), a listener waiting for a caller
    const caller = new SrtOutput({ mode: "caller", host: "127.0.0.1", port: callerPort });
    const listener = new SrtOutput({ mode: "listener", host: "127.0.0.1", port: listenerPort });
    await caller.open();
    await listener.open();
    const pids = [caller.pid, listener.pid];
    expect(pids.every((p) => p !== undefined)).toBe(true);
    caller.write(ts.subarray(0, 100 * 188));
    listener.write(ts.subarray(0, 100 * 188));
    expect(childPids().sort()).toEqual([...pids].sort());
    await Promise.all([caller.close(), listener.close()]);
    expect(childPids()).toEqual([]);
    expect(caller.pid).toBeUndefined();
    expect(caller.stats.errors).toBe(0);
  });

  it("a channel with an SRT output in its profile puts its TS, cues' PID and SI included, on SRT", async () => {
    const port = await freeUdpPort();
    const rx = startListener(port, PASS);
    const cap = await udpCapture();
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", destination: { write: (l: string) => void lines.push(l) } });
    const dir = mkdtempSync(join(tmp, "channel-"));
    const store = openStore(join(dir, "onair.db"));
    const profile = testProfile({
      udpPort: cap.port,
      extraOutputs: [{ kind: "srt", mode: "caller", host: "127.0.0.1", port, passphrase: PASS, latencyMs: 80 }],
    });
    const ch = new Channel({ profile, store, logger, dataDir: dir });
    try {
      await ch.start();
      await until(() => rx.bytes() >= 300 * 1316, 30_000, "the SRT listener to receive the channel");
    } finally {
      await ch.stop();
      await rx.stop();
      await cap.close();
      store.close();
    }
    const out = ch.status().outputs.find((o) => o.kind === "srt");
    expect(out).toMatchObject({ name: `srt://127.0.0.1:${port}` });
    // the same bytes as the UDP output beside it: SRT received a contiguous run of them
    const srtBytes = rx.data();
    const udpBytes = cap.bytes();
    const probe = srtBytes.subarray(100 * 1316, 110 * 1316);
    const at = udpBytes.indexOf(probe);
    expect(at).toBeGreaterThanOrEqual(0);
    const scan = scanTs(srtBytes, [0x1000, 0x11]);
    expect(scan.resyncs).toBe(0);
    const pmt = PmtSection.decode(scan.sections.find((x) => x.pid === 0x1000)!.bytes);
    expect(pmt.streams.find((x) => x.elementaryPid === 500)?.streamType).toBe(0x86);
    expect(scan.sections.some((x) => x.pid === 0x11 && x.bytes[0] === 0x42)).toBe(true);
    const log = lines.join("");
    expect(log).toContain("output.srt_connected");
    expect(log).not.toContain("output_unsupported");
    expect(log).not.toContain(PASS);
  });
});
