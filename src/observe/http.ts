/**
 * The daemon's HTTP server (node:http only), on 127.0.0.1:9780 unless `--http HOST:PORT`:
 *
 *   GET  /metrics                          Prometheus exposition (metrics.ts)
 *   GET  /healthz                          process alive and its event loop responsive
 *   GET  /readyz                           every enabled channel puts out packets to working
 *                                          outputs, store writes work, the watched directories
 *                                          have free space (readiness.ts)
 *   GET  /api/v1/channels                  channels and their state
 *   GET  /api/v1/channels/:id              one channel: state, current item, last/next cue
 *   POST /api/v1/channels/:id/cues         {"durationSeconds": 120, "at"?: ISO time | "now"}
 *                                          → 201 {"channel", "spliceEventId", "at"}
 *   POST /api/v1/channels/:id/restart      {"reason"?: string} or no body → 202
 *   GET  /hls/:channel/index.m3u8, master.m3u8, seg<N>.ts   live HLS files, no token (http-hls.ts)
 *
 * Everything is callback-driven (`health`, `api`): the daemon decides what a channel is.
 *
 * Mutating calls (POST): in this order —
 * 1. a declared Content-Length over `bodyLimitBytes` (64 KiB) → 413, before any auth or read;
 * 2. `Authorization: Bearer TOKEN` must match a token of the token file → else 401 (failed
 *    attempts are rate-limited per peer address too, → 429);
 * 3. rate limit per client (token name): token bucket, `burst` then `perMinute` → 429 with
 *    Retry-After;
 * 4. the body is read up to the limit (chunked bodies too) → 413; JSON only (415), parsed
 *    (400 ONAIR_HTTP_BAD_JSON) and validated with zod (400 ONAIR_API_INVALID_BODY); a cue's
 *    duration and time are checked by schedule/cue-limits.ts (400 ONAIR_CUE_BAD_DURATION,
 *    ONAIR_CUE_IN_PAST, ONAIR_CUE_BEYOND_HORIZON);
 * 5. the callback: undefined/false → 404 ONAIR_CHANNEL_NOT_FOUND; an OnairError → 409 with its
 *    code; anything else thrown → 500 ONAIR_INTERNAL (logged, no detail to the client).
 * Every POST, whatever its outcome, goes to the audit sink (who, what, when, result); the audit
 * log sums refusals (401/429) up per peer and minute.
 *
 * /healthz: 503 when the event loop was recently late by more than `eventLoop.maxLagMs` (a timer
 * probe; a fully blocked loop does not answer at all, which the prober sees as a timeout).
 *
 * Connections: a total cap, idle, header and request timeouts (http-limits.ts).
 *
 * The parts: the routing table and its route groups (http-router.ts), the read-only routes
 * (http-read.ts), the control routes (http-control.ts), limits and auth (http-auth.ts), answers
 * and error codes (http-respond.ts); here the options, the callbacks' types and the server's
 * life (listen, close).
 *
 * Errors are `{"error": {"code": "ONAIR_…", "message": "…"}}` with stable codes (HTTP_ERROR_CODES).
 *
 * Token file (`--api-token-file`, else ONAIR_API_TOKEN_FILE, else /etc/onair/api.token): one
 * token a line, `name:token` or a bare token (named "default"); blank lines and `#` comments
 * are skipped; tokens shorter than 16 characters are ignored (logged). Read at start and by
 * `reloadTokens()` (the daemon calls it on SIGHUP: daemon.ts owns the signals); a missing file
 * means no token, so every mutating call is refused. Tokens are compared by SHA-256 digest
 * with `timingSafeEqual`, over all entries, without early exit.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { systemClock, type Clock } from "../core/clock.js";
import { OnairError } from "../core/errors.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import type { AuditSink } from "./audit.js";
import { DEFAULT_BODY_LIMIT_BYTES, Gate, RateLimiter, TokenFile, type RateLimitOptions, type SessionAuth } from "./http-auth.js";
import { controlRoutes } from "./http-control.js";
import { CONNECTIONS_CHECKING_INTERVAL_MS, limitConnections, type ConnectionLimits } from "./http-limits.js";
import { hlsRoutes, type HlsLookup } from "./http-hls.js";
import { LoopProbe, readRoutes } from "./http-read.js";
import { sendError, toHttpError } from "./http-respond.js";
import { route, type RouteGroup } from "./http-router.js";
import type { OnairMetrics } from "./metrics.js";
import type { HealthChecks, ReadyDirectory } from "./readiness.js";

export type { CheckResult, HealthChecks, ReadyDirectory } from "./readiness.js";
export {
  DEFAULT_API_TOKEN_FILE,
  DEFAULT_BODY_LIMIT_BYTES,
  MIN_TOKEN_LENGTH,
  matchToken,
  parseTokenFile,
  RateLimiter,
  resolveApiTokenFile,
  type ApiToken,
  type RateLimitOptions,
} from "./http-auth.js";
export { HTTP_ERROR_CODES } from "./http-respond.js";
export type { RouteContext, RouteGroup } from "./http-router.js";

export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 9780;

/** Parses `--http HOST:PORT` (`[::1]:9780` for IPv6; `:PORT` or a bare port keeps the default host). */
export function parseHttpAddress(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s.trim()) ?? /^()()(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OnairError("ONAIR_HTTP_BAD_ADDRESS", `--http wants HOST:PORT (port 0 picks a free one), got "${s}"`, { value: s });
  }
  const host = m[1] || m[2] || DEFAULT_HTTP_HOST;
  return { host, port };
}

