/**
 * SrtOutput with an injected spawn (a fake FFmpeg child), clock and timers: the command
 * line, the bounded stdin queue, restarts with backoff, recovery, redaction and close().
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough, Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { SecretSet } from "../../src/config/redact.js";
import { ManualClock } from "../../src/core/clock.js";
import { OutputFanout } from "../../src/pipeline/outputs/fanout.js";
import { SrtOutput, srtOutputCommand, type SrtOutputOptions } from "../../src/pipeline/outputs/srt.js";
import type { SpawnFn } from "../../src/pipeline/child.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { emfileChild, throwingSpawn } from "../helpers/spawn-faults.js";

const PASS = "correct-horse-battery";
const SID = "#!::r=live/feed,u=alice,s=s3cr3tt0ken";

/** Fires the soonest pending timer; returns its delay. */
function fire(timers: ManualTimers): number {
  const d = timers.fireNext();
  if (d === undefined) throw new Error("no timer pending");
  return d;
}

/** A fake FFmpeg: stdin that reads nothing until `drain()`, stderr and progress pipes, kill(). */
class FakeChild extends EventEmitter {
  pid: number | undefined = 4242;
  readonly held: { chunk: Buffer; cb: (e?: Error | null) => void }[] = [];
  readonly received: Buffer[] = [];
  readonly signals: string[] = [];
  readonly stdin: Writable;
  readonly stderr = new PassThrough();
  readonly progress = new PassThrough();
  readonly stdio: unknown[];
  /** When set, SIGTERM makes it exit at once. */
  exitOnTerm = true;
  /** Set by drain(): from then on it reads as fast as it is written to. */
  reading = false;

  constructor(
    readonly command: string,
    readonly args: readonly string[],
  ) {
    super();
    this.stdin = new Writable({
      highWaterMark: 16 * 1024,
      write: (chunk: Buffer, _enc, cb: (e?: Error | null) => void) => {
        if (this.reading) {
          this.received.push(chunk);
          cb();
        } else this.held.push({ chunk, cb });
      },
    });
    this.stdio = [this.stdin, null, this.stderr, this.progress];
  }

  /** Lets the child read everything held, and what comes next. */
  drain(): void {
    this.reading = true;
    for (const h of this.held.splice(0)) {
      this.received.push(h.chunk);
      h.cb();
    }
  }

  report(totalSize: number): void {
    this.progress.write(`total_size=${totalSize}\nprogress=continue\n`);
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.emit("close", code, signal);
  }

  kill(sig: string): boolean {
    this.signals.push(sig);
    if (this.exitOnTerm || sig === "SIGKILL") queueMicrotask(() => this.exit(null, sig as NodeJS.Signals));
    return true;
  }
}

function setup(over: Partial<SrtOutputOptions> = {}): {
  out: SrtOutput;
  children: FakeChild[];
  timers: ManualTimers;
  clock: ManualClock;
  logs: string[];
} {
  const children: FakeChild[] = [];
  const spawn: SpawnFn = (c, a) => {
    const ch = new FakeChild(c, a);
    children.push(ch);
    return ch as unknown as ChildProcess;
  };
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const logs: string[] = [];
  // a plain pino logger, no redacting destination: what SrtOutput logs must already be clean
  const logger = pino({ level: "debug" }, { write: (l: string) => void logs.push(l) });
  const out = new SrtOutput({
    mode: "caller",
    host: "127.0.0.1",
    port: 9000,
    ffmpegPath: "/usr/bin/ffmpeg",
    setpriv: false,
    maxQueueBytes: 64 * 1024,
    retryMinMs: 100,
    retryMaxMs: 1000,
    spawn,
    timers,
    clock,
    logger,
    ...over,
  });
  return { out, children, timers, clock, logs };
}

const chunk = (packets: number, fill = 0): Buffer => {
  const b = Buffer.alloc(packets * 188, fill);
  for (let i = 0; i < b.length; i += 188) b[i] = 0x47;
  return b;
};

