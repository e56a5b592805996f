/**
 * Channel outputs: UDP (unicast and multicast, N×188 bytes per datagram), file recording
 * (rotated by time or size), stdout, SRT (through an FFmpeg child with libsrt), and a
 * fan-out that feeds them all.
 *
 * Rules every output follows:
 * - `write()` never throws into the channel and never blocks: an output that cannot keep
 *   up or is failing drops the chunk and counts it (`droppedBytes`, `droppedChunks`);
 *   what it holds is bounded (`maxQueueBytes`), so memory never grows.
 * - A failing output retries on its own (UDP: address lookup; file: reopen with backoff)
 *   and counts `errors` and `reconnects`; events `failed` (first error of an episode)
 *   and `recovered` say when it goes bad and good.
 * - Chunks handed in are not edited; what an output keeps beyond the call it copies
 *   (UDP) or keeps as handed over (the file queue: the producer must not edit a chunk
 *   after passing it on).
 */
import type { ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { lookup as dnsLookup } from "node:dns/promises";
import { EventEmitter } from "node:events";
import * as fsp from "node:fs/promises";
import { dirname, extname } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Logger } from "pino";
import { redactString, REDACTED, SecretSet } from "../config/redact.js";
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { detectSetpriv, resolveFfmpegBinary } from "./ffmpeg-args.js";
import { ProgressParser, type ProgressReport } from "./progress.js";
import { pruneRecordings, type RecordingsFs } from "./recordings.js";
import { StderrReader } from "./stderr.js";
import { defaultSpawn, spawnChild, spawnErrno, type SpawnFn } from "./child.js";
import { realTimers, type Timers } from "../core/timers.js";

export const TS_PACKET = 188;
const SYNC = 0x47;

export interface OutputStats {
  kind: string;
  name: string;
  /** Bytes delivered (sent or written). */
  bytes: number;
  /** 188-byte packets delivered. */
  packets: number;
  /** UDP datagrams sent. */
  datagrams: number;
  droppedBytes: number;
  droppedChunks: number;
  errors: number;
  /** Recoveries after a failure (reopen, re-resolve). */
  reconnects: number;
  /** Bytes waiting in the output's bounded queue. */
  queuedBytes: number;
  /** Bytes skipped to find packet sync again (UDP). */
  resyncBytes: number;
  /** Files started (file output). */
  files: number;
  /** The last error's code or message. */
  lastError: string | null;
  /** True while in a failure episode. */
  failing: boolean;
}

export interface OutputEvents {
  failed: [{ error: Error }];
  recovered: [];
  rotated: [{ path: string }];
}

function newStats(kind: string, name: string): OutputStats {
  return {
    kind,
    name,
    bytes: 0,
    packets: 0,
    datagrams: 0,
    droppedBytes: 0,
    droppedChunks: 0,
    errors: 0,
    reconnects: 0,
    queuedBytes: 0,
    resyncBytes: 0,
    files: 0,
    lastError: null,
    failing: false,
  };
}

function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** What every output offers the fan-out. */
export abstract class Output extends EventEmitter<OutputEvents> {
  readonly stats: OutputStats;
  protected readonly log: Logger | undefined;

  constructor(kind: string, name: string, logger?: Logger) {
    super();
    this.stats = newStats(kind, name);
    this.log = logger?.child({ output: name });
  }

  get name(): string {
    return this.stats.name;
  }

  /** Prepares the output; a failure is counted and retried, never thrown. */
  abstract open(): Promise<void>;
  /** Takes a chunk of TS; never throws, never blocks. */
  abstract write(chunk: Buffer): void;
  /** Flushes what it can and releases its resources. */
  abstract close(): Promise<void>;

  protected drop(bytes: number): void {
    this.stats.droppedBytes += bytes;
    this.stats.droppedChunks++;
  }

