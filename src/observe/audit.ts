/**
 * The audit log: one JSON line per action that changes what goes on air or who may act —
 * API calls (cue, restart; allowed, refused or failed), Telegram commands, profile loads and
 * reloads. Append-only (the file is opened with O_APPEND and never truncated or rewritten), one
 * `write` per line so concurrent writers never interleave a line, mode 0640.
 *
 * A line: `{"when":ISO,"who":"token:ops","via":"http","action":"cue.add","channel":"news",
 * "params":{…},"result":"ok","status":201,"detail":…,"remote":"127.0.0.1"}`.
 * `who` is `token:NAME` (API token name), `telegram:CHAT_ID`, `cli:USER`, `system` or
 * `anonymous` (no valid credentials). Never a token: params and detail pass the redactor.
 *
 * A failing write (disk full, file removed by hand) does not stop the action: it is logged
 * (`event: "audit_write_failed"`) and counted in `writeErrors`.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { redactString, redactValue, type SecretSet } from "../config/redact.js";
import { systemClock, type Clock } from "../core/clock.js";

export type AuditVia = "http" | "telegram" | "cli" | "daemon";
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
  /** The audit file; its directory is created. */
  path: string;
  clock?: Clock;
  logger?: Logger;
  /** Known secret values scrubbed from params and detail. */
  secrets?: SecretSet;
}

export const whoToken = (name: string): string => `token:${name}`;
export const whoTelegram = (chatId: string | number): string => `telegram:${chatId}`;

export class AuditLog implements AuditSink {
  readonly path: string;
  private fd: number | undefined;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly secrets: SecretSet | undefined;
  /** Lines that could not be written. */
  writeErrors = 0;

  constructor(opts: AuditLogOptions) {
    this.path = opts.path;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.secrets = opts.secrets;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    this.fd = openSync(this.path, "a", 0o640);
  }

  record(entry: AuditInput): void {
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(line: string): void {
    try {
      if (this.fd === undefined) throw new Error("audit log is closed");
      writeSync(this.fd, line);
    } catch (err) {
      this.writeErrors++;
      this.log?.error({ event: "audit_write_failed", path: this.path, err });
    }
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
