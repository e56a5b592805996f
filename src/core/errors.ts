/**
 * Errors with stable codes. The message is one human line; details go in `fields`.
 * The CLI prints `onair: CODE: message` and exits non-zero; no stack unless --debug.
 * Codes come from the catalogue (error-codes.ts): a code not listed there does not compile.
 */
import type { ErrorCode } from "./error-codes.js";

export type { ErrorCode } from "./error-codes.js";
/** The same as `ErrorCode` (the name code outside core/ has used). */
export type OnairErrorCode = ErrorCode;

export class OnairError extends Error {
  readonly code: OnairErrorCode;
  readonly fields: Record<string, unknown>;

  constructor(code: OnairErrorCode, message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OnairError";
    this.code = code;
    this.fields = fields;
  }
}

export function isOnairError(e: unknown): e is OnairError {
  return e instanceof OnairError;
}

/** One line for a user: `CODE: message`. Unknown errors get ONAIR_INTERNAL. */
export function formatError(e: unknown): string {
  if (isOnairError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return `ONAIR_INTERNAL: ${e.message}`;
  return `ONAIR_INTERNAL: ${String(e)}`;
}
