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
 * Errors are `{"error": {"code": "ONAIR_…", "message": "…"}}` with stable codes (HTTP_ERROR_CODES).
 *
 * Token file (`--api-token-file`, else ONAIR_API_TOKEN_FILE, else /etc/onair/api.token): one
 * token a line, `name:token` or a bare token (named "default"); blank lines and `#` comments
 * are skipped; tokens shorter than 16 characters are ignored (logged). Read at start and by
 * `reloadTokens()` (the daemon calls it on SIGHUP: daemon.ts owns the signals); a missing file
 * means no token, so every mutating call is refused. Tokens are compared by SHA-256 digest
 * with `timingSafeEqual`, over all entries, without early exit.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import * as z from "zod";
import { systemClock, type Clock } from "../core/clock.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import { OnairError, isOnairError } from "../core/errors.js";
import { checkCueDuration, checkCueTime } from "../schedule/cue-limits.js";
import { whoToken, type AuditInput, type AuditSink } from "./audit.js";
import { isRefusal } from "./audit-refusals.js";
import type { OnairMetrics } from "./metrics.js";
import { routeTemplate } from "./ops-metrics.js";
import { readiness, type HealthChecks, type ReadyDirectory } from "./readiness.js";

export type { CheckResult, HealthChecks, ReadyDirectory } from "./readiness.js";
import { CONNECTIONS_CHECKING_INTERVAL_MS, limitConnections, type ConnectionLimits } from "./http-limits.js";

export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 9780;
export const DEFAULT_API_TOKEN_FILE = "/etc/onair/api.token";
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
export const MIN_TOKEN_LENGTH = 16;

/** Stable error codes of the HTTP API. */
export const HTTP_ERROR_CODES = {
  notFound: "ONAIR_HTTP_NOT_FOUND",
  methodNotAllowed: "ONAIR_HTTP_METHOD_NOT_ALLOWED",
  unauthorized: "ONAIR_API_UNAUTHORIZED",
  rateLimited: "ONAIR_API_RATE_LIMITED",
  bodyTooLarge: "ONAIR_HTTP_BODY_TOO_LARGE",
  unsupportedMediaType: "ONAIR_HTTP_UNSUPPORTED_MEDIA_TYPE",
  badJson: "ONAIR_HTTP_BAD_JSON",
  invalidBody: "ONAIR_API_INVALID_BODY",
  channelNotFound: "ONAIR_CHANNEL_NOT_FOUND",
  internal: "ONAIR_INTERNAL",
} as const;

// --- address and token file ----------------------------------------------------------------

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

/** The token file: the flag, else ONAIR_API_TOKEN_FILE, else /etc/onair/api.token. */
export function resolveApiTokenFile(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.ONAIR_API_TOKEN_FILE || DEFAULT_API_TOKEN_FILE;
}

export interface ApiToken {
  name: string;
  digest: Buffer;
}

const TOKEN_NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

const digestOf = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Parses token file text; `ignored` holds line numbers of lines that were not used (too short). */
export function parseTokenFile(text: string, onSecret?: (token: string) => void): { tokens: ApiToken[]; ignored: number[] } {
  const tokens: ApiToken[] = [];
  const ignored: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    const named = colon > 0 && TOKEN_NAME_RE.test(line.slice(0, colon));
    const name = named ? line.slice(0, colon) : "default";
    const token = named ? line.slice(colon + 1).trim() : line;
    if (token.length < MIN_TOKEN_LENGTH) {
      ignored.push(i + 1);
      return;
    }
    onSecret?.(token);
    tokens.push({ name, digest: digestOf(token) });
  });
  return { tokens, ignored };
}

/** Token name of a presented bearer token, or undefined; constant time over all tokens. */
export function matchToken(tokens: readonly ApiToken[], presented: string): string | undefined {
  const d = digestOf(presented);
  let found: string | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(t.digest, d) && found === undefined) found = t.name;
  }
  return found;
}

// --- rate limiting -------------------------------------------------------------------------

export interface RateLimitOptions {
  /** Calls allowed at once (bucket size). Default 10. */
  burst: number;
  /** Refill rate. Default 60 a minute. */
  perMinute: number;
}

