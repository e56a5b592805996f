/**
 * FileOutput with an injected file system and clock: a full disk (ENOSPC) and time rotation.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { expandPathTemplate, FileOutput, type FileLike, type FileSystem } from "../../src/pipeline/outputs/file.js";
import type { DirEntry } from "../../src/pipeline/recordings.js";
import { ManualTimers } from "../helpers/manual-timers.js";

/** An in-memory file system whose writes fail with ENOSPC while `full` is set. */
class MemFs implements FileSystem {
  files = new Map<string, Buffer[]>();
  full = false;
  unlinked: string[] = [];
  mkdir(): Promise<unknown> {
    return Promise.resolve(undefined);
  }
  open(path: string): Promise<FileLike> {
    if (this.files.has(path)) return Promise.reject(Object.assign(new Error("exists"), { code: "EEXIST" }));
    const parts: Buffer[] = [];
    this.files.set(path, parts);
    return Promise.resolve({
      write: (buf: Buffer, off: number, len: number) => {
        if (this.full) return Promise.reject(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }));
        parts.push(Buffer.from(buf.subarray(off, off + len)));
        return Promise.resolve({ bytesWritten: len });
      },
      close: () => Promise.resolve(),
    });
  }
  unlink(path: string): Promise<void> {
    this.files.delete(path);
    this.unlinked.push(path);
    return Promise.resolve();
  }
  readdir(dir: string): Promise<DirEntry[]> {
    const names = new Map<string, boolean>(); // name → is a file
    for (const p of this.files.keys()) {
      if (!p.startsWith(`${dir}/`)) continue;
      const rest = p.slice(dir.length + 1).split("/");
      names.set(rest[0], rest.length === 1);
    }
    return Promise.resolve([...names].map(([name, file]) => ({ name, isFile: () => file, isDirectory: () => !file })));
  }
  stat(path: string): Promise<{ mtimeMs: number }> {
    // creation order stands in for modification time
    return Promise.resolve({ mtimeMs: [...this.files.keys()].indexOf(path) });
  }
  content(path: string): Buffer {
    return Buffer.concat(this.files.get(path) ?? []);
  }
}

const packets = (n: number, fill = 0): Buffer => {
  const b = Buffer.alloc(188 * n, fill);
  for (let i = 0; i < b.length; i += 188) b[i] = 0x47;
  return b;
};
const settle = () => new Promise((r) => setImmediate(r));

describe("FileOutput (injected fs and clock)", () => {
  it("counts ENOSPC, bounds its queue, retries with backoff and recovers in a new file", async () => {
    const fs = new MemFs();
    const clock = new ManualClock(0, 0);
    const timers = new ManualTimers(clock);
    const out = new FileOutput({ path: "/rec/a.ts", fs, timers, clock, retryMinMs: 500, retryMaxMs: 4000, maxQueueBytes: 188 * 20 });
    out.write(packets(5, 1));
    await settle();
    expect(fs.content("/rec/a.ts").length).toBe(188 * 5);

    fs.full = true;
    out.write(packets(5, 2));
    await settle();
    expect(out.stats).toMatchObject({ errors: 1, failing: true, lastError: "ENOSPC" });
    // while waiting to retry, chunks queue up to the bound, then drop
    for (let i = 0; i < 10; i++) out.write(packets(5, 3));
    expect(out.stats.queuedBytes).toBeLessThanOrEqual(188 * 20);
    expect(out.stats.droppedBytes).toBe(188 * 5 /* the failed write */ + 188 * 5 * 6);

    // retries keep failing, with growing delays
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      delays.push(timers.fireNext()!);
      expect(timers.size).toBe(0);
      await settle();
    }
    expect(out.stats.errors).toBe(4);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays.every((d) => d >= 500 && d <= 4000)).toBe(true);

    fs.full = false;
    timers.fireNext();
    await settle();
    await settle();
    expect(out.stats).toMatchObject({ failing: false, reconnects: 1 });
    // the files the failed retries left empty are removed; names are not reused
    expect([...fs.files.keys()]).toEqual(["/rec/a.ts", "/rec/a-4.ts"]);
    expect(fs.unlinked).toEqual(["/rec/a-1.ts", "/rec/a-2.ts", "/rec/a-3.ts"]);
    await out.close();
    expect(fs.content("/rec/a-4.ts").length).toBe(188 * 5); // the one chunk left in the queue
  });

  it("starts a new file at each wall-clock period boundary, named by its time", async () => {
    const fs = new MemFs();
    const t0 = new Date(2024, 0, 2, 10, 59, 30).getTime(); // local time
    const clock = new ManualClock(t0, 0);
    const out = new FileOutput({ path: "/rec/%Y/%m/%d/ch-%H%M%S.ts", rotateSeconds: 60, fs, clock });
    out.write(packets(1));
    await settle();
    clock.advance(29_000); // 10:59:59
    out.write(packets(1));
    await settle();
    clock.advance(1_000); // 11:00:00 — a minute boundary (aligned to the epoch)
    out.write(packets(1));
    await settle();
    await out.close();
    expect([...fs.files.keys()]).toEqual(["/rec/2024/01/02/ch-105930.ts", "/rec/2024/01/02/ch-110000.ts"]);
    expect(fs.content("/rec/2024/01/02/ch-105930.ts").length).toBe(376);
  });

  it("expands the strftime subset", () => {
    const ms = new Date(2025, 11, 31, 23, 5, 9).getTime();
    expect(expandPathTemplate("/r/%Y-%m-%d_%H.%M.%S_%%.ts", ms)).toBe("/r/2025-12-31_23.05.09_%.ts");
  });
});
