/**
 * The console's event stream, GET /api/v1/stream (Server-Sent Events, docs/api.md):
 *
 * - On connect: `retry: 2000`, then one `channels` event (`snapshot()`: the list as
 *   GET /api/v1/channels gives it). Then whatever `send(event, data)` is handed, framed once
 *   and written to every open stream: `event: NAME`, `data: JSON` (one line), a blank line.
 * - A `: hb` comment every `heartbeatMs` (5 s) keeps each stream under the server's 10 s idle
 *   timeout (observe/http-limits.ts); the timer runs only while a stream is open.
 * - At most `maxStreams` open at once; one more is refused with 503 ONAIR_STREAM_LIMIT and
 *   `Retry-After` before anything is written.
 * - A client that does not read is dropped, not buffered for: once a stream's unsent bytes
 *   pass `maxBufferedBytes` (1 MiB) its connection is destroyed.
 * - `onDemand(true)` when the first stream opens, `onDemand(false)` when the last one ends
 *   (thumbnails and the feed's tick run only while someone watches).
 * - Streams are never ended with `res.end()`: a client leaving, a dropped client and `close()`
 *   destroy the connection (so the request metric never observes a stream's lifetime); the
 *   HTTP server's close (closeAllConnections) ends them too, and each stream's `close` removes
 *   it. `close()` (the daemon's shutdown) destroys what is left and stops the heartbeat.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { backgroundTimers, type Timers } from "../core/timers.js";
import { HttpError } from "../observe/http-respond.js";

export const STREAM_RETRY_MS = 2000;
export const HEARTBEAT_MS = 5000;
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Seconds a refused client is told to wait (its EventSource retries on its own anyway). */
const LIMIT_RETRY_AFTER_SECONDS = 10;

export const STREAM_ERROR_CODES = { limit: "ONAIR_STREAM_LIMIT" } as const;

/** One SSE message: `event:` and `data:` lines and the blank line; `data` is JSON on one line. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const HEARTBEAT_FRAME = ": hb\n\n";

export interface StreamHubOptions {
  /** streams open at once (`console.maxStreams`) */
  maxStreams: number;
  /** the data of the `channels` event sent on connect */
  snapshot: () => unknown;
  /** first stream opened (true), last one ended (false) */
  onDemand?: (on: boolean) => void;
  /** the heartbeat timer (default: unref'd Node timers) */
  timers?: Timers | undefined;
  heartbeatMs?: number;
  maxBufferedBytes?: number;
  logger?: Logger | undefined;
}

export class StreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly timers: Timers;
  private heartbeat: unknown;
  private demand = false;
  private closed = false;
  /** streams dropped for not reading */
  dropped = 0;

  constructor(private readonly o: StreamHubOptions) {
    this.timers = o.timers ?? backgroundTimers;
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Opens a stream on `res` (throws the 503 at the cap). */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed || this.clients.size >= this.o.maxStreams) {
      throw new HttpError(
        503,
        STREAM_ERROR_CODES.limit,
        `at most ${this.o.maxStreams} event streams at once (console.maxStreams); close another console page`,
        { maxStreams: this.o.maxStreams, retryAfterSeconds: LIMIT_RETRY_AFTER_SECONDS },
        { "retry-after": String(LIMIT_RETRY_AFTER_SECONDS) },
      );
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    this.clients.add(res);
    res.once("close", () => this.remove(res));
    this.write(res, `retry: ${STREAM_RETRY_MS}\n\n${sseFrame("channels", this.o.snapshot())}`);
    if (this.clients.size > 0 && !this.demand) this.started();
  }

  /** Sends one event to every open stream. */
  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = sseFrame(event, data);
    for (const res of this.clients) this.write(res, frame);
  }

  /** Ends every stream and stops the heartbeat; later connections are refused. */
  close(): void {
    this.closed = true;
    for (const res of [...this.clients]) this.drop(res);
    this.stopHeartbeat();
  }

  private write(res: ServerResponse, text: string): void {
    if (!this.clients.has(res)) return;
    if (res.destroyed || !res.writable) {
      this.remove(res);
      return;
    }
    res.write(text);
    const max = this.o.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    if (res.writableLength > max) {
      this.dropped++;
      this.o.logger?.warn(
        { event: "console_stream_dropped", remote: res.socket?.remoteAddress, bufferedBytes: res.writableLength },
        "a console stream did not read its events: dropped",
      );
      this.drop(res);
    }
  }

  private drop(res: ServerResponse): void {
    this.remove(res);
    res.destroy();
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res) || this.clients.size > 0 || !this.demand) return;
    this.demand = false;
    this.stopHeartbeat();
    this.o.onDemand?.(false);
  }

  /** The first stream is open: the heartbeat starts, demand is on. */
  private started(): void {
    this.demand = true;
    this.heartbeat = this.timers.setInterval(() => {
      for (const res of this.clients) this.write(res, HEARTBEAT_FRAME);
    }, this.o.heartbeatMs ?? HEARTBEAT_MS);
    this.o.onDemand?.(true);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return;
    this.timers.clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
