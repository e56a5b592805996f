/**
 * Signing in to the console (docs/api.md, "Sign-in"):
 *
 *   POST /sign-in          a plain form POST (`token`, optional `next`): a token of the token file
 *                          → 303 to `next` with the session cookie; a wrong one → 303 to
 *                          /?signin=failed (counted against the peer's rate limit, → 429)
 *   POST /sign-out         ends the session → 303 to /, the cookie cleared
 *   GET  /api/v1/session   who is signed in, until when
 *
 * The token is never given back to the page: the cookie (HttpOnly, SameSite=Strict, Secure
 * under an https public URL) holds a session id only. Both POSTs check the Origin like every
 * action (a login CSRF would sign a victim in as the attacker). Each is an audit line
 * (`console.sign_in`, `console.sign_out`) naming the token.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { whoToken, type AuditSink } from "../observe/audit.js";
import { originAllowed, type Gate } from "../observe/http-auth.js";
import { HTTP_ERROR_CODES, HttpError, send, sendError, toHttpError } from "../observe/http-respond.js";
import type { RouteGroup } from "../observe/http-router.js";
import { clearedCookie, sessionCookie, type SessionStore } from "./sessions.js";

/** A sign-in form is a few hundred bytes; anything bigger is not one. */
const FORM_LIMIT_BYTES = 4096;

export interface SignInOptions {
  gate: Gate;
  sessions: SessionStore;
  auditLog: AuditSink;
  publicUrl?: string | undefined;
  logger?: Logger | undefined;
}

/** Reads a small urlencoded form (413 past the limit, 415 for another type). */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, HTTP_ERROR_CODES.unsupportedMediaType, "send the sign-in form as application/x-www-form-urlencoded");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > FORM_LIMIT_BYTES) {
      throw new HttpError(413, HTTP_ERROR_CODES.bodyTooLarge, `form over ${FORM_LIMIT_BYTES} bytes`, {}, { connection: "close" });
    }
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** A path on this server to go back to after sign-in (never another host). */
function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : "/";
}

function checkOrigin(req: IncomingMessage, publicUrl: string | undefined): void {
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, req.headers.host, publicUrl)) {
    throw new HttpError(403, HTTP_ERROR_CODES.badOrigin, `Origin ${origin} is not this console's`);
  }
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, { location, "cache-control": "no-store", "content-length": "0", ...(cookie ? { "set-cookie": cookie } : {}) });
  res.end();
}

async function signIn(o: SignInOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const remote = req.socket.remoteAddress ?? "unknown";
  const secure = o.publicUrl?.startsWith("https:") ?? false;
  let who = "anonymous";
  let result: "ok" | "denied" | "rate_limited" | "invalid" = "invalid";
  let status = 303;
  try {
    checkOrigin(req, o.publicUrl);
    const form = await readForm(req);
    const match = o.gate.signIn((form.get("token") ?? "").trim(), remote);
    if (!match) {
      result = "denied";
      redirect(res, "/?signin=failed");
      return;
    }
    who = whoToken(match.name);
    const { id } = o.sessions.create(match.name, match.tokenDigest);
    result = "ok";
    redirect(res, safeNext(form.get("next")), sessionCookie(id, o.sessions.absoluteMs / 1000, secure));
  } catch (e) {
    const he = toHttpError(e);
    status = he.status;
    result = he.status === 429 ? "rate_limited" : "invalid";
    sendError(res, he);
  } finally {
    o.auditLog.record({ who, via: "console", action: "console.sign_in", result, status, remote });
    o.logger?.[result === "ok" ? "info" : "debug"]({ event: "console_sign_in", who, result });
  }
}

function signOut(o: SignInOptions, req: IncomingMessage, res: ServerResponse): void {
  checkOrigin(req, o.publicUrl);
  const s = o.sessions.lookup(req.headers.cookie);
  o.sessions.end(req.headers.cookie);
  const secure = o.publicUrl?.startsWith("https:") ?? false;
  redirect(res, "/", clearedCookie(secure));
  if (s) {
    const who = whoToken(s.name);
    o.auditLog.record({
      who,
      via: "console",
      action: "console.sign_out",
      result: "ok",
      status: 303,
      remote: req.socket.remoteAddress ?? "unknown",
    });
    o.logger?.info({ event: "console_sign_out", who });
  }
}

/** POST /sign-in, POST /sign-out and GET /api/v1/session. */
export function signInRoutes(o: SignInOptions): RouteGroup {
  return ({ req, res, template, only }) => {
    if (template === "/sign-in" && only("POST")) return signIn(o, req, res);
    if (template === "/sign-out" && only("POST")) return Promise.resolve().then(() => signOut(o, req, res));
    if (template === "/api/v1/session" && only("GET")) {
      const s = o.sessions.lookup(req.headers.cookie);
      const body = s
        ? {
            signedIn: true,
            name: s.name,
            expiresAt: new Date(s.expiresMs).toISOString(),
            idleExpiresAt: new Date(o.sessions.idleExpiresMs(s)).toISOString(),
          }
        : { signedIn: false };
      return Promise.resolve(send(res, 200, body));
    }
    return undefined;
  };
}
