/**
 * TsReader: cuts an arbitrary byte stream (pipe chunks of any size) into 188-byte packets.
 *
 * Lock rule (after TR 101 290 1.1, which regains sync after 5 good sync bytes):
 * - Acquire: a byte 0x47 is accepted as a packet start when 0x47 is also found at the
 *   next 4 spacings of 188 bytes (5 sync bytes in a row, `lockCount`). Until that can be
 *   decided the candidate bytes are kept (at most (lockCount − 1) × 188 + 1 bytes).
 * - Lose: while locked, the first packet start that is not 0x47 drops the lock and the
 *   search restarts at that byte. (TR 101 290 declares loss after 2 bad bytes; we cannot
 *   emit a packet whose start is wrong anyway, and resyncing at once loses nothing more
 *   when garbage was inserted between packets.)
 * - End of stream (`end()`): a candidate is accepted when every 188-byte spacing that still
 *   lies inside the remaining bytes holds 0x47; a final partial packet is counted as
 *   truncated, never emitted.
 * Every decision depends only on the bytes of the stream, never on how it was cut into
 * chunks, so the same stream gives the same packets and counters for any chunking.
 *
 * Counters (`stats`): packets emitted, resyncs (episodes: runs of skipped bytes between two
 * locked positions, the start of the stream included), bytesSkipped, transportErrors
 * (packets emitted with transport_error_indicator set), truncatedPackets/truncatedBytes.
 *
 * Emission API, made for batch processing: `onPackets(buf, start, count)` receives a run of
 * `count` contiguous packets at buf[start + i × 188]. Packets aligned inside a pushed chunk
 * are handed over in place, in the longest runs the chunk allows, so a stage may edit them
 * in place (the chunk belongs to the caller of `push`). A packet straddling two chunks (or
 * found inside the reader's small carry buffer) comes alone (count 1) from a reader-owned
 * buffer that is reused: copy what you keep. All buffers are only valid during the call.
 * `onPacket(buf, off)` is the one-at-a-time convenience form.
 *
 * No allocation per packet: one preallocated 188-byte stitch buffer and one carry buffer
 * of lockCount × 188 bytes.
 */
import { SYNC_BYTE, TS_PACKET_SIZE } from "./packet.js";

export const DEFAULT_SYNC_LOCK_COUNT = 5;

export type TsPacketRunHandler = (buf: Uint8Array, start: number, count: number) => void;
export type TsPacketHandler = (buf: Uint8Array, off: number) => void;

export interface TsReaderOptions {
  /** Runs of contiguous packets (preferred for batch stages). */
  onPackets?: TsPacketRunHandler;
  /** One packet at a time; used when onPackets is not given. */
  onPacket?: TsPacketHandler;
  /** Called once per sync-loss episode with the stream offset of the first skipped byte. */
  onSyncLoss?: (streamOffset: number) => void;
  /** Sync bytes in a row needed to lock (≥ 2, default 5). */
  lockCount?: number;
}

export interface TsReaderStats {
  bytesIn: number;
  packets: number;
  resyncs: number;
  bytesSkipped: number;
  transportErrors: number;
  truncatedPackets: number;
  truncatedBytes: number;
}

const EMPTY = new Uint8Array(0);

export class TsReader {
  readonly stats: TsReaderStats = {
    bytesIn: 0,
    packets: 0,
    resyncs: 0,
    bytesSkipped: 0,
    transportErrors: 0,
    truncatedPackets: 0,
    truncatedBytes: 0,
  };

  private readonly onRun: TsPacketRunHandler;
  private readonly onSyncLoss: ((streamOffset: number) => void) | undefined;
  private readonly lockCount: number;
  private readonly stitch = new Uint8Array(TS_PACKET_SIZE);
  private readonly carry: Uint8Array;
  private carryLen = 0;
  /** The chunk being pushed; virtual stream = carry[0, carryLen) ++ cur. */
  private cur: Uint8Array = EMPTY;
  /** Stream offset of virtual position 0. */
  private streamBase = 0;
  private locked = false;
  private inEpisode = false;