// --- the callbacks ---------------------------------------------------------------------------

type MaybePromise<T> = T | Promise<T>;

export interface CueView {
  spliceEventId: number;
  command: string;
  /** Splice time, ISO 8601. */
  at: string;
  durationSeconds: number | null;
}

export interface ItemView {
  title: string;
  /** ISO 8601. */
  start: string;
  end: string | null;
  [k: string]: unknown;
}

export interface ChannelView {
  id: string;
  enabled: boolean;
  /** Supervisor state or the daemon's: starting, running, backoff, slate, stopped… */
  state: string;
  up: boolean;
  slateActive: boolean;
  currentItem: ItemView | null;
  lastCue: CueView | null;
  nextCue: CueView | null;
  [k: string]: unknown;
}

export interface CueRequest {
  /** Splice time; undefined = as soon as possible. */
  at?: Date;
  durationSeconds: number;
}

export interface ControlApi {
  listChannels(): MaybePromise<ChannelView[]>;
  /** The profiles refused at start or at the last reload (GET /api/v1/channels's `refused`). */
  refused?(): readonly { file: string; code: string; message: string }[];
  /** undefined → 404 */
  channel(id: string): MaybePromise<ChannelView | undefined>;
  /** Plans a break; undefined → 404 (unknown channel). Throw an OnairError to refuse (→ 409). */
  addCue(id: string, req: CueRequest, who: string): MaybePromise<{ spliceEventId: number } | undefined>;
  /**
   * Ends a cue on air early; undefined → 404 (unknown channel). Throws ONAIR_CUE_UNKNOWN (→ 404)
   * or another OnairError (→ 409) to refuse.
   */
  returnCue(id: string, spliceEventId: number, who: string): MaybePromise<{ returnPts: number } | undefined>;
  /** Cancels a pending cue; false → 404 (unknown channel). Throws like `returnCue`. */
  cancelCue(id: string, spliceEventId: number, who: string): MaybePromise<boolean>;
  /** Restarts the channel's pipeline; false → 404. */
  restart(id: string, who: string, reason?: string): MaybePromise<boolean>;
}

export interface HttpServerOptions {
  host?: string;
  port?: number;
  metrics: OnairMetrics;
  health: HealthChecks;
  api: ControlApi;
  tokenFile: string;
  auditLog: AuditSink;
  logger?: Logger;
  rateLimit?: Partial<RateLimitOptions>;
  /** Largest accepted request body (default 64 KiB). */
  bodyLimitBytes?: number;
  /** Directories checked by /readyz (data, recordings). */
  directories?: readonly ReadyDirectory[];
  eventLoop?: {
    /** /healthz fails when the event loop lagged more than this recently (default 1000 ms). */
    maxLagMs?: number;
    /** Replaces the built-in probe: the recent lag in ms. */
    probe?: () => number;
  };
  /** The connection cap (default 256; never over half the open-files limit) and timeouts: http-limits.ts. */
  connections?: ConnectionLimits;
  /** Every token read is added here, so the logger redacts it wherever it would appear. */
  secrets?: { add(secret: string): void };
  clock?: Clock;
  /** the event-loop probe's timer (default unref'd Node timers) */
  timers?: Timers | undefined;
  /** GET /hls/<channel>/…: a channel's live HLS folder (http-hls.ts); none → 404 */
  hls?: HlsLookup | undefined;
  /** The operator console (src/console/): its sessions, public URL and route groups; none → no console. */
  console?: ConsoleHttp | undefined;
}

