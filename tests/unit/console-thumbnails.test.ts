/**
 * ThumbnailPool with an injected spawn (fake FFmpeg children), clock and timers: no FFmpeg
 * and no tap without demand; one per channel with demand, fed the channel's output; the
 * JPEGs it writes become the latest thumbnail and `thumbnail` events; demand off ends them
 * (SIGTERM, EOF, SIGKILL after the grace) and keeps the latest; a full pipe drops chunks
 * until 'drain'; a child that exits or cannot start comes back after a backoff; close()
 * leaves nothing running.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough, Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import type { SpawnFn } from "../../src/pipeline/child.js";
import { thumbnailArgs, ThumbnailPool, type ThumbnailEvent, type ThumbnailPoolOptions } from "../../src/console/thumbnails.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { emfileChild } from "../helpers/spawn-faults.js";

let nextPid = 5000;

/** A fake thumbnail FFmpeg: stdin that takes what it is given (or holds it), stdout and stderr pipes, kill(). */
class FakeChild extends EventEmitter {
  readonly pid = nextPid++;
  readonly received: Buffer[] = [];
  readonly held: (() => void)[] = [];
  readonly signals: string[] = [];
  readonly stdin: Writable;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdio: unknown[];
  stdinEnded = false;
  /** false: its stdin holds every write until release() (a full pipe) */
  reading = true;
  /** false: it ignores SIGTERM */
  exitOnTerm = true;
  exited = false;

  constructor(
    readonly command: string,
    readonly args: readonly string[],
  ) {
    super();
    this.stdin = new Writable({
      highWaterMark: 16 * 1024, // a pipe's
      write: (chunk: Buffer, _enc, cb: () => void) => {
        this.received.push(chunk);
        if (this.reading) cb();
        else this.held.push(cb);
      },
      final: (cb) => {
        this.stdinEnded = true;
        cb();
      },
    });
    this.stdio = [this.stdin, this.stdout, this.stderr];
  }

  release(): void {
    this.reading = true;
    for (const cb of this.held.splice(0)) cb();
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.emit("exit", code, signal);
    this.emit("close", code, signal);
  }

  kill(sig: string): boolean {
    this.signals.push(sig);
    if (this.exitOnTerm || sig === "SIGKILL") queueMicrotask(() => this.exit(null, sig as NodeJS.Signals));
    return true;
  }

  get fed(): number {
    return this.received.reduce((n, c) => n + c.length, 0);
  }
}

/** A channel as the pool sees it: an id and the output tap. */
class FakeChannel {
  readonly taps = new Set<(c: Buffer) => void>();
  constructor(readonly id: string) {}
  onOutput(fn: (c: Buffer) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }
  output(c: Buffer): void {
    for (const t of this.taps) t(c);
  }
}

/** A chunk of `n` TS packets (their content does not matter to the first window). */
const ts = (n: number): Buffer => Buffer.alloc(188 * n, 0x47);

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x03, 0x41, 0xff, 0xd9]);

function setup(over: Partial<ThumbnailPoolOptions> = {}, spawnFn?: SpawnFn) {
  const children: FakeChild[] = [];
  const spawn: SpawnFn =
    spawnFn ??
    ((c, a) => {
      const ch = new FakeChild(c, a);
      children.push(ch);
      return ch as unknown as ChildProcess;
    });
  const clock = new ManualClock(1_700_000_000_000, 0);
  const timers = new ManualTimers(clock);
  const logs: string[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void logs.push(l) });
  const pool = new ThumbnailPool({ logger, ffmpegPath: "/usr/bin/ffmpeg", spawn, timers, clock, setpriv: false, ...over });
  const events: ThumbnailEvent[] = [];
  pool.on("thumbnail", (e) => events.push(e));
  const logged = (event: string): Record<string, unknown>[] =>
    logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);
  return { pool, children, clock, timers, events, logged };
}