  constructor(opts: TsReaderOptions) {
    const lockCount = opts.lockCount ?? DEFAULT_SYNC_LOCK_COUNT;
    if (!Number.isInteger(lockCount) || lockCount < 2 || lockCount > 64) {
      throw new RangeError(`lockCount must be an integer in 2..64, got ${lockCount}`);
    }
    this.lockCount = lockCount;
    this.carry = new Uint8Array(lockCount * TS_PACKET_SIZE);
    this.onSyncLoss = opts.onSyncLoss;
    if (opts.onPackets) {
      this.onRun = opts.onPackets;
    } else if (opts.onPacket) {
      const one = opts.onPacket;
      this.onRun = (buf, start, count) => {
        for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) one(buf, o);
      };
    } else {
      this.onRun = () => {};
    }
  }

  /** True while locked on packet boundaries. */
  get isLocked(): boolean {
    return this.locked;
  }

  /** Bytes held back waiting for the next chunk (partial packet or undecided candidate). */
  get pendingBytes(): number {
    return this.carryLen;
  }

  push(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    this.cur = chunk;
    const cl = this.carryLen;
    const total = cl + chunk.length;
    let pos = 0;
    for (;;) {
      if (this.locked) {
        if (pos >= cl) {
          // Fast path: aligned packets inside the chunk, emitted in runs.
          const n = chunk.length;
          let i = pos - cl;
          while (i + TS_PACKET_SIZE <= n && chunk[i] === SYNC_BYTE) {
            let j = i + TS_PACKET_SIZE;
            while (j + TS_PACKET_SIZE <= n && chunk[j] === SYNC_BYTE) j += TS_PACKET_SIZE;
            this.emit(chunk, i, (j - i) / TS_PACKET_SIZE);
            i = j;
          }
          pos = i + cl;
          if (i + TS_PACKET_SIZE <= n) {
            this.locked = false;
            continue;
          }
          break;
        }
        if (total - pos < TS_PACKET_SIZE) break;
        if (this.at(pos) !== SYNC_BYTE) {
          this.locked = false;
          continue;
        }
        if (pos + TS_PACKET_SIZE <= cl) {
          this.emit(this.carry, pos, 1);
        } else {
          const head = cl - pos;
          for (let k = 0; k < head; k++) this.stitch[k] = this.carry[pos + k];
          for (let k = head; k < TS_PACKET_SIZE; k++) this.stitch[k] = chunk[k - head];
          this.emit(this.stitch, 0, 1);
        }
        pos += TS_PACKET_SIZE;
      } else {
        pos = this.search(pos, total, false);
        if (!this.locked) break;
      }
    }
    this.keep(pos, total);
  }

  /**
   * End of stream: decides pending candidates with the relaxed end rule, emits what is
   * complete and counts a final partial packet as truncated. The reader can be reused
   * afterwards (it starts unlocked); counters keep accumulating.
   */
  end(): void {
    const total = this.carryLen;
    this.cur = EMPTY;
    let pos = 0;
    while (pos < total) {
      if (this.locked) {
        if (total - pos < TS_PACKET_SIZE) break;
        if (this.carry[pos] !== SYNC_BYTE) {
          this.locked = false;
          continue;
        }
        this.emit(this.carry, pos, 1);
        pos += TS_PACKET_SIZE;
      } else {
        pos = this.search(pos, total, true);
      }
    }
    if (pos < total) {
      this.stats.truncatedPackets++;
      this.stats.truncatedBytes += total - pos;
    }
    this.streamBase += total;
    this.carryLen = 0;
    this.locked = false;
    this.inEpisode = false;
  }

  /** Same as end(). */
  flush(): void {
    this.end();
  }

  private at(v: number): number {
    return v < this.carryLen ? this.carry[v] : this.cur[v - this.carryLen];
  }

  private emit(buf: Uint8Array, start: number, count: number): void {
    const s = this.stats;
    s.packets += count;
    for (let i = 0, o = start + 1; i < count; i++, o += TS_PACKET_SIZE) {
      if ((buf[o] & 0x80) !== 0) s.transportErrors++;
    }
    this.onRun(buf, start, count);
  }

  private skip(pos: number, n: number): void {
    this.stats.bytesSkipped += n;
    if (!this.inEpisode) {
      this.inEpisode = true;
      this.stats.resyncs++;
      this.onSyncLoss?.(this.streamBase + pos);
    }
  }

  /**
   * Searches for a lock from `pos`. Returns the position of the accepted packet start
   * (locked = true), of an undecided candidate (needs more bytes), or `total`.
   */
  private search(pos: number, total: number, final: boolean): number {
    const cl = this.carryLen;
    const span = (this.lockCount - 1) * TS_PACKET_SIZE;
    while (pos < total) {
      let p = pos;
      while (p < cl && this.carry[p] !== SYNC_BYTE) p++;
      if (p >= cl) {
        const j = this.cur.indexOf(SYNC_BYTE, p - cl);
        p = j < 0 ? total : j + cl;
      }
      if (p > pos) {
        this.skip(pos, p - pos);
        pos = p;
      }
      if (pos >= total) break;
      if (!final && pos + span >= total) return pos;
      let ok = true;
      for (let q = pos + TS_PACKET_SIZE; q <= pos + span && q < total; q += TS_PACKET_SIZE) {
        if (this.at(q) !== SYNC_BYTE) {
          ok = false;
          break;
        }
      }
      if (ok) {
        this.locked = true;
        this.inEpisode = false;
        return pos;
      }
      this.skip(pos, 1);
      pos++;
    }
    return pos;
  }

  /** Keeps virtual bytes [pos, total) in the carry buffer for the next push. */
  private keep(pos: number, total: number): void {
    const cl = this.carryLen;
    const chunk = this.cur;
    if (pos < cl) {
      this.carry.copyWithin(0, pos, cl);
      this.carry.set(chunk, cl - pos);
    } else if (pos < total) {
      this.carry.set(chunk.subarray(pos - cl), 0);
    }
    this.carryLen = total - pos;
    this.streamBase += pos;
    this.cur = EMPTY;
  }
}
