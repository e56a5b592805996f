/**
 * Limits on the HTTP server's connections. Anyone on the box may connect without a token,
 * so connections must never take the file descriptors playout needs (FFmpeg pipes,
 * outputs, the store):
 *
 * - At most `maxConnections` open at once (global config `http.maxConnections`, default
 *   256), and never more than half of the process's open-files soft limit, so the other
 *   half stays for playout whatever the limit (`ulimit -n`, the units' LimitNOFILE). A
 *   connection beyond the cap is accepted and closed at once, before any byte: the client
 *   sees its connection reset (curl: "Recv failure: Connection reset by peer"; fetch:
 *   "other side closed" / ECONNRESET). Logged at most every 10 s (`http_connections_capped`,
 *   with the count dropped meanwhile).
 * - A connection with no byte in either direction for `IDLE_TIMEOUT_MS` (10 s) is closed:
 *   one that never sends anything (Node's headersTimeout only starts at a request's first
 *   byte, measured on Node 20), one stalled mid-request or mid-response. Long-lived
 *   streams (Server-Sent Events) keep themselves open by writing heartbeats.
 * - Between requests a keep-alive connection is closed after 5 s (keepAliveTimeout).
 * - Request headers must be complete within 10 s of the request's first byte, the whole
 *   request within 30 s (408); Node checks these every second (its default, 30 s, would let
 *   a slow sender hold a connection 40 s).
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Logger } from "pino";

export const DEFAULT_MAX_CONNECTIONS = 256;
export const IDLE_TIMEOUT_MS = 10_000;
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** For `createServer({ connectionsCheckingInterval })`: how often Node checks the request timeouts. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
const CAPPED_LOG_EVERY_MS = 10_000;

/** The soft "Max open files" of /proc/self/limits (or of `text`), or undefined (unlimited, unreadable). */
export function openFilesSoftLimit(text?: string): number | undefined {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(t);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}

/** The configured cap, lowered to half the open-files limit (at least 1). */
export function effectiveMaxConnections(configured: number, openFilesLimit: number | undefined): number {
  if (openFilesLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, Math.floor(openFilesLimit / 2)));
}

export interface ConnectionLimits {
  /** The configured cap (before the open-files limit lowers it). */
  maxConnections?: number;
  /** Overrides /proc/self/limits (tests). */
  openFilesLimit?: number;
  /** Overrides IDLE_TIMEOUT_MS (tests). */
  idleTimeoutMs?: number;
  logger?: Logger;
}

/** Applies the limits to `server` (created with CONNECTIONS_CHECKING_INTERVAL_MS); returns the cap in force. */
export function limitConnections(server: Server, o: ConnectionLimits = {}): number {
  const configured = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const nofile = o.openFilesLimit ?? openFilesSoftLimit();
  const max = effectiveMaxConnections(configured, nofile);
  server.maxConnections = max;
  server.timeout = o.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  if (max < configured) {
    const fields = { event: "http_connections_lowered", maxConnections: max, configured, openFilesLimit: nofile };
    o.logger?.warn(fields, `HTTP connections capped at ${max}: half the open-files limit`);
  }
  let dropped = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  server.on("drop", () => {
    dropped++;
    const now = performance.now();
    if (now - loggedAt < CAPPED_LOG_EVERY_MS) return;
    loggedAt = now;
    o.logger?.warn(
      { event: "http_connections_capped", maxConnections: max, dropped },
      `HTTP connection cap (${max}) reached: new connections are closed`,
    );
    dropped = 0;
  });
  return max;
}
