/**
 * The console's sessions: an API token, sent once through the sign-in form, is exchanged for
 * a session id in an HttpOnly, SameSite=Strict cookie (`onair_session`), so the page's script
 * never holds a token. Kept in memory only (a daemon restart signs everyone out); only the
 * SHA-256 digest of a session id is kept, so a heap dump does not hand out live sessions.
 *
 * A session ends `absoluteMs` after sign-in (12 h by default), after `idleMs` without a
 * request (1 h), at sign-out, and when its token leaves the token file (`revokeMissing`,
 * called on SIGHUP after the token file was read again). At most `MAX_SESSIONS` live at once:
 * the oldest goes first.
 */
import { createHash, randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../core/clock.js";

export const SESSION_COOKIE = "onair_session";
export const DEFAULT_SESSION_HOURS = 12;
export const DEFAULT_SESSION_IDLE_MINUTES = 60;
const MAX_SESSIONS = 1000;

export interface Session {
  /** the token's name (`name:token` in the token file; "default" for a bare token) */
  name: string;
  /** the SHA-256 digest of the token it was made from, hex (revoked when no token of the file has it any more) */
  tokenDigest: string;
  createdMs: number;
  lastMs: number;
  /** createdMs + absolute lifetime */
  expiresMs: number;
}

export interface SessionOptions {
  absoluteMs?: number;
  idleMs?: number;
  clock?: Clock;
}

const digest = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class SessionStore {
  readonly absoluteMs: number;
  readonly idleMs: number;
  private readonly clock: Clock;
  /** by digest of the session id */
  private readonly sessions = new Map<string, Session>();

  constructor(o: SessionOptions = {}) {
    this.absoluteMs = o.absoluteMs ?? DEFAULT_SESSION_HOURS * 3_600_000;
    this.idleMs = o.idleMs ?? DEFAULT_SESSION_IDLE_MINUTES * 60_000;
    this.clock = o.clock ?? systemClock;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for a token: its id (for the cookie only) and the session. */
  create(name: string, tokenDigest: string): { id: string; session: Session } {
    const now = this.clock.now();
    this.sweep(now);
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString("base64url");
    const session: Session = { name, tokenDigest, createdMs: now, lastMs: now, expiresMs: now + this.absoluteMs };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a Cookie header, its idle time reset; undefined when none or expired. */
  lookup(cookieHeader: string | undefined): Session | undefined {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!id) return undefined;
    const key = digest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const now = this.clock.now();
    if (now >= s.expiresMs || now - s.lastMs >= this.idleMs) {
      this.sessions.delete(key);
      return undefined;
    }
    s.lastMs = now;
    return s;
  }

  /** When an idle session ends if no request comes. */
  idleExpiresMs(s: Session): number {
    return Math.min(s.expiresMs, s.lastMs + this.idleMs);
  }

  /** Ends the session of a Cookie header (sign-out); true when there was one. */
  end(cookieHeader: string | undefined): boolean {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    return id ? this.sessions.delete(digest(id)) : false;
  }

  /** Ends the sessions whose token is not among `tokenDigests` (hex) any more; returns how many. */
  revokeMissing(tokenDigests: ReadonlySet<string>): number {
    let n = 0;
    for (const [k, s] of this.sessions) {
      if (!tokenDigests.has(s.tokenDigest)) {
        this.sessions.delete(k);
        n++;
      }
    }
    return n;
  }

  private sweep(now: number): void {
    for (const [k, s] of this.sessions) if (now >= s.expiresMs || now - s.lastMs >= this.idleMs) this.sessions.delete(k);
  }
}

/** The Set-Cookie value of a new session (Secure when the console's public URL is https). */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeSeconds)}${secure ? "; Secure" : ""}`;
}

/** The Set-Cookie value that clears the session cookie. */
export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}