/** Lets stream callbacks and queued microtasks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("ThumbnailPool", () => {
  it("runs no FFmpeg and sets no tap without demand", () => {
    const { pool, children } = setup();
    const ch = new FakeChannel("news");
    pool.attach(ch);
    expect(children).toHaveLength(0);
    expect(ch.taps.size).toBe(0);
    expect(pool.latest("news")).toBeUndefined();
  });

  it("with demand, runs one FFmpeg per channel, fed the channel's output through stdin", async () => {
    const { pool, children } = setup();
    const a = new FakeChannel("a");
    const b = new FakeChannel("b");
    pool.attach(a);
    pool.attach(b);
    pool.setDemand(true);
    expect(children).toHaveLength(2);
    expect(children[0].command).toBe("/usr/bin/ffmpeg");
    const args = children[0].args.join(" ");
    expect(args).toContain("-skip_frame noref");
    expect(args).toContain("-f mpegts -i pipe:0 -map 0:v:0");
    expect(args).toContain("select='eq(pict_type,I)',scale=320:");
    expect(args).toContain("-f image2pipe pipe:1");
    a.output(ts(7));
    a.output(ts(3));
    await settle();
    expect(children[0].fed).toBe(188 * 10);
    expect(children[1].fed).toBe(0);
    expect(pool.status("a")).toMatchObject({ pid: children[0].pid, spawns: 1, fedBytes: 1880 });
    // a channel attached while demand is on starts at once
    pool.attach(new FakeChannel("c"));
    expect(children).toHaveLength(3);
    await pool.close();
  });

  it("makes the JPEGs it writes the latest thumbnail, numbered, with an event each", async () => {
    const { pool, children, clock, events } = setup();
    const ch = new FakeChannel("news");
    pool.attach(ch);
    pool.setDemand(true);
    ch.output(ts(1));
    const child = children[0];
    child.stdout.write(JPEG.subarray(0, 4));
    await settle();
    expect(pool.latest("news")).toBeUndefined();
    child.stdout.write(JPEG.subarray(4));
    await settle();
    const t1 = pool.latest("news");
    expect(t1?.jpeg.equals(JPEG)).toBe(true);
    expect(t1).toMatchObject({ seq: 1, atMs: clock.now() });
    expect(events).toEqual([{ channel: "news", seq: 1, atMs: clock.now() }]);
    ch.output(keyFramePacket()); // the window closes at the next video PES
    // the next window (5 s on) gives the next one
    clock.advance(5000);
    ch.output(Buffer.concat([ts(1), keyFramePacket()]));
    child.stdout.write(Buffer.concat([JPEG, JPEG])); // the second one is not this window's
    await settle();
    expect(pool.latest("news")?.seq).toBe(2);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    expect(pool.status("news")).toMatchObject({ thumbnails: 2, windows: 2 });
    await pool.close();
  });

  it("with the whole stream fed (feed all), asks FFmpeg for one key frame per period and takes every JPEG", async () => {
    const { pool, children } = setup({ feed: "all", everyMs: 2000, width: 160 });
    const ch = new FakeChannel("x");
    pool.attach(ch);
    pool.setDemand(true);
    const args = children[0].args.join(" ");
    expect(args).toContain("-skip_frame nokey");
    expect(args).toContain("select='isnan(prev_selected_t)+gte(abs(t-prev_selected_t),2)',scale=160:");
    ch.output(ts(2));
    children[0].stdout.write(Buffer.concat([JPEG, JPEG]));
    await settle();
    expect(pool.latest("x")?.seq).toBe(2);
    expect(children[0].fed).toBe(376);
    await pool.close();
  });

  it("demand off: SIGTERM and EOF, the tap removed, SIGKILL after the grace; the latest thumbnail stays", async () => {
    const { pool, children, timers, logged } = setup();
    const ch = new FakeChannel("news");
    pool.attach(ch);
    pool.setDemand(true);
    ch.output(ts(1));
    children[0].stdout.write(JPEG);
    await settle();
    const child = children[0];
    child.exitOnTerm = false;
    pool.setDemand(false);
    await settle();
    expect(child.signals).toEqual(["SIGTERM"]);
    expect(child.stdinEnded).toBe(true);
    expect(ch.taps.size).toBe(0);
    timers.advance(1999);
    expect(child.signals).toEqual(["SIGTERM"]);
    timers.advance(1);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    await settle();
    expect(logged("thumbnail_kill")).toHaveLength(1);
    expect(logged("thumbnail_stopped")[0]).toMatchObject({ channel: "news", signal: "SIGKILL" });
    // not started again, and the last picture is still served
    timers.advance(60_000);
    expect(children).toHaveLength(1);
    expect(pool.latest("news")?.seq).toBe(1);
    expect(pool.status("news")?.pid).toBeUndefined();
  });

  it("demand back while the old FFmpeg stops: a new one once it is gone, at once", async () => {
    const { pool, children } = setup();
    pool.attach(new FakeChannel("a"));
    pool.setDemand(true);
    children[0].exitOnTerm = false;
    pool.setDemand(false);
    pool.setDemand(true);
    expect(children).toHaveLength(1);
    children[0].exit(0);
    await settle();
    expect(children).toHaveLength(2);
    await pool.close();
  });

  it("drops chunks while the pipe is full, counted, until it drains", async () => {
    const { pool, children } = setup();
    const ch = new FakeChannel("a");
    pool.attach(ch);
    pool.setDemand(true);
    const child = children[0];
    child.reading = false;
    ch.output(ts(100)); // 18 800 bytes ≥ the pipe's high-water mark: write returns false
    ch.output(ts(2));
    ch.output(ts(1));
    expect(pool.status("a")).toMatchObject({ fedBytes: 18_800, droppedChunks: 2, droppedBytes: 564 });
    child.release();
    await settle();
    ch.output(ts(1));
    expect(pool.status("a")).toMatchObject({ fedBytes: 18_988, droppedChunks: 2 });
    await pool.close();
  });

  it("starts an FFmpeg that exited again after a backoff, logging why", async () => {
    const { pool, children, timers, logged } = setup();
    pool.attach(new FakeChannel("news"));
    pool.setDemand(true);
    children[0].stderr.write("pipe:0: Invalid data found when processing input\n");
    await settle();
    children[0].exit(1);
    await settle();
    const exited = logged("thumbnail_exited");
    expect(exited).toHaveLength(1);
    expect(exited[0]).toMatchObject({ channel: "news", code: 1, stderrTail: ["pipe:0: Invalid data found when processing input"] });
    const delay = exited[0].nextRetryInMs as number;
    expect(delay).toBeGreaterThanOrEqual(1000);
    expect(delay).toBeLessThanOrEqual(1500);
    timers.advance(delay - 1);
    expect(children).toHaveLength(1);
    timers.advance(1);
    expect(children).toHaveLength(2);
    await pool.close();
  });

  it("retries an FFmpeg that could not start (out of file descriptors)", async () => {
    const children: FakeChild[] = [];
    let fail = true;
    const spawn: SpawnFn = (c, a) => {
      if (fail) return emfileChild();
      const ch = new FakeChild(c, a);
      children.push(ch);
      return ch as unknown as ChildProcess;
    };
    const { pool, timers, logged } = setup({}, spawn);
    pool.attach(new FakeChannel("a"));
    pool.setDemand(true);
    await settle();
    await settle();
    expect(logged("thumbnail_exited")[0]).toMatchObject({ channel: "a", spawnError: "EMFILE" });
    fail = false;
    expect(timers.fireNext()).toBeGreaterThanOrEqual(1000);
    expect(children).toHaveLength(1);
    await pool.close();
  });

  it("restarts an FFmpeg whose windows give no picture three times in a row", async () => {
    const { pool, children, clock, logged } = setup();
    const ch = new FakeChannel("a");
    pool.attach(ch);
    pool.setDemand(true);
    for (let i = 0; i < 3; i++) {
      ch.output(keyFramePacket()); // opens a window (the first: at once)
      clock.advance(10_001);
      ch.output(ts(1)); // the window is closed empty
      clock.advance(5000);
    }
    await settle();
    expect(logged("thumbnail_stalled")).toHaveLength(1);
    expect(children[0].signals).toEqual(["SIGTERM"]);
    await settle();
    expect(logged("thumbnail_exited")).toHaveLength(1);
    await pool.close();
  });

  it("detach stops the channel's FFmpeg and forgets its thumbnail; seq goes on if it comes back", async () => {
    const { pool, children } = setup();
    const ch = new FakeChannel("a");
    pool.attach(ch);
    pool.setDemand(true);
    ch.output(ts(1));
    children[0].stdout.write(JPEG);
    await settle();
    pool.detach("a");
    await settle();
    expect(children[0].signals).toEqual(["SIGTERM"]);
    expect(pool.latest("a")).toBeUndefined();
    expect(pool.status("a")).toBeUndefined();
    const again = new FakeChannel("a");
    pool.attach(again);
    again.output(ts(1));
    children[1].stdout.write(JPEG);
    await settle();
    expect(pool.latest("a")?.seq).toBe(2);
    await pool.close();
  });

  it("close() ends every FFmpeg and resolves once they are gone; nothing starts afterwards", async () => {
    const { pool, children, timers } = setup();
    pool.attach(new FakeChannel("a"));
    pool.attach(new FakeChannel("b"));
    pool.setDemand(true);
    children[1].exitOnTerm = false;
    let closed = false;
    const p = pool.close().then(() => (closed = true));
    await settle();
    expect(children.map((c) => c.signals[0])).toEqual(["SIGTERM", "SIGTERM"]);
    expect(closed).toBe(false);
    timers.advance(2000);
    await p;
    expect(children.every((c) => c.exited)).toBe(true);
    pool.setDemand(true);
    pool.attach(new FakeChannel("c"));
    expect(children).toHaveLength(2);
  });

  it("thumbnailArgs keeps the picture's aspect ratio in the height, even", () => {
    const args = thumbnailArgs({ everyMs: 5000, width: 320, feed: "keyframes" });
    expect(args).toContain("select='eq(pict_type,I)',scale=320:'trunc(ow/dar/2)*2',setsar=1");
  });
});

/** A video PES start flagged random access (a key frame), as FFmpeg's muxer writes it. */
function keyFramePacket(): Buffer {
  const p = Buffer.alloc(188, 0xff);
  Buffer.from([0x47, 0x41, 0x00, 0x30, 0x01, 0x40, 0x00, 0x00, 0x01, 0xe0]).copy(p);
  return p;
}
