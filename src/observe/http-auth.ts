/**
 * Limits and auth of the HTTP API's mutating calls (steps 1–4 of http.ts's file comment):
 * the token file (`TokenFile`: read at start and on `reloadTokens()`), bearer-token matching by
 * SHA-256 digest in constant time over all entries, token buckets per client (`RateLimiter`),
 * and `Gate.admit`, which checks a POST in order — declared size, token (failed attempts
 * rate-limited per peer), rate limit per token, body read up to the limit, JSON — and hands
 * back the parsed body.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { systemClock, type Clock } from "../core/clock.js";
import { whoToken } from "./audit.js";
import { HTTP_ERROR_CODES, HttpError } from "./http-respond.js";

export const DEFAULT_API_TOKEN_FILE = "/etc/onair/api.token";
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
export const MIN_TOKEN_LENGTH = 16;

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

/** The tokens of the token file; a missing file means none, an unreadable one keeps what was read before. */
export class TokenFile {
  tokens: ApiToken[] = [];

  constructor(
    private readonly path: string,
    private readonly log: Logger | undefined,
    private readonly secrets: { add(secret: string): void } | undefined,
  ) {}

  /** Re-reads the file (logged: api_tokens_loaded, api_tokens_missing, api_tokens_unreadable). */
  reload(): { ok: boolean; tokens: number; error?: string } {
    const { path, log } = this;
    try {
      const st = statSync(path);
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8);
        log?.warn({ event: "api_token_file_permissions", path, mode }, "the API token file is readable by others; chmod 600 it");
      }
      const parsed = parseTokenFile(readFileSync(path, "utf8"), (t) => this.secrets?.add(t));
      if (parsed.ignored.length > 0) {
        const fields = { event: "api_token_ignored", path, lines: parsed.ignored, minLength: MIN_TOKEN_LENGTH };
        log?.warn(fields, "API tokens shorter than the minimum were ignored");
      }
      this.tokens = parsed.tokens;
      log?.info({ event: "api_tokens_loaded", path, tokens: this.tokens.length });
      return { ok: true, tokens: this.tokens.length };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        this.tokens = [];
        log?.warn({ event: "api_tokens_missing", path }, "no API token file: mutating API calls are refused");
        return { ok: false, tokens: 0, error: "ENOENT" };
      }
      // unreadable: keep what we had rather than lock everyone out on a chmod mistake
      log?.error({ event: "api_tokens_unreadable", path, err: e });
      return { ok: false, tokens: this.tokens.length, error: code ?? String(e) };
    }
  }
}

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

/** 413; the connection is closed after it, so the unread rest of the body is not waited for. */
function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    HTTP_ERROR_CODES.bodyTooLarge,
    `request body over ${limit} bytes`,
    { limitBytes: limit },
    { connection: "close" },
  );
}

function rateLimited(waitSeconds: number): HttpError {
  const extra = { retryAfterSeconds: waitSeconds };
  return new HttpError(429, HTTP_ERROR_CODES.rateLimited, "too many requests; slow down", extra, { "retry-after": String(waitSeconds) });
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

/** Who calls: the token's name once known (`token:NAME`, else "anonymous"), the peer address, and how (bearer token or console session). */
export interface Caller {
  who: string;
  remote: string;
  via?: "http" | "console";
}

/** The console's sessions, as the gate sees them (src/console/sessions.ts). */
export interface SessionAuth {
  /** the live session of a Cookie header (its idle time reset), or undefined */
  lookup(cookieHeader: string | undefined): { name: string } | undefined;
}

/** What the gate checks besides bearer tokens: console sessions and the Origin of state-changing requests. */
export interface GateConsole {
  sessions: SessionAuth;
  /** the console's public URL (`console.publicUrl`): the only Origin accepted when set */
  publicUrl?: string | undefined;
}

/**
 * Whether a request's Origin is the console's own: the public URL's origin when one is
 * configured, else this request's Host under http or https (a reverse proxy in front may
 * have terminated TLS without a public URL configured).
 */
export function originAllowed(origin: string, host: string | undefined, publicUrl: string | undefined): boolean {
  if (publicUrl) return origin === new URL(publicUrl).origin;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

function badOrigin(origin: string | undefined): HttpError {
  const message =
    origin === undefined ? "a request made with the session cookie must carry an Origin" : `Origin ${origin} is not this console's`;
  return new HttpError(403, HTTP_ERROR_CODES.badOrigin, message);
}

/** Steps 1–4 of a mutating call. */
export class Gate {
  constructor(
    private readonly tokens: TokenFile,
    private readonly limiter: RateLimiter,
    private readonly bodyLimit: number,
    private readonly console?: GateConsole,
  ) {}

  /** Admits the call (naming `caller.who`) and returns its parsed body (undefined when empty), or throws the HttpError. */
  async admit(req: IncomingMessage, caller: Caller): Promise<unknown> {
    const body = await this.admitRaw(req, caller, this.bodyLimit);
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

  /** Admits the call like `admit` and returns its body as bytes, read up to `limit` (a schedule upload's own limit). */
  async admitRaw(req: IncomingMessage, caller: Caller, limit: number = this.bodyLimit): Promise<Buffer> {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > limit) {
      throw tooLarge(limit);
    }
    this.authenticate(req, caller);
    const wait = this.limiter.take(caller.who);
    if (wait > 0) throw rateLimited(wait);
    return readBody(req, limit);
  }

  /**
   * Who calls: a bearer token of the token file, else the console's session cookie (which
   * needs the console's own Origin); an Origin sent with a bearer token is checked too.
   * Sets `caller.who` and `caller.via`; throws 401, 403 or 429 (failed attempts per peer).
   */
  private authenticate(req: IncomingMessage, caller: Caller): void {
    const origin = req.headers.origin;
    const originOk = origin === undefined || originAllowed(origin, req.headers.host, this.console?.publicUrl);
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    let name = m ? matchToken(this.tokens.tokens, m[1]) : undefined;
    let via: Caller["via"] = "http";
    if (name === undefined && !m && this.console) {
      name = this.console.sessions.lookup(req.headers.cookie)?.name;
      via = "console";
      if (name !== undefined && (origin === undefined || !originOk)) throw badOrigin(origin);
    }
    if (name === undefined) {
      const wait = this.limiter.take(`peer:${caller.remote}`);
      if (wait > 0) throw rateLimited(wait);
      const message = m ? "invalid API token" : "missing bearer token or console session";
      throw new HttpError(401, HTTP_ERROR_CODES.unauthorized, message, {}, { "www-authenticate": 'Bearer realm="onair"' });
    }
    if (!originOk) throw badOrigin(origin);
    caller.who = whoToken(name);
    caller.via = via;
  }

  /**
   * The sign-in form's check: the token's name and digest (hex), or undefined for a wrong
   * token, which counts against the peer's rate limit like a failed bearer token (throws 429).
   */
  signIn(token: string, remote: string): { name: string; tokenDigest: string } | undefined {
    const name = matchToken(this.tokens.tokens, token);
    if (name !== undefined) return { name, tokenDigest: digestOf(token).toString("hex") };
    const wait = this.limiter.take(`peer:${remote}`);
    if (wait > 0) throw rateLimited(wait);
    return undefined;
  }

  /** The digests (hex) of the token file's tokens now: the sessions of any other token end (SIGHUP). */
  tokenDigests(): Set<string> {
    return new Set(this.tokens.tokens.map((t) => t.digest.toString("hex")));
  }
}