/** Token buckets per client key. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Takes one call from `key`'s bucket: 0 when allowed, else seconds until one is available. */
  take(key: string): number {
    const now = this.clock.monotonic();
    const rate = this.opts.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, atMs: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.atMs) * rate);
    b.atMs = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.prune(now, rate);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return rate > 0 ? Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)) : 3600;
  }

  private prune(now: number, rate: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.atMs) * rate >= this.opts.burst) this.buckets.delete(k);
  }
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
  /** undefined → 404 */
  channel(id: string): MaybePromise<ChannelView | undefined>;
  /** Plans a break; undefined → 404 (unknown channel). Throw an OnairError to refuse (→ 409). */
  addCue(id: string, req: CueRequest, who: string): MaybePromise<{ spliceEventId: number } | undefined>;
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

// --- bodies ----------------------------------------------------------------------------------

const CueBodySchema = z.strictObject({
  at: z.union([z.iso.datetime({ offset: true }), z.literal("now")]).optional(),
  // its range is checked by checkCueDuration, with its own code (ONAIR_CUE_BAD_DURATION)
  durationSeconds: z.number(),
});

const RestartBodySchema = z.strictObject({
  reason: z.string().max(200).optional(),
});

const CHANNEL_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: HttpError): void {
  send(res, e.status, { error: { code: e.code, message: e.message, ...e.extra } }, e.headers);
}

/** 413; the connection is closed after it, so the unread rest of the body is not waited for. */
function tooLarge(limit: number): HttpError {
  return new HttpError(413, HTTP_ERROR_CODES.bodyTooLarge, `request body over ${limit} bytes`, { limitBytes: limit }, { connection: "close" });
}

