/**
 * The audit log: one JSON line per action that changes what goes on air or who may act —
 * API calls (cue, restart; allowed, refused or failed), Telegram commands, profile loads and
 * reloads. Append-only, one `write(2)` per line before `record()` returns, so concurrent
 * writers never interleave a line; files mode 0600.
 *
 * Files: a directory of its own (the daemon: `DATA_DIR/audit/`), rotated by size like the
 * main log and through the same helper (pino-roll, logger.ts `openRollingFile`):
 * `audit.1.log`, `audit.2.log`, … (the highest number is the active file; `current.log`
 * links to it), `files` of about `sizeBytes` each, files of earlier processes included:
 * about `sizeBytes × files` in all (the oldest files are removed just after a rotation).
 * onair@ instances that share a data directory append to the same active file.
 *
 * A line: `{"when":ISO,"who":"token:ops","via":"http","action":"cue.add","channel":"news",
 * "params":{…},"result":"ok","status":201,"detail":…,"remote":"127.0.0.1"}`.
 * `who` is `token:NAME` (API token name), `telegram:CHAT_ID`, `cli:USER`, `system` or
 * `anonymous` (no valid credentials). Never a token: params and detail pass the redactor.
 *
 * Refused requests (HTTP 401, 403, 429) are aggregated (audit-refusals.ts): one line per
 * peer, caller and reason per minute with a `count`, written at the minute's end (a timer)
 * and at `close()`, and also logged as `event: "api_refused"` (warn). Every other entry is
 * written at once.
 *
 * A failing write (disk full, file removed by hand) does not stop the action: it is logged
 * (`event: "audit_write_failed"`) and counted in `writeErrors`.
 */
import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import { redactString, redactValue, type SecretSet } from "../config/redact.js";
import { systemClock, type Clock } from "../core/clock.js";
import { backgroundTimers, type Timers } from "../core/timers.js";
import { isRefusal, RefusalAggregator, type RefusalLine } from "./audit-refusals.js";
import { DEFAULT_LOG_FILE_SIZE_BYTES, DEFAULT_LOG_FILES, openRollingFile, type RollStream } from "./logger.js";

export type AuditVia = "http" | "console" | "telegram" | "cli" | "daemon";
export type AuditResult = "ok" | "denied" | "rate_limited" | "invalid" | "not_found" | "error";

export interface AuditEntry {
  /** ISO 8601 time (filled by the log when missing). */
  when: string;
  who: string;
  via: AuditVia;
  /** `cue.add`, `channel.restart`, `profile.load`, `profile.reload`, … */
  action: string;
  channel?: string;
  params?: Record<string, unknown>;
  result: AuditResult;
  /** HTTP status, for API calls. */
  status?: number;
  /** Error code or one-line reason, for results other than ok. */
  detail?: string;
  /** Peer address, for API calls. */
  remote?: string;
}

export type AuditInput = Omit<AuditEntry, "when"> & { when?: string };

/** What the HTTP server and the Telegram bot write to. */
export interface AuditSink {
  record(entry: AuditInput): void;
}

export interface ProfileLoadAudit {
  who: string;
  via: AuditVia;
  /** The profile file (path, never its content). */
  path: string;
  channel?: string;
  /** false for the load at start, true for a reload (SIGHUP, API). */
  reload: boolean;
  ok: boolean;
  /** Error code (ONAIR_…) when it failed. */
  error?: string;
}

export interface AuditLogOptions {
  /** The audit directory (created 0700): `audit.N.log`, `current.log`. */
  dir: string;
  /** Rotate when the active file reaches this many bytes (default 10 MiB, as the main log). */
  sizeBytes?: number;
  /** Files kept, the active one included (default 5, at least 2). */
  files?: number;
  clock?: Clock;
  /** the minute-boundary timer of the refusal sums (default unref'd Node timers) */
  timers?: Timers | undefined;
  logger?: Logger;
  /** Known secret values scrubbed from params and detail. */
  secrets?: SecretSet;
}

export const AUDIT_FILE_BASENAME = "audit.log";

export const whoToken = (name: string): string => `token:${name}`;
export const whoTelegram = (chatId: string | number): string => `telegram:${chatId}`;

export class AuditLog implements AuditSink {
  readonly dir: string;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly secrets: SecretSet | undefined;
  private readonly refusals: RefusalAggregator;
  private readonly timers: Timers;
  private boundaryTimer: unknown;
  private closed = false;
  /** Lines that could not be written. */
  writeErrors = 0;

