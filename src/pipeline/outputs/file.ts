/**
 * Recording to files, rotated by wall-clock period and/or size, with the newest `keep`
 * recordings kept on disk (recordings.ts). See FileOutput.
 */
import * as fsp from "node:fs/promises";
import { dirname, extname } from "node:path";
import type { Logger } from "pino";
import { Backoff } from "../../core/backoff.js";
import { systemClock, type Clock } from "../../core/clock.js";
import { realTimers, type Timers } from "../../core/timers.js";
import { pruneRecordings, type RecordingsFs } from "../recordings.js";
import { errText, Output, TS_PACKET, type OutputConfig, type OutputContext } from "./types.js";

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

/** The recording of a profile's `kind: file` entry. */
export function fileFromConfig(o: OutputConfig<"file">, ctx: OutputContext): FileOutput {
  return new FileOutput({ path: o.path, rotateSeconds: o.rotateSeconds, keep: o.keep, name: `file:${o.path}`, logger: ctx.logger });
}
