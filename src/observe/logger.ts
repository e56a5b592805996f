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
 * Where lines go: stdout (journald) by default, or any `destination` with `write(string)`.
 * `createFileLogger()` (async: pino-roll opens its file before it returns) writes the same
 * redacted line to stdout AND to a size-rotated file in the log directory. Redaction runs
 * once, before the line is split, so the file can never hold what stdout does not.
 *
 * Rotated files (pino-roll naming): `DIR/onair.1.log`, `onair.2.log`, … (the highest number
 * is the active file; `DIR/current.log` is a symlink to it). A restarted daemon continues
 * the numbering, and `files` bounds the total on disk (`sizeBytes × (files + 1)`), also
 * across restarts (files of earlier processes count).
 *
 * Flushing: `await logger.close()` at shutdown flushes stdout and ends the file (waits for
 * its last write and closes the descriptor); it is the last thing the daemon does.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { SecretSet, redactJsonLine, redactValue } from "../config/redact.js";
import { OnairError } from "../core/errors.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** where lines go: a stream (tests: a buffer/PassThrough); default stdout */
  destination?: { write(line: string): unknown; flushSync?: () => void; flush?: (cb?: (err?: Error | null) => void) => void };
  level?: Level | "silent";
  /** base fields on every line; default `{ service: "onair" }` (no pid/hostname noise) */
  base?: Record<string, unknown>;
  /** known secret values scrubbed from every line; share it with the profile loader */
  secrets?: SecretSet;
}

type Destination = NonNullable<LoggerOptions["destination"]>;

/** The rotating log file of `createFileLogger`. */
export interface LogFileOptions {
  /** the log directory (created 0750 if missing); the files are `onair.N.log` in it */
  dir: string;
  /** rotate when the active file reaches this many bytes (default 10 MiB) */
  sizeBytes?: number;
  /** files kept on disk, the active one included (default 5, at least 2) */
  files?: number;
  /** also rotate daily or hourly */
  frequency?: "daily" | "hourly";
}

export const DEFAULT_LOG_FILE_SIZE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_FILES = 5;
export const LOG_FILE_BASENAME = "onair.log";

/**
 * The global config's `log.rotation.size` in bytes: `10m`, `512k`, `1g`, or a number,
 * which (as in pino-roll) counts megabytes.
 */
export function logSizeBytes(size: number | string): number {
  if (typeof size === "number") return size * 1024 * 1024;
  const m = /^(\d+)([kKmMgG]?)$/.exec(size.trim());
  if (!m) throw new Error(`invalid log size ${size}`);
  const unit = m[2].toLowerCase();
  return Number(m[1]) * (unit === "g" ? 1024 ** 3 : unit === "k" ? 1024 : 1024 ** 2);
}

export interface OnairLogger extends Logger {
  /** the secrets this logger scrubs (add to it as profiles load) */
  readonly secrets: SecretSet;
  /**
   * Flushes every destination and closes the log file, if any (shutdown, last step).
   * Lines logged after it still go to stdout; the file is closed.
   */
  close(): Promise<void>;
}

/** A destination that redacts each line before passing it on. */
class RedactingDestination implements DestinationStream {
  constructor(
    private readonly inner: Destination,
    private readonly secrets: SecretSet,
  ) {}
  write(line: string): void {
    this.inner.write(redactJsonLine(line, this.secrets));
  }
  flushSync(): void {
    this.inner.flushSync?.();
  }
  /** `logger.flush(cb)` lands here (pino calls the stream's flush) */
  flush(cb?: (err?: Error | null) => void): void {
    if (this.inner.flush) this.inner.flush(cb);
    else {
      this.inner.flushSync?.();
      cb?.();
    }
  }
}

/** Flushes a destination, never throwing (a destroyed stream has nothing left to flush). */
function flushQuietly(d: Destination): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      if (d.flush) d.flush(() => resolve());
      else {
        d.flushSync?.();
        resolve();
      }
    } catch {
      resolve();
    }
  });
}

/** Creates the root logger. Channel code uses `channelLogger(root, id)`. */
export function createLogger(opts: LoggerOptions = {}): OnairLogger {
  const inner = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return buildLogger(opts, inner, () => flushQuietly(inner));
}

function buildLogger(opts: LoggerOptions, inner: Destination, close: () => Promise<void>): OnairLogger {
  const secrets = opts.secrets ?? new SecretSet();
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
  return Object.assign(logger, { secrets, close });
}