  protected fail(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = errText(e);
    if (!this.stats.failing) {
      this.stats.failing = true;
      this.log?.warn({ event: "output.failed", kind: this.stats.kind, err: e });
      this.emit("failed", { error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  protected ok(): void {
    if (this.stats.failing) {
      this.stats.failing = false;
      this.stats.reconnects++;
      this.log?.info({ event: "output.recovered", kind: this.stats.kind, errors: this.stats.errors });
      this.emit("recovered");
    }
  }
}

// ── UDP ────────────────────────────────────────────────────────────────────────

export interface UdpOutputOptions {
  host: string;
  port: number;
  /** Multicast TTL (default 16). */
  ttl?: number;
  /** Local address to send multicast from. */
  interface?: string;
  /** 188-byte packets per datagram, 1–7 (default 7 = 1316 bytes). */
  packetsPerDatagram?: number;
  /** Bytes handed to the socket and not yet sent before new datagrams are dropped (default 1 MiB). */
  maxQueueBytes?: number;
  name?: string;
  logger?: Logger;
  timers?: Timers;
  /** Retry delay for a failed address lookup (default 500 ms → 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

function isMulticast(address: string): boolean {
  if (address.includes(":")) return /^ff/i.test(address);
  const first = Number(address.split(".")[0]);
  return first >= 224 && first <= 239;
}

/**
 * MPEG-TS over UDP: datagrams of N whole packets (7 × 188 = 1316 bytes by default),
 * stitched across chunk boundaries; a byte that is not a sync byte where a packet should
 * start is skipped up to the next 0x47 (counted in `resyncBytes`).
 */
export class UdpOutput extends Output {
  private readonly opts: Required<Pick<UdpOutputOptions, "host" | "port" | "ttl" | "packetsPerDatagram" | "maxQueueBytes">> & UdpOutputOptions;
  private readonly datagramSize: number;
  private readonly timers: Timers;
  private readonly retry: Backoff;
  private socket: Socket | undefined;
  private address: string | undefined;
  private ready = false;
  private closed = false;
  private retryTimer: unknown;
  private inflight = 0;
  /** The packet straddling two chunks. */
  private readonly part = Buffer.alloc(TS_PACKET);
  private partLen = 0;
  /** The datagram being filled: a buffer of `datagramSize`, lent to the socket once sent. */
  private dg: Buffer | undefined;
  private dgLen = 0;
  /**
   * Datagram buffers back from the socket, for reuse: at ~1000 datagrams/s per 10 Mb/s a
   * fresh buffer (and a closure) per send is the daemon's main source of garbage.
   */
  private readonly spare: Buffer[] = [];
  /** Buffers and sizes lent to the socket, oldest first (sends complete in order). */
  private readonly lent: Buffer[] = [];
  private readonly lentSizes: number[] = [];
  /** Resolves close()'s wait once nothing is lent. */
  private drained: (() => void) | undefined;

  constructor(opts: UdpOutputOptions) {
    super("udp", opts.name ?? `udp://${opts.host}:${opts.port}`, opts.logger);
    const n = opts.packetsPerDatagram ?? 7;
    if (!(Number.isInteger(n) && n >= 1 && n <= 7)) throw new RangeError("packetsPerDatagram must be 1–7");
    this.opts = { ttl: 16, maxQueueBytes: 1 << 20, ...opts, packetsPerDatagram: n };
    this.datagramSize = n * TS_PACKET;
    this.timers = opts.timers ?? realTimers;
    this.retry = new Backoff({ minMs: opts.retryMinMs ?? 500, maxMs: opts.retryMaxMs ?? 30_000 });
  }

  async open(): Promise<void> {
    if (this.closed || this.ready) return;
    try {
      const { address, family } = await dnsLookup(this.opts.host);
      if (this.closed) return;
      const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
      socket.on("error", (e) => this.fail(e));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      if (isMulticast(address)) {
        socket.setMulticastTTL(this.opts.ttl);
        if (this.opts.interface) socket.setMulticastInterface(this.opts.interface);
      }
      if (this.closed) {
        socket.close();
        return;
      }
      this.socket = socket;
      this.address = address;
      this.ready = true;
      this.retry.reset();
      this.ok();
    } catch (e) {
      this.fail(e);
      if (!this.closed) {
        this.retryTimer = this.timers.setTimeout(() => {
          this.retryTimer = undefined;
          void this.open();
        }, this.retry.next());
      }
    }
  }

  write(chunk: Buffer): void {
    if (this.closed) return;
    const len = chunk.length;
    let i = 0;
    if (this.partLen > 0) {
      const take = Math.min(TS_PACKET - this.partLen, len);
      chunk.copy(this.part, this.partLen, 0, take);
      this.partLen += take;
      i = take;
      if (this.partLen < TS_PACKET) return;
      this.partLen = 0;
      this.addPacket(this.part, 0);
    }
    while (i < len) {
      if (chunk[i] !== SYNC) {
        let j = chunk.indexOf(SYNC, i + 1);
        if (j < 0) j = len;
        this.stats.resyncBytes += j - i;
        i = j;
        continue;
      }
      if (len - i >= TS_PACKET) {
        this.addPacket(chunk, i);
        i += TS_PACKET;
      } else {
        chunk.copy(this.part, 0, i, len);
        this.partLen = len - i;
        break;
      }
    }
  }

  private addPacket(src: Buffer, off: number): void {
    this.dg ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(this.datagramSize);
    src.copy(this.dg, this.dgLen, off, off + TS_PACKET);
    this.dgLen += TS_PACKET;
    if (this.dgLen === this.datagramSize) {
      const dg = this.dg;
      this.dg = undefined;
      this.dgLen = 0;
      this.send(dg);
    }
  }

  /** Sends the first `size` bytes of `dg` (a buffer of `datagramSize`, lent until sent). */
  private send(dg: Buffer, size = dg.length): void {
    const socket = this.socket;
    if (!this.ready || !socket || !this.address || this.inflight + size > this.opts.maxQueueBytes) {
      this.drop(size);
      this.giveBack(dg);
      return;
    }
    this.inflight += size;
    this.stats.queuedBytes = this.inflight;
    this.lent.push(dg);
    this.lentSizes.push(size);
    try {
      socket.send(size === dg.length ? dg : dg.subarray(0, size), this.opts.port, this.address, this.onSent);
    } catch (e) {
      this.lent.pop();
      this.lentSizes.pop();
      this.inflight -= size;
      this.stats.queuedBytes = this.inflight;
      this.giveBack(dg);
      this.fail(e);
      this.drop(size);
    }
  }

  /** The socket is done with the oldest lent datagram (one shared callback, no closure per send). */
  private readonly onSent = (err: Error | null): void => {
    const dg = this.lent.shift();
    const size = this.lentSizes.shift() ?? 0;
    this.inflight -= size;
    this.stats.queuedBytes = this.inflight;
    if (dg) this.giveBack(dg);
    if (this.lent.length === 0) this.drained?.();
    if (err) {
      this.fail(err);
      this.drop(size);
      return;
    }
    this.stats.bytes += size;
    this.stats.packets += size / TS_PACKET;
    this.stats.datagrams++;
    this.ok();
  };

  private giveBack(dg: Buffer): void {
    if (this.spare.length < 64) this.spare.push(dg);
  }

  /** Sends a partly filled datagram now (whole packets only). */
  flush(): void {
    if (this.dg && this.dgLen > 0) {
      const dg = this.dg;
      const size = this.dgLen;
      this.dg = undefined;
      this.dgLen = 0;
      this.send(dg, size);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    const s = this.socket;
    // what was handed to the socket goes out before it closes (a send still resolving its
    // address would be dropped silently), within a bound
    if (s && this.lent.length > 0) {
      await new Promise<void>((r) => {
        this.drained = r;
        setTimeout(r, 500).unref();
      });
      this.drained = undefined;
    }
    this.socket = undefined;
    this.ready = false;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

// ── file recording ─────────────────────────────────────────────────────────────

/** The part of node:fs/promises the file output uses (injectable for fault tests). */
export interface FileSystem extends RecordingsFs {
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>;
  open(path: string, flags: string, mode?: number): Promise<FileLike>;
}
export interface FileLike {
  write(buf: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

export const nodeFileSystem: FileSystem = {
  mkdir: (p, o) => fsp.mkdir(p, o),
  open: (p, f, m) => fsp.open(p, f, m),
  unlink: (p) => fsp.unlink(p),
  readdir: (p) => fsp.readdir(p, { withFileTypes: true }),
  stat: (p) => fsp.stat(p),
};

export interface FileOutputOptions {
  /** Path template; %Y %m %d %H %M %S (local time) and %% are expanded at each new file. */
  path: string;
  /** Start a new file at every multiple of this many seconds (wall clock). */
  rotateSeconds?: number;
  /** Start a new file when this many bytes are reached (rounded down to whole packets). */
  rotateBytes?: number;
  /**
   * Recordings kept, counting every file on disk that matches `path` (from any run, the
   * one being written included); the oldest beyond are deleted at each new file. Only files
   * matching the template are ever deleted (see recordings.ts).
   */
  keep?: number;
  /** Bytes queued before chunks are dropped (default 8 MiB). */
  maxQueueBytes?: number;
  /** Backoff between reopen attempts after an error (default 500 ms → 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  name?: string;
  logger?: Logger;
  clock?: Clock;
  timers?: Timers;
  fs?: FileSystem;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** Expands %Y %m %d %H %M %S (local time) and %% in a path template. */
export function expandPathTemplate(template: string, ms: number): string {
  const d = new Date(ms);
  return template.replace(/%([YmdHMS%])/g, (_m, c: string) => {
    switch (c) {
      case "Y":
        return String(d.getFullYear());
      case "m":
        return pad(d.getMonth() + 1);
      case "d":
        return pad(d.getDate());
      case "H":
        return pad(d.getHours());
      case "M":
        return pad(d.getMinutes());
      case "S":
        return pad(d.getSeconds());
      default:
        return "%";
    }
  });
}

function withSuffix(path: string, n: number): string {
  if (n === 0) return path;
  const ext = extname(path);
  return ext ? `${path.slice(0, -ext.length)}-${n}${ext}` : `${path}-${n}`;
}

/**
 * Recording to files, rotated by wall-clock period and/or size. Files are created
 * exclusively (an existing name gets `-1`, `-2`… before the extension), so nothing is
 * ever overwritten. A write or open error is counted, the file is closed, and a new
 * file is opened after a backoff; meanwhile chunks queue up to `maxQueueBytes` and are
 * dropped beyond, so a full disk never stalls the channel or the other outputs.
 */
export class FileOutput extends Output {
  private readonly opts: FileOutputOptions;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly retry: Backoff;
  private readonly maxQueue: number;
  private readonly rotateBytes: number;
  private readonly queue: Buffer[] = [];
  private file: FileLike | undefined;
  private filePath: string | undefined;
  private fileBytes = 0;
  private rotateAt = Infinity;
  private pumping: Promise<void> | undefined;
  private waitingRetry = false;
  private retryTimer: unknown;
  private closed = false;
  private readonly nextSuffix = new Map<string, number>();

  constructor(opts: FileOutputOptions) {
    super("file", opts.name ?? `file:${opts.path}`, opts.logger);
    this.opts = opts;
    this.fs = opts.fs ?? nodeFileSystem;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    this.retry = new Backoff({ minMs: opts.retryMinMs ?? 500, maxMs: opts.retryMaxMs ?? 30_000, clock: this.clock });
    this.maxQueue = opts.maxQueueBytes ?? 8 << 20;
    this.rotateBytes = opts.rotateBytes ? Math.max(TS_PACKET, Math.floor(opts.rotateBytes / TS_PACKET) * TS_PACKET) : Infinity;
  }

  /** The file being written, if any. */
  get currentPath(): string | undefined {
    return this.filePath;
  }

  open(): Promise<void> {
    return Promise.resolve(); // the first file is created with the first bytes
  }

  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    if (this.stats.queuedBytes + chunk.length > this.maxQueue) {
      this.drop(chunk.length);
      return;
    }
    this.queue.push(chunk);
    this.stats.queuedBytes += chunk.length;
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.waitingRetry) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.queue.length > 0 && !this.waitingRetry && !this.closedAndDrained()) this.kick();
    });
  }

  private closedAndDrained(): boolean {
    return this.closed && this.queue.length === 0;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      let chunk = this.queue[0];
      try {
        if (this.file && this.clock.now() >= this.rotateAt) await this.closeFile();
        if (!this.file) await this.openFile();
        const room = this.rotateBytes - this.fileBytes;
        let piece = chunk;
        if (chunk.length > room) piece = chunk.subarray(0, room);
        await this.writeAll(piece);
        this.fileBytes += piece.length;
        this.stats.bytes += piece.length;
        this.stats.packets += Math.floor(piece.length / TS_PACKET);
        this.stats.queuedBytes -= piece.length;
        if (piece.length < chunk.length) {
          chunk = chunk.subarray(piece.length);
          this.queue[0] = chunk;
        } else {
          this.queue.shift();
        }
        if (this.fileBytes >= this.rotateBytes) await this.closeFile();
        this.ok();
        this.retry.reset();
      } catch (e) {
        // the chunk being written is lost (part of it may be in the old file)
        this.queue.shift();
        this.stats.queuedBytes -= chunk.length;
        this.drop(chunk.length);
        this.fail(e);
        const empty = this.fileBytes === 0 ? this.filePath : undefined;
        await this.closeFile().catch(() => undefined);
        if (empty) {
          // a file the failure left empty is noise next to the recordings
          await this.fs.unlink(empty).catch(() => undefined);
        }
        if (this.closed) {
          this.dropQueue();
          return;
        }
        this.waitingRetry = true;
        this.retryTimer = this.timers.setTimeout(() => {
          this.retryTimer = undefined;
          this.waitingRetry = false;
          if (this.closed) this.dropQueue();
          else this.kick();
        }, this.retry.next());
        return;
      }
    }
  }

  private dropQueue(): void {
    for (const c of this.queue) this.drop(c.length);
    this.queue.length = 0;
    this.stats.queuedBytes = 0;
  }

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.file!.write(buf, off, buf.length - off);
      if (bytesWritten <= 0) throw Object.assign(new Error("write wrote nothing"), { code: "EIO" });
      off += bytesWritten;
    }
  }

  private async openFile(): Promise<void> {
    const now = this.clock.now();
    const base = expandPathTemplate(this.opts.path, now);
    await this.fs.mkdir(dirname(base), { recursive: true });
    // suffixes only grow for a name, so a deleted old file's name is not reused
    for (let n = this.nextSuffix.get(base) ?? 0; ; n++) {
      const p = withSuffix(base, n);
      try {
        this.file = await this.fs.open(p, "wx", 0o644);
        this.filePath = p;
        this.nextSuffix.set(base, n + 1);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n >= 9999) throw e;
      }
    }
    this.fileBytes = 0;
    this.stats.files++;
    const period = (this.opts.rotateSeconds ?? 0) * 1000;
    this.rotateAt = period > 0 ? Math.floor(now / period) * period + period : Infinity;
    this.log?.info({ event: "output.file_open", path: this.filePath });
    this.emit("rotated", { path: this.filePath });
    if (this.opts.keep !== undefined) await this.prune(this.opts.keep, this.filePath);
  }

  /** Keeps the newest `keep` recordings on disk; a failure is logged, never a write error. */
  private async prune(keep: number, current: string): Promise<void> {
    try {
      const deleted = await pruneRecordings(this.fs, this.opts.path, keep, current);
      if (deleted.length) this.log?.info({ event: "output.file_pruned", keep, deleted });
    } catch (e) {
      this.log?.warn({ event: "output.file_prune_failed", error: errText(e) }, `cannot list old recordings: ${errText(e)}`);
    }
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    this.filePath = undefined;
    if (f) await f.close();
  }

  /** Writes what is queued (unless failing), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.waitingRetry) {
      if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
      this.waitingRetry = false;
      this.dropQueue();
    }
    while (this.pumping) await this.pumping;
    await this.closeFile().catch((e: unknown) => this.fail(e));
  }
}

// ── stdout ─────────────────────────────────────────────────────────────────────

export interface StdoutOutputOptions {
  stream?: Writable;
  /** Bytes buffered in the stream before chunks are dropped (default 4 MiB). */
  maxQueueBytes?: number;
  name?: string;
  logger?: Logger;
}

/** TS to stdout (or any Writable): bounded by the stream's buffer; EPIPE ends it for good. */
export class StdoutOutput extends Output {
  private readonly stream: Writable;
  private readonly maxQueue: number;
  private broken = false;
  private readonly onError = (e: Error): void => {
    this.broken = true;
    this.fail(e);
  };

  constructor(opts: StdoutOutputOptions = {}) {
    super("stdout", opts.name ?? "stdout", opts.logger);
    this.stream = opts.stream ?? process.stdout;
    this.maxQueue = opts.maxQueueBytes ?? 4 << 20;
    this.stream.on("error", this.onError);
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  write(chunk: Buffer): void {
    if (this.broken || this.stream.destroyed) {
      this.drop(chunk.length);
      return;
    }
    if (this.stream.writableLength + chunk.length > this.maxQueue) {
      this.drop(chunk.length);
      return;
    }
    const n = chunk.length;
    this.stats.queuedBytes = this.stream.writableLength + n;
    this.stream.write(chunk, (err) => {
      if (err) return; // reported through 'error'
      this.stats.bytes += n;
      this.stats.packets += Math.floor(n / TS_PACKET);
      this.stats.queuedBytes = this.stream.writableLength;
    });
  }

  close(): Promise<void> {
    this.stream.off("error", this.onError);
    this.stream.on("error", () => undefined);
    return Promise.resolve();
  }
}

// ── SRT ────────────────────────────────────────────────────────────────────────

export interface SrtOutputOptions {
  mode: "caller" | "listener";
  /** Remote host (caller) or bind address (listener); IPv6 literals without brackets. */
  host: string;
  port: number;
  /** 10–79 characters; secret. */
  passphrase?: string;
  /** AES key length in bytes (with a passphrase). */
  pbkeylen?: 16 | 24 | 32;
  /** SRT latency (default 120 ms). */
  latencyMs?: number;
  /** SRT stream id; secret (it often carries credentials). */
  streamId?: string;
  /** Caller only: give up a connection attempt after this (libsrt's default: 3000 ms). */
  connectTimeoutMs?: number;
  /** Bytes waiting for the child's stdin before whole chunks are dropped (default 1 MiB). */
  maxQueueBytes?: number;
  /** Backoff between child restarts (default 500 ms → 30 s, decorrelated jitter). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A connection up this long resets the backoff (default 60 000 ms). */
  stableAfterMs?: number;
  /** close(): SIGKILL this long after SIGTERM (default 2000 ms). */
  stopTimeoutMs?: number;
  /** The FFmpeg binary (default resolveFfmpegBinary()). */
  ffmpegPath?: string;
  /** Run under `setpriv --pdeathsig KILL --`: true/false or its path (default: detected). */
  setpriv?: boolean | string;
  /**
   * Secrets scrubbed from every line this output logs (the channel's, i.e. the root
   * logger's set); this output's own passphrase and stream id are always scrubbed.
   */
  secrets?: SecretSet;
  name?: string;
  logger?: Logger;
  timers?: Timers;
  clock?: Clock;
  spawn?: SpawnFn;
  env?: NodeJS.ProcessEnv;
}

/** The SRT part of the command (what follows the FFmpeg binary), and the URL. */
export interface SrtCommand {
  /** What to spawn: setpriv, or FFmpeg itself. */
  command: string;
  args: string[];
  /** FFmpeg's own arguments. */
  ffmpegArgs: string[];
  /** The srt:// URL (no secret in it). */
  url: string;
}

/** FFmpeg's `-progress` fd for the SRT child. */
const SRT_PROGRESS_FD = 3;
/** Options whose next argument is a secret (masked in the logged argv). */
const SRT_SECRET_OPTIONS = new Set(["-passphrase", "-srt_streamid"]);

/**
 * The FFmpeg command of an SRT output: TS bytes from stdin, copied byte for byte to
 * `srt://host:port?mode=…&latency=…(µs)&pkt_size=1316`.
 *
 * `-f data … -f data` (raw bytes), not `-f mpegts … -f mpegts`: FFmpeg 5.1 remuxing the
 * channel's TS rewrites it (measured: the SCTE-35 PID 500 becomes a private `bin_data`
 * stream on 0x102 without its 0x86 stream type, the EIT PID becomes a bogus PES stream,
 * SDT/TDT are replaced, CBR null packets go, PCR and continuity are redone), so cues and
 * SI would not survive. Byte copy keeps the TS bit-exact. `-flush_packets 0` makes the
 * avio buffer (sized by pkt_size) go out in whole 1316-byte messages = 7 TS packets;
 * without it every pipe read (up to 1024 bytes, any size) became its own SRT message.
 *
 * Secrets: FFmpeg 5.1/6.x have no file or stdin form for libsrt options, so the
 * passphrase and the stream id are unavoidably in the child's argv (visible in `ps` and
 * /proc/PID/cmdline to local users; see profiles/README.md "Secrets and FFmpeg
 * arguments"). They go as AVOptions (`-passphrase`, `-srt_streamid`), not in the URL,
 * because FFmpeg echoes the URL in its error lines; every line SrtOutput logs (argv,
 * stderr, errors) is redacted anyway.
 */
export function srtOutputCommand(
  opts: Pick<SrtOutputOptions, "mode" | "host" | "port" | "passphrase" | "pbkeylen" | "latencyMs" | "streamId" | "connectTimeoutMs" | "ffmpegPath" | "setpriv">,
): SrtCommand {
  const host = opts.host.includes(":") && !opts.host.startsWith("[") ? `[${opts.host}]` : opts.host;
  const query = [`mode=${opts.mode}`, `latency=${Math.round((opts.latencyMs ?? 120) * 1000)}`, `pkt_size=${7 * TS_PACKET}`];
  if (opts.mode === "caller" && opts.connectTimeoutMs !== undefined) query.push(`connect_timeout=${Math.round(opts.connectTimeoutMs)}`);
  const url = `srt://${host}:${opts.port}?${query.join("&")}`;
  const ffmpegArgs = [
    "-hide_banner", "-nostdin", "-loglevel", "warning",
    "-f", "data", "-i", "pipe:0",
    "-map", "0", "-c", "copy",
    "-f", "data", "-flush_packets", "0",
    "-progress", `pipe:${SRT_PROGRESS_FD}`,
  ];
  if (opts.passphrase) {
    ffmpegArgs.push("-passphrase", opts.passphrase);
    if (opts.pbkeylen) ffmpegArgs.push("-pbkeylen", String(opts.pbkeylen));
  }
  // `-streamid` is FFmpeg's own output option (stream PIDs): libsrt's alias is srt_streamid
  if (opts.streamId) ffmpegArgs.push("-srt_streamid", opts.streamId);
  ffmpegArgs.push(url);
  const ffmpeg = opts.ffmpegPath ?? resolveFfmpegBinary();
  const setpriv = opts.setpriv === undefined || opts.setpriv === true ? detectSetpriv() : opts.setpriv || null;
  return setpriv
    ? { command: setpriv, args: ["--pdeathsig", "KILL", "--", ffmpeg, ...ffmpegArgs], ffmpegArgs, url }
    : { command: ffmpeg, args: ffmpegArgs, ffmpegArgs, url };
}

interface SrtAttempt {
  child: ChildProcess;
  spawnedAt: number;
  /** True from the first progress report (FFmpeg writes none before the connection is up). */
  connected: boolean;
  /** Last `total_size` FFmpeg reported (bytes it muxed into the connection). */
  sent: number;
  done: boolean;
  killTimer?: unknown;
  closed: Promise<void>;
  resolveClosed: () => void;
}

/**
 * MPEG-TS over SRT through an FFmpeg child (libsrt): the channel's bytes go to its stdin.
 *
 * - Bounded: a chunk is written to stdin only while the bytes stdin holds stay under
 *   `maxQueueBytes`; otherwise, and while no child runs (starting, backoff), the whole
 *   chunk is dropped and counted. Chunks should be whole packets (the channel's are), so
 *   what the child gets stays packet-aligned across drops. Chunks are kept as handed
 *   over until written (the producer must not edit a chunk after passing it on).
 * - Connected = FFmpeg's first `-progress` report (it writes none before the SRT
 *   connection is up); `stats.bytes` is FFmpeg's `total_size`, the bytes it sent.
 * - A child that exits (caller: no listener answered within the connect timeout, the
 *   peer went away, a wrong passphrase; listener: the caller left) is counted in
 *   `errors` and restarted after a capped backoff with jitter; `failed` at the first
 *   error of an episode, `recovered` (and `reconnects`) at the next connection. A
 *   listener waiting for its caller is not a failure; chunks are dropped meanwhile.
 * - The child is spawned directly rather than through FfmpegSupervisor: the supervisor
 *   gives the child no stdin, its stall watchdog and "running" state hang on stdout
 *   bytes (an SRT sender writes none), and its backoff would never see a run start.
 * - close(): EOF on stdin and SIGTERM (FFmpeg blocked reading an idle pipe acts on the
 *   EOF, one connecting or waiting for a caller on the signal), SIGKILL after
 *   `stopTimeoutMs`; resolves once the child is reaped.
 *   Under `setpriv --pdeathsig KILL` the child also dies with the daemon.
 *
 * The passphrase and stream id are in the child's argv (FFmpeg 5.1 has no other way to
 * take them; see srtOutputCommand); every line logged here is redacted (argv with the
 * secret options masked, stderr lines and errors through redactString with this output's
 * own secrets and the channel's).
 */
export class SrtOutput extends Output {
  private readonly opts: SrtOutputOptions;
  private readonly cmd: SrtCommand;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly spawnFn: SpawnFn;
  private readonly retry: Backoff;
  private readonly maxQueue: number;
  private readonly stopTimeoutMs: number;
  private readonly ownSecrets = new SecretSet();
  private readonly stderr: StderrReader;
  private attempt: SrtAttempt | undefined;
  private retryTimer: unknown;
  private opened = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Children spawned so far. */
  spawns = 0;
  /** Connections made so far (first progress report of a child). */
  connects = 0;

  constructor(opts: SrtOutputOptions) {
    super("srt", opts.name ?? `srt://${opts.host}:${opts.port}`, opts.logger);
    this.opts = opts;
    this.cmd = srtOutputCommand(opts);
    this.timers = opts.timers ?? realTimers;
    this.clock = opts.clock ?? systemClock;
    this.spawnFn = opts.spawn ?? defaultSpawn;
    this.retry = new Backoff({ minMs: opts.retryMinMs ?? 500, maxMs: opts.retryMaxMs ?? 30_000, stableAfterMs: opts.stableAfterMs ?? 60_000, clock: this.clock });
    this.maxQueue = opts.maxQueueBytes ?? 1 << 20;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 2000;
    this.ownSecrets.add(opts.passphrase);
    this.ownSecrets.add(opts.streamId);
    this.stderr = new StderrReader({ capacity: 20, redact: (l) => this.redact(l) });
  }

  /** The child's pid while one runs. */
  get pid(): number | undefined {
    const a = this.attempt;
    return a && !a.done ? a.child.pid : undefined;
  }

  /** True while a child has its SRT connection up. */
  get connected(): boolean {
    return this.attempt?.connected === true && !this.attempt.done;
  }

  /** The srt:// URL (no secret in it). */
  get url(): string {
    return this.cmd.url;
  }

  /** The child's last stderr lines (redacted), oldest first. */
  stderrTail(n?: number): string[] {
    return this.stderr.ring.lines(n);
  }

  /** Scrubs this output's secrets, the channel's, and credential patterns. */
  private redact(s: string): string {
    return redactString(this.ownSecrets.scrub(s), this.opts.secrets);
  }

  /** Starts the first child; its failures are counted and retried, never thrown. */
  open(): Promise<void> {
    if (!this.opened && !this.closed) {
      this.opened = true;
      this.spawnChild();
    }
    return Promise.resolve();
  }

  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const a = this.attempt;
    const stdin = a && !a.done ? a.child.stdin : null;
    if (!a || !stdin || !stdin.writable || stdin.writableLength + chunk.length > this.maxQueue) {
      this.drop(chunk.length);
      return;
    }
    const n = chunk.length;
    stdin.write(chunk, (err) => {
      // written into the pipe, or lost with a child that went away
      if (err) this.drop(n);
      if (this.attempt === a) this.stats.queuedBytes = stdin.writableLength;
    });
    this.stats.queuedBytes = stdin.writableLength;
  }

  private spawnChild(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    this.stderr.newAttempt();
    this.spawns++;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    // never throws: a child that could not start (EMFILE, ENOENT, a throw, missing pipes) is a
    // stand-in without pid whose one 'error' ends the attempt like an exit (child.ts)
    const child = spawnChild(this.spawnFn, this.cmd.command, this.cmd.args, { stdio: ["pipe", "ignore", "pipe", "pipe"], env: this.opts.env, windowsHide: true });
    const a: SrtAttempt = { child, spawnedAt: this.clock.monotonic(), connected: false, sent: 0, done: false, closed, resolveClosed };
    this.attempt = a;
    child.on("error", (err) => {
      if (child.pid === undefined) this.finish(a, null, null, err);
    });
    child.on("close", (code, signal) => this.finish(a, code, signal));
    // EPIPE once the child is gone: its exit is what gets counted
    child.stdin?.on("error", () => undefined);
    child.stderr?.on("data", (c: Buffer) => void this.stderr.push(c));
    const parser = new ProgressParser();
    (child.stdio[SRT_PROGRESS_FD] as Readable | null | undefined)?.on("data", (c: Buffer) => {
      for (const r of parser.push(c)) this.onProgress(a, r);
    });
    if (child.pid !== undefined) {
      const argv = [this.cmd.command, ...this.cmd.args].map((x, i, all) => (i > 0 && SRT_SECRET_OPTIONS.has(all[i - 1]) ? REDACTED : this.redact(x)));
      this.log?.info({ event: "output.srt_started", pid: child.pid, spawn: this.spawns, argv });
    }
  }

  private onProgress(a: SrtAttempt, r: ProgressReport): void {
    if (a.done) return;
    if (r.totalSize !== null && r.totalSize > a.sent) {
      this.stats.bytes += r.totalSize - a.sent;
      this.stats.packets = Math.floor(this.stats.bytes / TS_PACKET);
      a.sent = r.totalSize;
    }
    if (!a.connected) {
      a.connected = true;
      this.connects++;
      this.retry.started();
      this.log?.info({ event: "output.srt_connected", mode: this.opts.mode, url: this.cmd.url, afterMs: Math.round(this.clock.monotonic() - a.spawnedAt) });
      this.ok();
    }
  }

  private finish(a: SrtAttempt, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    if (a.done) return;
    a.done = true;
    if (a.killTimer !== undefined) this.timers.clearTimeout(a.killTimer);
    this.stderr.end();
    // what stdin still held is lost with the child: the write callbacks count it dropped
    for (const s of a.child.stdio ?? []) (s as Readable | Writable | null)?.destroy?.();
    a.child.removeAllListeners();
    // late 'error' events from a dead child must not become uncaught exceptions
    a.child.on("error", () => undefined);
    if (this.attempt === a) this.attempt = undefined;
    this.stats.queuedBytes = 0;
    const runMs = Math.round(this.clock.monotonic() - a.spawnedAt);
    a.resolveClosed();
    if (this.closed) {
      this.log?.info({ event: "output.srt_stopped", code, signal, runMs });
      return;
    }
    this.afterExit(code, signal, spawnError, a.connected, runMs);
  }

  /** Counts the failure and schedules the next child. */
  private afterExit(code: number | null, signal: NodeJS.Signals | null, spawnError: unknown, wasConnected: boolean, runMs: number): void {
    const line = this.stderr.fatal?.line ?? this.stderr.ring.lines(1)[0];
    const how = spawnError !== undefined && spawnError !== null
      ? `could not be started (${this.redact(spawnErrno(spawnError) ?? errText(spawnError))})`
      : code !== null
        ? `exited with code ${code}`
        : `was killed by ${signal ?? "a signal"}`;
    const error = new Error(`FFmpeg (SRT ${this.opts.mode}) ${how}${line ? `: ${line}` : ""}`);
    this.fail(error);
    const delay = Math.round(this.retry.next());
    this.log?.warn({
      event: "output.srt_exited",
      code,
      signal,
      connected: wasConnected,
      runMs,
      errors: this.stats.errors,
      nextRetryInMs: delay,
      stderrTail: this.stderrTail(5),
    });
    this.retryTimer = this.timers.setTimeout(() => this.spawnChild(), delay);
  }

  /** Ends the child (EOF and SIGTERM, SIGKILL after `stopTimeoutMs`); resolves once it is gone. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const a = this.attempt;
    if (!a || a.done) return;
    // FFmpeg blocked reading an idle pipe does not act on SIGTERM: EOF on stdin ends it too
    a.child.stdin?.end();
    try {
      a.child.kill("SIGTERM");
    } catch {
      /* already gone */
    }
    a.killTimer = this.timers.setTimeout(() => {
      if (a.done) return;
      this.log?.warn({ event: "output.srt_kill", pid: a.child.pid, afterMs: this.stopTimeoutMs });
      try {
        a.child.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }, this.stopTimeoutMs);
    await a.closed;
  }
}

// ── fan-out ────────────────────────────────────────────────────────────────────

/**
 * Hands each chunk to every output. Outputs never block and bound their own queues, so a
 * slow or failing one costs the others nothing; an output that throws anyway is counted.
 */
export class OutputFanout {
  readonly outputs: Output[];
  /** Exceptions thrown by an output's write() (a bug in it), per output name. */
  readonly thrown = new Map<string, number>();

  constructor(outputs: Output[] = []) {
    this.outputs = [...outputs];
  }

  add(o: Output): void {
    this.outputs.push(o);
  }

  async open(): Promise<void> {
    await Promise.allSettled(this.outputs.map((o) => o.open()));
  }

  write(chunk: Buffer): void {
    for (const o of this.outputs) {
      try {
        o.write(chunk);
      } catch {
        this.thrown.set(o.name, (this.thrown.get(o.name) ?? 0) + 1);
        o.stats.errors++;
      }
    }
  }

  stats(): OutputStats[] {
    return this.outputs.map((o) => ({ ...o.stats }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.outputs.map((o) => o.close()));
  }
}