  private constructor(
    opts: AuditLogOptions,
    private readonly file: RollStream,
  ) {
    this.dir = opts.dir;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? backgroundTimers;
    this.log = opts.logger;
    this.secrets = opts.secrets;
    this.refusals = new RefusalAggregator({ clock: this.clock, emit: (l) => this.writeRefusal(l) });
    file.on("error", (err) => this.failed(err));
  }

  /** Opens (creates or continues) the audit files in `opts.dir`. */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const file = await openRollingFile({
      dir: opts.dir,
      basename: AUDIT_FILE_BASENAME,
      sizeBytes: opts.sizeBytes ?? DEFAULT_LOG_FILE_SIZE_BYTES,
      files: opts.files ?? DEFAULT_LOG_FILES,
      sync: true,
      mode: 0o600,
    });
    return new AuditLog(opts, file);
  }

  record(entry: AuditInput): void {
    this.refusals.flushEnded();
    if (isRefusal(entry)) {
      this.refusals.add(entry);
      this.armBoundaryTimer();
      return;
    }
    const line: AuditEntry = {
      when: entry.when ?? new Date(this.clock.now()).toISOString(),
      who: entry.who,
      via: entry.via,
      action: entry.action,
      ...(entry.channel !== undefined ? { channel: entry.channel } : {}),
      ...(entry.params !== undefined ? { params: redactValue(entry.params, this.secrets) as Record<string, unknown> } : {}),
      result: entry.result,
      ...(entry.status !== undefined ? { status: entry.status } : {}),
      ...(entry.detail !== undefined ? { detail: redactString(entry.detail, this.secrets) } : {}),
      ...(entry.remote !== undefined ? { remote: entry.remote } : {}),
    };
    this.write(`${JSON.stringify(line)}\n`);
  }

  /** A profile load (at start) or reload, with its result. */
  profileLoaded(p: ProfileLoadAudit): void {
    this.record({
      who: p.who,
      via: p.via,
      action: p.reload ? "profile.reload" : "profile.load",
      ...(p.channel !== undefined ? { channel: p.channel } : {}),
      params: { path: p.path },
      result: p.ok ? "ok" : "error",
      ...(p.error !== undefined ? { detail: p.error } : {}),
    });
  }

  /** Writes the pending refusal aggregates now. */
  flush(): void {
    this.refusals.flush();
  }

  /** Writes the pending refusal aggregates and closes the file (waits for it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.boundaryTimer !== undefined) this.timers.clearTimeout(this.boundaryTimer);
    if (this.file.destroyed) return;
    await new Promise<void>((resolve) => {
      this.file.once("close", resolve);
      try {
        this.file.end();
      } catch {
        resolve();
      }
    });
  }

  /** A timer at the end of the oldest pending minute writes its aggregates. */
  private armBoundaryTimer(): void {
    if (this.boundaryTimer !== undefined || this.closed) return;
    const ms = this.refusals.msToBoundary();
    if (ms === undefined) return;
    this.boundaryTimer = this.timers.setTimeout(() => {
      this.boundaryTimer = undefined;
      this.refusals.flushEnded();
      this.armBoundaryTimer();
    }, ms + 5);
  }

  private writeRefusal(l: RefusalLine): void {
    const line: RefusalLine = { ...l, ...(l.detail !== undefined ? { detail: redactString(l.detail, this.secrets) } : {}) };
    this.log?.warn({
      event: "api_refused",
      who: l.who,
      remote: l.remote,
      status: l.status,
      detail: l.detail,
      count: l.count,
      since: l.when,
    });
    this.write(`${JSON.stringify(line)}\n`);
  }

  private write(line: string): void {
    try {
      if (this.closed || this.file.destroyed) throw new Error("audit log is closed");
      this.file.write(line);
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.writeErrors++;
    this.log?.error({ event: "audit_write_failed", dir: this.dir, err });
  }
}

/** An audit sink that keeps entries in memory (tests, and the CLI when no file is configured). */
export class MemoryAudit implements AuditSink {
  readonly entries: AuditEntry[] = [];
  constructor(private readonly clock: Clock = systemClock) {}
  record(entry: AuditInput): void {
    this.entries.push({ ...entry, when: entry.when ?? new Date(this.clock.now()).toISOString() });
  }
}