/** The SonicBoom stream pino-roll returns (the part of it used here). */
export interface RollStream {
  write(data: string): boolean;
  flush(cb?: (err?: Error | null) => void): void;
  end(): void;
  readonly destroyed: boolean;
  once(event: "close", fn: () => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
}

/** pino-roll is CommonJS without types: loaded through require. */
type PinoRoll = (opts: Record<string, unknown>) => Promise<RollStream>;

/**
 * The root logger writing to stdout (or `destination`) and to a rotating file (pino-roll)
 * in `file.dir`. Async because pino-roll looks for existing files and opens the active one.
 * A write error on the file (disk full, directory removed) is reported once on stderr; the
 * stdout copy goes on, and logging never throws into the caller.
 */
export async function createFileLogger(opts: LoggerOptions & { file: LogFileOptions }): Promise<OnairLogger> {
  const f = opts.file;
  const sizeBytes = f.sizeBytes ?? DEFAULT_LOG_FILE_SIZE_BYTES;
  const files = Math.max(2, f.files ?? DEFAULT_LOG_FILES);
  let file: RollStream;
  try {
    mkdirSync(f.dir, { recursive: true, mode: 0o750 });
    file = await openRollingFile({ dir: f.dir, basename: LOG_FILE_BASENAME, sizeBytes, files, frequency: f.frequency });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new OnairError("ONAIR_LOG_DIR", `cannot open the log file in ${f.dir} (${code})`, { dir: f.dir, errno: code });
  }
  let fileError = false;
  file.on("error", (err: Error) => {
    if (fileError) return;
    fileError = true;
    process.stderr.write(
      `onair: ONAIR_LOG_FILE_ERROR: cannot write the log file in ${f.dir} (${(err as NodeJS.ErrnoException).code ?? err.message})\n`,
    );
  });
  const stdout = opts.destination ?? pino.destination({ dest: 1, sync: false });
  let closed = false;
  const tee: Destination = {
    write(line: string) {
      stdout.write(line);
      if (closed || file.destroyed) return;
      try {
        file.write(line);
      } catch {
        // destroyed meanwhile: the stdout copy stands
      }
    },
    flushSync: () => stdout.flushSync?.(),
    flush: (cb) => {
      void flushQuietly(stdout).then(() => cb?.());
    },
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await flushQuietly(stdout);
      if (file.destroyed) return;
      closed = true;
      // end() writes what is buffered, then closes the descriptor ("close")
      await new Promise<void>((resolve) => {
        file.once("close", resolve);
        try {
          file.end();
        } catch {
          resolve();
        }
      });
    })());
  return buildLogger(opts, tee, close);
}

/** A size-rotated file (pino-roll): `dir/BASE.N.EXT`, `dir/current.log` linking to the active one. */
export interface RollingFileOptions {
  dir: string;
  /** e.g. `onair.log` → `onair.1.log`, `onair.2.log`, … */
  basename: string;
  sizeBytes: number;
  /** files kept on disk, the active one included (at least 2); one more until the next rotation when pino-roll's cleanup runs before the new file is opened */
  files: number;
  frequency?: "daily" | "hourly" | undefined;
  /** one write(2) per write() before it returns (the audit log), instead of buffered */
  sync?: boolean;
  /** mode of new files (default 0640) */
  mode?: number;
}

/**
 * Opens a pino-roll stream (its first file is created or continued). Every rotating file of
 * onair goes through here, so all keep the same naming and the same cap on total bytes.
 */
export function openRollingFile(o: RollingFileOptions): Promise<RollStream> {
  const roll = createRequire(import.meta.url)("pino-roll") as PinoRoll;
  return roll({
    file: join(o.dir, o.basename),
    // "<n>b": pino-roll reads a bare number as MB
    size: `${Math.max(1, Math.floor(o.sizeBytes))}b`,
    ...(o.frequency ? { frequency: o.frequency } : {}),
    // with removeOtherLogFiles pino-roll keeps the newest `count` files it finds after a
    // rotation, counting the files of earlier processes too (a restarting daemon cannot fill
    // the disk). Whether the new active file is among them is a race (its open is async and
    // not awaited before the cleanup lists the folder): when it is, `count` files stay, the
    // new, still empty one included; when not, `count + 1`. `count` = `files` (at least 2)
    // so that the file just rotated out, with the newest lines, is never the one removed
    // (`files - 1` lost those lines whenever the race went that way with files: 2).
    limit: { count: Math.max(2, o.files), removeOtherLogFiles: true },
    symlink: true,
    mode: o.mode ?? 0o640,
    mkdir: true,
    ...(o.sync ? { sync: true } : {}),
  });
}

/** A child logger for one channel: every line carries `channel`. */
export function channelLogger(parent: Logger, channel: string): Logger {
  return parent.child({ channel });
}

/** A logger that writes nothing (tests, library defaults). */
export function silentLogger(): OnairLogger {
  return createLogger({ level: "silent", destination: { write: () => undefined } });
}