/** Reads the body up to `limit` bytes; throws 413 past it (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

// --- the server ------------------------------------------------------------------------------

/** Starts the server; resolves once it listens (logs `event: "http_listening"` with the URL). */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const host = opts.host ?? DEFAULT_HTTP_HOST;
  const port = opts.port ?? DEFAULT_HTTP_PORT;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const limiter = new RateLimiter({ burst: opts.rateLimit?.burst ?? 10, perMinute: opts.rateLimit?.perMinute ?? 60 }, clock);
  const maxLagMs = opts.eventLoop?.maxLagMs ?? 1000;
  const startedMs = clock.monotonic();

  // --- tokens
  let tokens: ApiToken[] = [];
  const reloadTokens = (): { ok: boolean; tokens: number; error?: string } => {
    try {
      const st = statSync(opts.tokenFile);
      if ((st.mode & 0o077) !== 0) {
        log?.warn({ event: "api_token_file_permissions", path: opts.tokenFile, mode: (st.mode & 0o777).toString(8) }, "the API token file is readable by others; chmod 600 it");
      }
      const parsed = parseTokenFile(readFileSync(opts.tokenFile, "utf8"), (t) => opts.secrets?.add(t));
      if (parsed.ignored.length > 0) {
        log?.warn({ event: "api_token_ignored", path: opts.tokenFile, lines: parsed.ignored, minLength: MIN_TOKEN_LENGTH }, "API tokens shorter than the minimum were ignored");
      }
      tokens = parsed.tokens;
      log?.info({ event: "api_tokens_loaded", path: opts.tokenFile, tokens: tokens.length });
      return { ok: true, tokens: tokens.length };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        tokens = [];
        log?.warn({ event: "api_tokens_missing", path: opts.tokenFile }, "no API token file: mutating API calls are refused");
        return { ok: false, tokens: 0, error: "ENOENT" };
      }
      // unreadable: keep what we had rather than lock everyone out on a chmod mistake
      log?.error({ event: "api_tokens_unreadable", path: opts.tokenFile, err: e });
      return { ok: false, tokens: tokens.length, error: code ?? String(e) };
    }
  };
  reloadTokens();

  // --- event loop probe: a timer every 100 ms notes how late it fires; /healthz reports the
  // worst lateness of the current and the previous 5 s window, and a tick overdue right now
  const PROBE_MS = 100;
  const WINDOW_MS = 5000;
  let lastTick = performance.now();
  let windowStart = lastTick;
  let windowMax = 0;
  let previousMax = 0;
  const timers = opts.timers ?? backgroundTimers;
  const probeTimer = timers.setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - lastTick - PROBE_MS);
    lastTick = now;
    if (now - windowStart >= WINDOW_MS) {
      previousMax = windowMax;
      windowMax = 0;
      windowStart = now;
    }
    windowMax = Math.max(windowMax, late);
  }, PROBE_MS);
  const lagMs = opts.eventLoop?.probe ?? ((): number => Math.max(previousMax, windowMax, performance.now() - lastTick - PROBE_MS));

  // --- handlers
  function healthz(res: ServerResponse): void {
    const lag = lagMs();
    const ok = lag <= maxLagMs;
    send(res, ok ? 200 : 503, {
      status: ok ? "ok" : "unhealthy",
      eventLoopLagMs: Math.round(lag * 10) / 10,
      maxLagMs,
      uptimeSeconds: Math.round((clock.monotonic() - startedMs) / 1000),
    });
  }

  async function readyz(res: ServerResponse): Promise<void> {
    const r = await readiness(opts.health, opts.directories);
    send(res, r.status, r.body);
  }

  async function metricsRoute(res: ServerResponse): Promise<void> {
    const text = await opts.metrics.scrape();
    res.writeHead(200, { "content-type": opts.metrics.contentType, "content-length": String(Buffer.byteLength(text)), "cache-control": "no-store" });
    res.end(text);
  }

  interface Caller {
    who: string;
    remote: string;
  }

  /** Steps 1–4 of a mutating call; returns the caller and the parsed body. */
  async function admit(req: IncomingMessage, caller: Caller): Promise<unknown> {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > bodyLimit) {
      throw tooLarge(bodyLimit);
    }
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    const name = m ? matchToken(tokens, m[1]) : undefined;
    if (name === undefined) {
      const wait = limiter.take(`peer:${caller.remote}`);
      if (wait > 0) throw rateLimited(wait);
      throw new HttpError(401, HTTP_ERROR_CODES.unauthorized, m ? "invalid API token" : "missing bearer token", {}, { "www-authenticate": 'Bearer realm="onair"' });
    }
    caller.who = whoToken(name);
    const wait = limiter.take(`token:${name}`);
    if (wait > 0) throw rateLimited(wait);
    const body = await readBody(req, bodyLimit);
    if (body.length === 0) return undefined;
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      throw new HttpError(415, HTTP_ERROR_CODES.unsupportedMediaType, "send the body as application/json");
    }
    try {
      return JSON.parse(body.toString("utf8")) as unknown;
    } catch {
      throw new HttpError(400, HTTP_ERROR_CODES.badJson, "the body is not valid JSON");
    }
  }

  function rateLimited(waitSeconds: number): HttpError {
    return new HttpError(429, HTTP_ERROR_CODES.rateLimited, "too many requests; slow down", { retryAfterSeconds: waitSeconds }, { "retry-after": String(waitSeconds) });
  }

  function validate<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body);
    if (!r.success) {
      throw new HttpError(400, HTTP_ERROR_CODES.invalidBody, "the body does not match the schema", {
        issues: r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
      });
    }
    return r.data;
  }

  const notFoundChannel = (id: string): HttpError => new HttpError(404, HTTP_ERROR_CODES.channelNotFound, `no channel "${id}"`, { channel: id });

  async function mutate(
    req: IncomingMessage,
    res: ServerResponse,
    action: string,
    channel: string,
    run: (body: unknown, caller: Caller) => Promise<{ status: number; body: unknown; params?: Record<string, unknown> }>,
  ): Promise<void> {
    const caller: Caller = { who: "anonymous", remote: req.socket.remoteAddress ?? "unknown" };
    const entry: AuditInput = { who: caller.who, via: "http", action, channel, result: "error", remote: caller.remote };
    try {
      const body = await admit(req, caller);
      const out = await run(body, caller);
      send(res, out.status, out.body);
      Object.assign(entry, { result: "ok", status: out.status, ...(out.params ? { params: out.params } : {}) });
    } catch (e) {
      const he = toHttpError(e);
      sendError(res, he);
      const result: AuditInput["result"] =
        he.status === 401 ? "denied" : he.status === 429 ? "rate_limited" : he.status === 404 ? "not_found" : he.status >= 500 || he.status === 409 ? "error" : "invalid";
      Object.assign(entry, { result, status: he.status, detail: he.code });
      if (he.status >= 500) log?.error({ event: "api_error", action, channel, err: e });
    } finally {
      entry.who = caller.who;
      opts.auditLog.record(entry);
      // a refusal (401/403/429) is summed up once a minute by the audit log (api_refused): per call only at debug
      log?.[isRefusal(entry) ? "debug" : "info"]({ event: "api_call", action, channel, who: entry.who, result: entry.result, status: entry.status });
    }
  }

  function toHttpError(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (isOnairError(e)) return new HttpError(409, e.code, e.message);
    return new HttpError(500, HTTP_ERROR_CODES.internal, "internal error");
  }

  async function addCue(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    await mutate(req, res, "cue.add", id, async (raw, caller) => {
      const body = validate(CueBodySchema, raw);
      const at = body.at !== undefined && body.at !== "now" ? new Date(body.at) : undefined;
      try {
        checkCueDuration(body.durationSeconds);
        if (at) checkCueTime(at.getTime(), clock.now());
      } catch (e) {
        // ONAIR_CUE_BAD_DURATION, ONAIR_CUE_IN_PAST, ONAIR_CUE_BEYOND_HORIZON: the request, not a conflict
        if (isOnairError(e)) throw new HttpError(400, e.code, e.message);
        throw e;
      }
      const params = { durationSeconds: body.durationSeconds, at: at ? at.toISOString() : "now" };
      const r = await opts.api.addCue(id, { ...(at ? { at } : {}), durationSeconds: body.durationSeconds }, caller.who);
      if (!r) throw notFoundChannel(id);
      return { status: 201, body: { channel: id, spliceEventId: r.spliceEventId, at: at ? at.toISOString() : null }, params: { ...params, spliceEventId: r.spliceEventId } };
    });
  }

  async function restart(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    await mutate(req, res, "channel.restart", id, async (raw, caller) => {
      const body = validate(RestartBodySchema, raw ?? {});
      const ok = await opts.api.restart(id, caller.who, body.reason);
      if (!ok) throw notFoundChannel(id);
      return { status: 202, body: { channel: id, restarting: true }, params: body.reason ? { reason: body.reason } : {} };
    });
  }

  /** Dispatches on the request's route template (one table: ops-metrics.ts ROUTES), which it also hands to `seen` for the metric. */
  async function route(req: IncomingMessage, res: ServerResponse, seen: { template: string }): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    const template = routeTemplate(path);
    seen.template = template;
    const method = req.method ?? "GET";
    const only = (allowed: string): boolean => {
      if (method === allowed || (allowed === "GET" && method === "HEAD")) return true;
      throw new HttpError(405, HTTP_ERROR_CODES.methodNotAllowed, `use ${allowed}`, {}, { allow: allowed === "GET" ? "GET, HEAD" : allowed });
    };
    if (template === "/metrics" && only("GET")) return metricsRoute(res);
    if (template === "/healthz" && only("GET")) return healthz(res);
    if (template === "/readyz" && only("GET")) return readyz(res);
    if (template === "/api/v1/channels" && only("GET")) return send(res, 200, { channels: await opts.api.listChannels() });
    if (template.startsWith("/api/v1/channels/:id")) {
      const raw = path.split("/")[4];
      let id: string;
      try {
        id = decodeURIComponent(raw);
      } catch {
        throw notFoundChannel(raw);
      }
      if (!CHANNEL_ID_RE.test(id)) throw notFoundChannel(id);
      if (template === "/api/v1/channels/:id" && only("GET")) {
        const view = await opts.api.channel(id);
        if (!view) throw notFoundChannel(id);
        return send(res, 200, view);
      }
      if (template === "/api/v1/channels/:id/cues" && only("POST")) return addCue(req, res, id);
      if (template === "/api/v1/channels/:id/restart" && only("POST")) return restart(req, res, id);
    }
    throw new HttpError(404, HTTP_ERROR_CODES.notFound, `no route ${path}`);
  }

  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, (req, res) => {
    const t0 = performance.now();
    const seen = { template: "other" };
    res.once("finish", () => opts.metrics.ops.observeHttp(req.method ?? "GET", seen.template, res.statusCode, (performance.now() - t0) / 1000));
    route(req, res, seen).catch((e: unknown) => {
      const he = toHttpError(e);
      if (he.status >= 500) log?.error({ event: "http_error", url: req.url, err: e });
      if (!res.headersSent) sendError(res, he);
      else res.destroy();
    });
  });
  const maxConnections = limitConnections(server, { ...opts.connections, logger: log });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((e: unknown) => {
    timers.clearInterval(probeTimer);
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnairError("ONAIR_HTTP_LISTEN_FAILED", `cannot listen on ${host}:${port}: ${code ?? String(e)}`, { host, port, code }, { cause: e });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log?.info({ event: "http_listening", url, maxConnections }, `HTTP on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    server,
    reloadTokens,
    close() {
      closing ??= new Promise<void>((resolve) => {
        timers.clearInterval(probeTimer);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
