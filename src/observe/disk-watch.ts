/**
 * Free space of the data directory and of the recording directories, checked with the real
 * `fs.statfs` at start, every `intervalMs` (default 60 s) and whenever the threshold is set
 * again (SIGHUP). A directory whose free space falls under the threshold reports `onLow`
 * once; `onOk` follows once it is back at or over it. Free space is what an unprivileged
 * writer may use (`bavail`, df's "Avail"); total is the filesystem's size.
 *
 * A directory that does not exist (yet) is measured at its nearest existing ancestor, where
 * its files would land. One that cannot be measured at all is skipped and logged once.
 */
import { statfs as realStatfs } from "node:fs/promises";
import { dirname } from "node:path";
import { OnairError } from "../core/errors.js";
import { backgroundTimers, type Timers } from "../core/timers.js";

/** `alerts.diskLowFree`: a share of the filesystem ("5%") or a size ("2g", bytes). */
export type DiskThreshold = { percent: number } | { bytes: number };

export const DISK_CHECK_INTERVAL_MS = 60_000;

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses "5%", "0.5%", "2g", "500m", "1048576" or a number of bytes (ONAIR_CONFIG_INVALID otherwise). */
export function parseDiskThreshold(v: string | number): DiskThreshold {
  if (typeof v === "number") return { bytes: v };
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct && Number(pct[1]) <= 100) return { percent: Number(pct[1]) };
  const size = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)$/.exec(v);
  if (size) return { bytes: Math.round(Number(size[1]) * UNITS[size[2].toLowerCase()]) };
  throw new OnairError("ONAIR_CONFIG_INVALID", `alerts.diskLowFree: expected a percentage (5%) or a size (2g), got ${v}`, {
    source: "alerts.diskLowFree",
  });
}

export interface WatchedDisk {
  role: "data" | "recording" | "hls";
  path: string;
  /** the channel whose recordings live there */
  channel?: string | undefined;
}

/** What `onLow` / `onOk` report about one directory. */
export interface DiskReading extends WatchedDisk {
  freeBytes: number;
  totalBytes: number;
  thresholdBytes: number;
}

export interface DiskWatchOptions {
  threshold: DiskThreshold;
  /** the directories to watch, asked at every check (channels come and go on SIGHUP) */
  dirs: () => readonly WatchedDisk[];
  onLow: (r: DiskReading) => void;
  onOk: (r: DiskReading) => void;
  /** a directory that cannot be measured (logged once per path) */
  onError?: (d: WatchedDisk, err: unknown) => void;
  intervalMs?: number;
  /** the check's interval timer (default unref'd Node timers: it does not hold the process open) */
  timers?: Timers | undefined;
  statfs?: (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint; blocks: number | bigint }>;
}

export class DiskWatch {
  private threshold: DiskThreshold;
  private readonly low = new Set<string>();
  private readonly failed = new Set<string>();
  private timer: unknown;
  private readonly timers: Timers;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: DiskWatchOptions) {
    this.threshold = o.threshold;
    this.timers = o.timers ?? backgroundTimers;
  }

  /** Checks now, then every interval (the timer does not hold the process open). */
  start(): void {
    void this.check();
    this.timer = this.timers.setInterval(() => void this.check(), this.o.intervalMs ?? DISK_CHECK_INTERVAL_MS);
  }

  /** A new threshold (SIGHUP), applied by a check right away. */
  setThreshold(t: DiskThreshold): Promise<void> {
    this.threshold = t;
    return this.check();
  }

  /** One pass over the directories; passes never overlap. */
  check(): Promise<void> {
    this.running = this.running.then(() => this.pass());
    return this.running;
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async pass(): Promise<void> {
    const seen = new Set<string>();
    for (const d of this.o.dirs()) {
      if (seen.has(d.path)) continue;
      seen.add(d.path);
      const r = await this.read(d);
      if (!r) continue;
      if (r.freeBytes < r.thresholdBytes && !this.low.has(d.path)) {
        this.low.add(d.path);
        this.o.onLow(r);
      } else if (r.freeBytes >= r.thresholdBytes && this.low.delete(d.path)) {
        this.o.onOk(r);
      }
    }
    // a directory no longer watched (its channel removed) forgets its state
    for (const p of this.low) if (!seen.has(p)) this.low.delete(p);
  }

  private async read(d: WatchedDisk): Promise<DiskReading | undefined> {
    const statfs = this.o.statfs ?? realStatfs;
    for (let p = d.path; ; p = dirname(p)) {
      try {
        const s = await statfs(p);
        this.failed.delete(d.path);
        const totalBytes = Number(s.blocks) * Number(s.bsize);
        const t = this.threshold;
        const thresholdBytes = "percent" in t ? Math.round((totalBytes * t.percent) / 100) : t.bytes;
        return { ...d, freeBytes: Number(s.bavail) * Number(s.bsize), totalBytes, thresholdBytes };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === "ENOENT" || code === "ENOTDIR") && dirname(p) !== p) continue;
        if (!this.failed.has(d.path)) this.o.onError?.(d, err);
        this.failed.add(d.path);
        return undefined;
      }
    }
  }
}