/** What the console adds to the server: sessions the gate accepts, and its routes. */
export interface ConsoleHttp {
  sessions: SessionAuth & { revokeMissing(tokenDigests: ReadonlySet<string>): number };
  /** `console.publicUrl`: the only Origin accepted for actions when set; https makes the cookie Secure */
  publicUrl?: string | undefined;
  /** The console's route groups, asked after the API's; `gate` admits their actions like the control API's. */
  routes(deps: ConsoleRouteDeps): RouteGroup[];
}

export interface ConsoleRouteDeps {
  gate: Gate;
  auditLog: AuditSink;
  clock: Clock;
  logger?: Logger | undefined;
}

export interface HttpServerHandle {
  /** The URL actually bound, e.g. http://127.0.0.1:9780 */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Re-reads the token file. */
  reloadTokens(): { ok: boolean; tokens: number; error?: string };
  close(): Promise<void>;
}

/** Listens on host:port; a failure is ONAIR_HTTP_LISTEN_FAILED. */
async function listen(server: Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnairError(
      "ONAIR_HTTP_LISTEN_FAILED",
      `cannot listen on ${host}:${port}: ${code ?? String(e)}`,
      { host, port, code },
      { cause: e },
    );
  });
}

/** The route groups, in the order they are asked: read-only, then control (add new groups here). */
function routeGroups(opts: HttpServerOptions, clock: Clock, gate: Gate, lagMs: () => number): RouteGroup[] {
  const maxLagMs = opts.eventLoop?.maxLagMs ?? 1000;
  const log = opts.logger;
  return [
    readRoutes({ metrics: opts.metrics, health: opts.health, directories: opts.directories, api: opts.api, clock, lagMs, maxLagMs }),
    controlRoutes({ api: opts.api, gate, auditLog: opts.auditLog, clock, logger: log }),
    hlsRoutes(opts.hls),
    ...(opts.console?.routes({ gate, auditLog: opts.auditLog, clock, logger: log }) ?? []),
  ];
}

/** Starts the server; resolves once it listens (logs `event: "http_listening"` with the URL). */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const host = opts.host ?? DEFAULT_HTTP_HOST;
  const port = opts.port ?? DEFAULT_HTTP_PORT;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const tokens = new TokenFile(opts.tokenFile, log, opts.secrets);
  tokens.reload();
  const probe = new LoopProbe(opts.timers ?? backgroundTimers);
  const limiter = new RateLimiter({ burst: opts.rateLimit?.burst ?? 10, perMinute: opts.rateLimit?.perMinute ?? 60 }, clock);
  const gateConsole = opts.console ? { sessions: opts.console.sessions, publicUrl: opts.console.publicUrl } : undefined;
  const gate = new Gate(tokens, limiter, opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, gateConsole);
  const groups = routeGroups(opts, clock, gate, opts.eventLoop?.probe ?? (() => probe.lagMs()));

  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, (req, res) => {
    const t0 = performance.now();
    const seen = { template: "other" };
    res.once("finish", () =>
      opts.metrics.ops.observeHttp(req.method ?? "GET", seen.template, res.statusCode, (performance.now() - t0) / 1000),
    );
    route(groups, req, res, seen).catch((e: unknown) => {
      const he = toHttpError(e);
      if (he.status >= 500) log?.error({ event: "http_error", url: req.url, err: e });
      if (!res.headersSent) sendError(res, he);
      else res.destroy();
    });
  });
  const maxConnections = limitConnections(server, { ...opts.connections, logger: log });
  await listen(server, host, port).catch((e: unknown) => {
    probe.stop();
    throw e;
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log?.info({ event: "http_listening", url, maxConnections }, `HTTP on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    server,
    reloadTokens: () => {
      const r = tokens.reload();
      // a token gone from the file ends its console sessions
      const ended = opts.console?.sessions.revokeMissing(gate.tokenDigests()) ?? 0;
      if (ended > 0) log?.info({ event: "console_sessions_revoked", sessions: ended });
      return r;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        probe.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