describe("srtOutputCommand", () => {
  it("copies stdin byte for byte to an srt:// URL in 1316-byte messages", () => {
    const c = srtOutputCommand({
      mode: "caller",
      host: "10.0.0.5",
      port: 9000,
      latencyMs: 200,
      ffmpegPath: "/usr/bin/ffmpeg",
      setpriv: false,
    });
    expect(c.command).toBe("/usr/bin/ffmpeg");
    expect(c.url).toBe("srt://10.0.0.5:9000?mode=caller&latency=200000&pkt_size=1316");
    expect(c.args).toEqual([
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "warning",
      "-f",
      "data",
      "-i",
      "pipe:0",
      "-map",
      "0",
      "-c",
      "copy",
      "-f",
      "data",
      "-flush_packets",
      "0",
      "-progress",
      "pipe:3",
      c.url,
    ]);
  });

  it("passes the passphrase and stream id as options, never in the URL", () => {
    const c = srtOutputCommand({
      mode: "listener",
      host: "0.0.0.0",
      port: 9001,
      passphrase: PASS,
      pbkeylen: 32,
      streamId: SID,
      ffmpegPath: "ffmpeg",
      setpriv: false,
    });
    expect(c.url).toBe("srt://0.0.0.0:9001?mode=listener&latency=120000&pkt_size=1316");
    expect(c.url).not.toContain(PASS);
    const i = c.args.indexOf("-passphrase");
    expect(c.args.slice(i, i + 4)).toEqual(["-passphrase", PASS, "-pbkeylen", "32"]);
    expect(c.args[c.args.indexOf("-srt_streamid") + 1]).toBe(SID);
    expect(c.args.at(-1)).toBe(c.url);
  });

  it("brackets IPv6 hosts, sets the connect timeout for callers only, runs under setpriv", () => {
    const c = srtOutputCommand({
      mode: "caller",
      host: "::1",
      port: 9002,
      connectTimeoutMs: 500,
      ffmpegPath: "/f/ffmpeg",
      setpriv: "/usr/bin/setpriv",
    });
    expect(c.url).toBe("srt://[::1]:9002?mode=caller&latency=120000&pkt_size=1316&connect_timeout=500");
    expect(c.command).toBe("/usr/bin/setpriv");
    expect(c.args.slice(0, 5)).toEqual(["--pdeathsig", "KILL", "--", "/f/ffmpeg", "-hide_banner"]);
    expect(srtOutputCommand({ mode: "listener", host: "h", port: 1, connectTimeoutMs: 500, setpriv: false }).url).not.toContain(
      "connect_timeout",
    );
  });
});

