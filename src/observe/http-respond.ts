/**
 * How the HTTP server answers: JSON bodies (`send`), errors as
 * `{"error": {"code": "ONAIR_…", "message": "…", …}}` with stable codes (`HTTP_ERROR_CODES`),
 * and the mapping of anything thrown by a route to an `HttpError` (`toHttpError`).
 */
import type { ServerResponse } from "node:http";
import { isOnairError } from "../core/errors.js";

/** Stable error codes of the HTTP API. */
export const HTTP_ERROR_CODES = {
  notFound: "ONAIR_HTTP_NOT_FOUND",
  methodNotAllowed: "ONAIR_HTTP_METHOD_NOT_ALLOWED",
  unauthorized: "ONAIR_API_UNAUTHORIZED",
  badOrigin: "ONAIR_HTTP_BAD_ORIGIN",
  rateLimited: "ONAIR_API_RATE_LIMITED",
  bodyTooLarge: "ONAIR_HTTP_BODY_TOO_LARGE",
  unsupportedMediaType: "ONAIR_HTTP_UNSUPPORTED_MEDIA_TYPE",
  badJson: "ONAIR_HTTP_BAD_JSON",
  invalidBody: "ONAIR_API_INVALID_BODY",
  channelNotFound: "ONAIR_CHANNEL_NOT_FOUND",
  internal: "ONAIR_INTERNAL",
} as const;

/** An answer other than 2xx: status, stable code, one human line, extra body fields and headers. */
export class HttpError extends Error {
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

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  send(res, e.status, { error: { code: e.code, message: e.message, ...e.extra } }, e.headers);
}

/** An HttpError as is; an OnairError → 409 with its code; anything else → 500 ONAIR_INTERNAL (no detail to the client). */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isOnairError(e)) return new HttpError(409, e.code, e.message);
  return new HttpError(500, HTTP_ERROR_CODES.internal, "internal error");
}

export const notFoundChannel = (id: string): HttpError =>
  new HttpError(404, HTTP_ERROR_CODES.channelNotFound, `no channel "${id}"`, { channel: id });
