/**
 * Structured logging: pino JSON lines, one child logger per channel (`channel` field),
 * an `event` field on every line worth alerting or grepping on, and redaction of secrets
 * on the final line, so nothing — message, fields, bindings or error stacks — escapes it.
 *
 * Redaction (src/config/redact.ts): values of secret-looking keys (token, botToken,
 * passphrase, password, secret, key…), URL credentials (`scheme://user:pass@host` →
 * `scheme://user:***@host`), secret query parameters, Telegram bot tokens, and every
 * value registered in the logger's SecretSet (loaded profiles register theirs).
 *
 * File rotation (pino-roll) plugs in as `destination`: anything with `write(string)`.
 */
import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { SecretSet, redactJsonLine, redactValue } from "../config/redact.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** where lines go: a stream (tests: a buffer/PassThrough; later a pino-roll stream); default stdout */
  destination?: { write(line: string): unknown; flushSync?: () => void; flush?: (cb?: (err?: Error | null) => void) => void };
  level?: Level | "silent";
  /** base fields on every line; default `{ service: "onair" }` (no pid/hostname noise) */
  base?: Record<string, unknown>;
  /** known secret values scrubbed from every line; share it with the profile loader */
  secrets?: SecretSet;
}

export interface OnairLogger extends Logger {
  /** the secrets this logger scrubs (add to it as profiles load) */
  readonly secrets: SecretSet;
}

/** A destination that redacts each line before passing it on. */
class RedactingDestination implements DestinationStream {
  constructor(
    private readonly inner: NonNullable<LoggerOptions["destination"]>,
    private readonly secrets: SecretSet,
  ) {}
  write(line: string): void {
    this.inner.write(redactJsonLine(line, this.secrets));
  }
  flushSync(): void {
    this.inner.flushSync?.();
  }
}

/** Creates the root logger. Channel code uses `channelLogger(root, id)`. */
export function createLogger(opts: LoggerOptions = {}): OnairLogger {
  const secrets = opts.secrets ?? new SecretSet();
  const inner = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level: opts.level ?? "info",
      base: opts.base ?? { service: "onair" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: {
        // errors: message and fields through the redactor; the stack only at debug (it repeats the message)
        err: (e: unknown) => {
          if (e instanceof Error) {
            const o: Record<string, unknown> = { type: e.name, message: e.message };
            const code = (e as { code?: unknown }).code;
            if (code !== undefined) o.code = code;
            const fields = (e as { fields?: unknown }).fields;
            if (fields && typeof fields === "object") o.fields = redactValue(fields, secrets);
            if (logger.isLevelEnabled("debug")) o.stack = e.stack;
            return o;
          }
          return e;
        },
      },
    },
    new RedactingDestination(inner, secrets),
  );
  return Object.assign(logger, { secrets });
}

/** A child logger for one channel: every line carries `channel`. */
export function channelLogger(parent: Logger, channel: string): Logger {
  return parent.child({ channel });
}

/** A logger that writes nothing (tests, library defaults). */
export function silentLogger(): OnairLogger {
  return createLogger({ level: "silent", destination: { write: () => undefined } });
}