describe("SrtOutput", () => {
  it("drops whole chunks while no child runs", () => {
    const { out } = setup();
    out.write(chunk(7));
    expect(out.stats).toMatchObject({ droppedChunks: 1, droppedBytes: 1316, queuedBytes: 0 });
  });

  it("keeps at most maxQueueBytes in the child's stdin and drops whole chunks beyond", async () => {
    const { out, children } = setup({ maxQueueBytes: 64 * 1024 });
    await out.open();
    const c = chunk(70); // 13 160 bytes
    let maxQueued = 0;
    for (let i = 0; i < 100; i++) {
      out.write(c);
      maxQueued = Math.max(maxQueued, out.stats.queuedBytes);
    }
    expect(maxQueued).toBeLessThanOrEqual(64 * 1024);
    expect(out.stats.droppedBytes % c.length).toBe(0);
    expect(out.stats.droppedChunks).toBeGreaterThanOrEqual(95);
    // the child reads: the queue empties, writes go through again
    children[0].drain();
    await new Promise<void>((r) => setImmediate(r));
    expect(out.stats.queuedBytes).toBe(0);
    expect(Buffer.concat(children[0].received).length).toBe(100 * c.length - out.stats.droppedBytes);
    const dropped = out.stats.droppedChunks;
    out.write(c);
    expect(out.stats.droppedChunks).toBe(dropped);
    await out.close();
  });

  it("restarts an exiting child with growing capped backoff, failing once per episode", async () => {
    const { out, children, timers } = setup({ retryMinMs: 100, retryMaxMs: 1000 });
    const failed: Error[] = [];
    out.on("failed", ({ error }) => failed.push(error));
    await out.open();
    expect(children).toHaveLength(1);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      children[i].stderr.write("[srt @ 0x1] Connection to srt://127.0.0.1:9000?mode=caller failed: Input/output error\n");
      await new Promise<void>((r) => setImmediate(r));
      children[i].exit(1);
      expect(out.pid).toBeUndefined();
      out.write(chunk(7)); // in backoff: dropped
      delays.push(fire(timers));
      expect(children).toHaveLength(i + 2);
    }
    expect(out.stats.errors).toBe(6);
    expect(out.stats.droppedChunks).toBe(6);
    expect(out.stats.failing).toBe(true);
    expect(failed).toHaveLength(1);
    expect(failed[0].message).toMatch(/exited with code 1: .*Connection to srt:\/\/127\.0\.0\.1:9000/);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(100);
    for (const d of delays) expect(d).toBeLessThanOrEqual(1000);
    await out.close();
    expect(children.at(-1)!.signals).toEqual(["SIGTERM"]);
  });

  it("takes a child that cannot start (EMFILE, a throw, no progress pipe) as a failed run: drops, backs off, never throws", async () => {
    const children: FakeChild[] = [];
    const noProgress = (c: string, a: readonly string[]): ChildProcess => {
      const ch = new FakeChild(c, a);
      ch.stdio[3] = undefined;
      children.push(ch);
      return ch as unknown as ChildProcess;
    };
    const faults: SpawnFn[] = [() => emfileChild(), throwingSpawn("E2BIG"), noProgress];
    const spawn: SpawnFn = (c, a, o) => {
      const f = faults.shift();
      if (f) return f(c, a, o);
      const ch = new FakeChild(c, a);
      children.push(ch);
      return ch as unknown as ChildProcess;
    };
    const { out, timers } = setup({ spawn });
    const failed: Error[] = [];
    out.on("failed", ({ error }) => failed.push(error));
    await out.open();
    for (let i = 0; i < 3; i++) {
      out.write(chunk(7)); // nothing runs: dropped
      await new Promise<void>((r) => setImmediate(r));
      expect(out.pid).toBeUndefined();
      expect(() => fire(timers)).not.toThrow();
    }
    expect(children[0].signals).toEqual(["SIGKILL"]); // started without its -progress pipe
    expect(out.stats).toMatchObject({ errors: 3, droppedChunks: 3, failing: true });
    expect(failed).toHaveLength(1);
    expect(failed[0].message).toBe("FFmpeg (SRT caller) could not be started (EMFILE)");
    // the fourth spawn works: it runs and connects
    expect(out.pid).toBe(4242);
    children[1].report(0);
    await new Promise<void>((r) => setImmediate(r));
    expect(out.connected).toBe(true);
    await out.close();
  });

  it("recovers at the first progress report and counts what FFmpeg sent", async () => {
    const { out, children, timers } = setup();
    let recovered = 0;
    out.on("recovered", () => recovered++);
    await out.open();
    children[0].exit(1);
    fire(timers);
    const c = children[1];
    expect(out.connected).toBe(false);
    c.report(0);
    await new Promise<void>((r) => setImmediate(r));
    expect(out.connected).toBe(true);
    expect(recovered).toBe(1);
    expect(out.stats).toMatchObject({ failing: false, reconnects: 1, errors: 1 });
    c.report(1316 * 10);
    c.report(1316 * 25);
    await new Promise<void>((r) => setImmediate(r));
    expect(out.stats.bytes).toBe(1316 * 25);
    expect(out.stats.packets).toBe(7 * 25);
    expect(out.connects).toBe(1);
    await out.close();
  });

  it("a listener waiting for its caller is not failing", async () => {
    const { out, children } = setup({ mode: "listener" });
    await out.open();
    out.write(chunk(7));
    expect(out.stats.errors).toBe(0);
    expect(out.stats.failing).toBe(false);
    expect(children[0].args.at(-1)).toContain("mode=listener");
    await out.close();
  });

  it("never writes the passphrase or the stream id in a log line", async () => {
    const channelSecrets = new SecretSet();
    channelSecrets.add("other-channel-secret");
    const { out, children, timers, logs } = setup({ passphrase: PASS, streamId: SID, secrets: channelSecrets });
    await out.open();
    // FFmpeg echoing both (and a channel secret) back, then dying
    children[0].stderr.write(
      `srt://127.0.0.1:9000?passphrase=${PASS}&streamid=${encodeURIComponent(SID)} other-channel-secret ${PASS}: failed\n`,
    );
    await new Promise<void>((r) => setImmediate(r));
    children[0].exit(1);
    fire(timers);
    children[1].report(100);
    await new Promise<void>((r) => setImmediate(r));
    await out.close();
    const all = logs.join("");
    expect(logs.length).toBeGreaterThanOrEqual(4);
    expect(all).toContain("output.srt_started");
    expect(all).toContain("output.failed");
    expect(all).toContain("output.srt_exited");
    expect(all).not.toContain(PASS);
    expect(all).not.toContain(SID);
    expect(all).not.toContain(encodeURIComponent(SID));
    expect(all).not.toContain("other-channel-secret");
    expect(out.stats.lastError).not.toContain(PASS);
    // while the child's argv has them (FFmpeg 5.1 takes them no other way)
    expect(children[0].args).toContain(PASS);
  });

  it("close() sends SIGTERM, then SIGKILL after the deadline, and restarts nothing", async () => {
    const { out, children, timers } = setup({ stopTimeoutMs: 1500 });
    await out.open();
    children[0].exitOnTerm = false;
    let done = false;
    const p = out.close().then(() => (done = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(children[0].signals).toEqual(["SIGTERM"]);
    expect(done).toBe(false);
    expect(timers.delays()).toEqual([1500]);
    fire(timers);
    await p;
    expect(children[0].signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(timers.size).toBe(0);
    expect(children).toHaveLength(1);
    out.write(chunk(7));
    expect(out.stats.droppedChunks).toBe(0); // closed: ignored
  });

  it("cannot stall the fan-out: a stuck SRT child costs the other outputs nothing", async () => {
    const { out } = setup({ maxQueueBytes: 8 * 1024 });
    await out.open();
    const fan = new OutputFanout([out]);
    for (let i = 0; i < 1000; i++) fan.write(chunk(7));
    expect(out.stats.queuedBytes).toBeLessThanOrEqual(8 * 1024);
    expect(fan.thrown.size).toBe(0);
    await out.close();
  });
});
