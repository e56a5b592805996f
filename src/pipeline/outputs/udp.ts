/**
 * MPEG-TS over UDP, unicast or multicast: datagrams of N whole packets (7 × 188 = 1316 bytes
 * by default), stitched across chunk boundaries.
 *
 * Packet sync follows the one rule of the TS reader (src/ts/reader.ts): a packet start is
 * taken once 0x47 is found at 5 spacings of 188 bytes in a row, a start that is not 0x47
 * drops the lock, and what is skipped to lock again is counted in `resyncBytes`. Until the
 * first lock (the first 4 × 188 + 1 bytes) and across a resync, packets wait in the reader;
 * close() hands on what the reader still holds (its end-of-stream rule), then the partly
 * filled datagram.
 */
import { createSocket, type Socket } from "node:dgram";
import { lookup as dnsLookup } from "node:dns/promises";
import type { Logger } from "pino";
import { Backoff } from "../../core/backoff.js";
import { realTimers, type Timers } from "../../core/timers.js";
import { TsReader } from "../../ts/reader.js";
import { Output, TS_PACKET, type OutputConfig, type OutputContext } from "./types.js";

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

/** How long close() waits for datagrams handed to the socket to go out. */
const CLOSE_DRAIN_MS = 500;
/** Datagram buffers kept for reuse. */
const SPARE_DATAGRAMS = 64;

function isMulticast(address: string): boolean {
  if (address.includes(":")) return /^ff/i.test(address);
  const first = Number(address.split(".")[0]);
  return first >= 224 && first <= 239;
}

/** Binds a socket for `family` to an ephemeral port. */
async function bindSocket(family: number, onError: (e: Error) => void): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
  socket.on("error", onError);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return socket;
}

/** MPEG-TS over UDP (see the module comment). */
export class UdpOutput extends Output {
  private readonly opts: Required<Pick<UdpOutputOptions, "host" | "port" | "ttl" | "packetsPerDatagram" | "maxQueueBytes">> &
    UdpOutputOptions;
  private readonly datagramSize: number;
  private readonly timers: Timers;
  private readonly retry: Backoff;
  private socket: Socket | undefined;
  private address: string | undefined;
  private ready = false;
  private closed = false;
  private retryTimer: unknown;
  private inflight = 0;
  /** Finds packet sync and stitches packets across chunks; hands on runs of whole packets. */
  private readonly reader: TsReader;
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
    this.reader = new TsReader({ onPackets: (buf, start, count) => this.addPackets(buf, start, count) });
  }

  async open(): Promise<void> {
    if (this.closed || this.ready) return;
    try {
      const { address, family } = await dnsLookup(this.opts.host);
      if (this.closed) return;
      const socket = await bindSocket(family, (e) => this.fail(e));
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
    this.reader.push(chunk);
    this.stats.resyncBytes = this.reader.stats.bytesSkipped;
  }

  /** Copies `count` packets at `buf[start…]` into datagrams, sending each one filled. */
  private addPackets(buf: Uint8Array, start: number, count: number): void {
    let off = start;
    const end = start + count * TS_PACKET;
    while (off < end) {
      const dg = (this.dg ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(this.datagramSize));
      const n = Math.min(end - off, this.datagramSize - this.dgLen);
      dg.set(buf.subarray(off, off + n), this.dgLen);
      this.dgLen += n;
      off += n;
      if (this.dgLen === this.datagramSize) {
        this.dg = undefined;
        this.dgLen = 0;
        this.send(dg);
      }
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
    if (this.spare.length < SPARE_DATAGRAMS) this.spare.push(dg);
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
    // what the reader still holds (packets awaiting a lock) goes out with the last datagram
    this.reader.end();
    this.stats.resyncBytes = this.reader.stats.bytesSkipped;
    this.flush();
    this.closed = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    const s = this.socket;
    // what was handed to the socket goes out before it closes (a send still resolving its
    // address would be dropped silently), within a bound
    if (s && this.lent.length > 0) {
      await new Promise<void>((r) => {
        const bound = this.timers.setTimeout(r, CLOSE_DRAIN_MS);
        this.drained = () => {
          this.timers.clearTimeout(bound);
          r();
        };
      });
      this.drained = undefined;
    }
    this.socket = undefined;
    this.ready = false;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** The UDP output of a profile's `kind: udp` entry. */
export function udpFromConfig(o: OutputConfig<"udp">, ctx: OutputContext): UdpOutput {
  const { host, port, ttl, interface: iface, packetsPerDatagram } = o;
  return new UdpOutput({ host, port, ttl, interface: iface, packetsPerDatagram, name: `udp://${host}:${port}`, logger: ctx.logger });
}
