/**
 * Alert events and their Telegram text.
 *
 * Events are typed facts the daemon reports (`channel_crashed`, `recovered`, …); the
 * formatter turns one into Telegram HTML (parse_mode "HTML"): every piece of outside text
 * (channel ids, stderr, file names, error messages) is escaped (`& < >`), structure uses
 * only `<b>`, `<i>`, `<code>` and `<pre>`, and the result never exceeds Telegram's 4096
 * characters. Cutting happens at a safe point — never inside a tag, an entity or a
 * surrogate pair — and closes the tags left open, so Telegram never rejects a cut message.
 * The limit counts UTF-16 units of the HTML source, which is at least as long as the text
 * Telegram counts after parsing, so the cut is conservative.
 */
import type { AlertEvent as ProfileAlertEvent } from "../config/profile-schema.js";
import { cutHtml, escapeHtml, formatBytes, formatDuration, TELEGRAM_TEXT_LIMIT } from "./text.js";

export { cutHtml, escapeHtml, formatBytes, formatDuration, htmlToText, TELEGRAM_TEXT_LIMIT } from "./text.js";

export interface ChannelCrashed {
  kind: "channel_crashed";
  channel: string;
  /** exit code, when the process exited */
  code?: number | null | undefined;
  /** signal name, when it was killed */
  signal?: string | null | undefined;
  /** last stderr lines, oldest first */
  stderrTail: readonly string[];
  /** 1 for the first restart after a good run */
  restartNumber: number;
  /** delay before the next attempt; null when the retry limit is reached (no further restart) */
  nextRetryInMs: number | null;
}

export interface Flapping {
  kind: "flapping";
  channel: string;
  restarts: number;
  windowMs: number;
}

export interface Recovered {
  kind: "recovered";
  channel: string;
  /** from the first failure to the stable run */
  outageMs: number;
}

export interface SlateOn {
  kind: "slate_on";
  channel: string;
  reason?: string | undefined;
}

export interface SlateOff {
  kind: "slate_off";
  channel: string;
}

export interface CueFailed {
  kind: "cue_failed";
  channel: string;
  spliceEventId?: number | undefined;
  breakId?: string | undefined;
  reason: string;
}

export interface CueLate {
  kind: "cue_late";
  channel: string;
  spliceEventId?: number | undefined;
  breakId?: string | undefined;
  lateMs: number;
}

export interface ProfileRefused {
  kind: "profile_refused";
  /** the channel, when the file name or an older version tells it */
  channel?: string | undefined;
  file: string;
  /** OnairError code, e.g. ONAIR_PROFILE_AUTH_FAILED */
  code: string;
  message: string;
}

export interface DiskLow {
  kind: "disk_low";
  /** the channel whose recordings live there; absent for the data directory */
  channel?: string | undefined;
  role: "data" | "recording" | "hls";
  path: string;
  freeBytes: number;
  totalBytes?: number | undefined;
  thresholdBytes?: number | undefined;
}

/** Free space back at or over the threshold after a `disk_low`. */
export interface DiskOk extends Omit<DiskLow, "kind"> {
  kind: "disk_ok";
}

/** A store write (as-run row, cue record) failed; playout goes on and the write is retried. Once per outage. */
export interface StoreWriteFailed {
  kind: "store_write_failed";
  /** the channel whose write failed first, when there is one */
  channel?: string | undefined;
  /** the store file */
  path: string;
  /** OnairError code, e.g. ONAIR_STORE_FAILED */
  code: string;
  /** SQLite's code when known, e.g. SQLITE_FULL */
  sqliteCode?: string | undefined;
  message: string;
  /** what was being written, e.g. "as-run item" */
  what: string;
}

/** The writes held back by a store outage went in. */
export interface StoreRecovered {
  kind: "store_recovered";
  channel?: string | undefined;
  path: string;
  outageMs: number;
  /** rows written late */
  written: number;
  /** rows lost (the retry queue was full) */
  dropped: number;
}

/** The daemon's daily backup failed (the store itself may be fine). */
export interface BackupFailed {
  kind: "backup_failed";
  channel?: undefined;
  /** the backup directory */
  path: string;
  /** OnairError code, e.g. ONAIR_BACKUP_FAILED */
  code: string;
  message: string;
}

/** A backup could not be copied to a `backup.copyTo` directory (refused, disk full…); the local backup is kept. */
export interface BackupCopyFailed {
  kind: "backup_copy_failed";
  channel?: undefined;
  /** the copy target directory */
  path: string;
  /** the backup's name, e.g. onair-20250601T033000Z */
  backup: string;
  /** OnairError code: ONAIR_BACKUP_TARGET_NOT_MOUNTED or ONAIR_BACKUP_COPY_FAILED */
  code: string;
  message: string;
}

/** The live input is gone: FFmpeg could not reach it, or a network input went silent (the stall watchdog). Once per outage. */
export interface InputLost {
  kind: "input_lost";
  channel: string;
  reason: "input_unreachable" | "silent";
  /** FFmpeg's line that said so, when there is one */
  detail?: string | undefined;
}

/** Live input back on air after an `input_lost`. */
export interface InputRestored {
  kind: "input_restored";
  channel: string;
  /** from the loss to live data on air again */
  downMs: number;
}

/** The stall watchdog ended an FFmpeg that wrote no TS for the profile's timeout. */
export interface Stall {
  kind: "stall";
  channel: string;
  silentMs: number;
  /** nothing at all since it was started */
  neverProduced: boolean;
}

/** An output (UDP, SRT, file, stdout) started failing; it retries on its own and the others go on. Once per failure episode. */
export interface OutputError {
  kind: "output_error";
  channel: string;
  /** the output's name, e.g. srt://host:port or file:/path */
  output: string;
  error: string;
}

/** The channel's EPG has nothing to show: no programme now nor in the coming schedule window. */
export interface EpgEmpty {
  kind: "epg_empty";
  channel: string;
  /** the schedule window looked at, days */
  days: number;
}

/** The daemon started again after a crash (its crash record names the error) or an exit that left no record (out of memory, the watchdog, kill -9). */
export interface DaemonRestarted {
  kind: "daemon_restarted";
  channel?: undefined;
  cause: "crash" | "unclean";
  /** crash: "Name: message"; unclean: what Node's diagnostic report says, if it wrote one */
  error?: string | undefined;
  /** when the previous process ended (unclean: when this start found it gone) */
  endedMs: number;
  /** unclean: the diagnostic report file */
  report?: string | undefined;
  /** crash: "id: state" of each channel at the time */
  channels?: readonly string[] | undefined;
}

/** More daemon crashes after a `daemon_restarted`, counted in its window: one summary, never one message per restart. */
export interface DaemonCrashLoop {
  kind: "daemon_crash_loop";
  channel?: undefined;
  crashes: number;
  windowMs: number;
  lastError?: string | undefined;
  /** sent after stable running (else: the window closed) */
  stableMs?: number | undefined;
}

/** A systemd unit of onair failed for good (start limit hit): sent by `onair alert unit-failed`, with no daemon running. */
export interface UnitFailed {
  kind: "unit_failed";
  channel?: undefined;
  /** the failed unit (onair.service, onair@news.service) */
  unit: string;
  host: string;
  /** `systemctl show -p Result` of the unit (exit-code, start-limit-hit …), when readable */
  result?: string | undefined;
  /** `systemctl show -p ExecMainStatus`: exit status or signal number of the last main process */
  execMainStatus?: string | undefined;
}

export type Alert =
  | UnitFailed
  | DaemonRestarted
  | DaemonCrashLoop
  | ChannelCrashed
  | InputLost
  | InputRestored
  | Stall
  | OutputError
  | EpgEmpty
  | Flapping
  | Recovered
  | SlateOn
  | SlateOff
  | CueFailed
  | CueLate
  | ProfileRefused
  | DiskLow
  | DiskOk
  | StoreWriteFailed
  | StoreRecovered
  | BackupFailed
  | BackupCopyFailed;
export type AlertKind = Alert["kind"];

/**
 * The profile's `alerts.telegram.events` switch each kind belongs to. `cue_late` has no
 * switch of its own and follows `cue_failed`; `disk_low`, `disk_ok`, `store_write_failed`,
 * `store_recovered`, `backup_failed` and `backup_copy_failed` are about the box, not a channel, and are always
 * on (null).
 */
export const PROFILE_EVENT_OF: Record<AlertKind, ProfileAlertEvent | null> = {
  channel_crashed: "channel_down",
  input_lost: "input_lost",
  input_restored: "input_restored",
  stall: "stall",
  output_error: "output_error",
  epg_empty: "epg_empty",
  flapping: "restart_flapping",
  recovered: "channel_recovered",
  slate_on: "slate_on",
  slate_off: "slate_off",
  cue_failed: "cue_failed",
  cue_late: "cue_failed",
  profile_refused: "profile_refused",
  disk_low: null,
  disk_ok: null,
  store_write_failed: null,
  store_recovered: null,
  backup_failed: null,
  backup_copy_failed: null,
  daemon_restarted: null,
  daemon_crash_loop: null,
  unit_failed: null,
};

/** Kinds about the box (the data directory, the store), sent to the box's chats when no channel route applies. */
export const BOX_WIDE_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>([
  "disk_low",
  "disk_ok",
  "profile_refused",
  "store_write_failed",
  "store_recovered",
  "backup_failed",
  "backup_copy_failed",
  "daemon_restarted",
  "daemon_crash_loop",
  "unit_failed",
]);

/** Dedupe key: same channel and kind (and, for box-wide kinds, same path or file). */
export function dedupeKey(a: Alert): string {
  const subject =
    a.kind === "disk_low" ||
    a.kind === "disk_ok" ||
    a.kind === "store_write_failed" ||
    a.kind === "store_recovered" ||
    a.kind === "backup_failed" ||
    a.kind === "backup_copy_failed"
      ? a.path
      : a.kind === "profile_refused"
        ? a.file
        : a.kind === "output_error"
          ? a.output
          : "";
  // store alerts are about the one store, whichever channel's write noticed first
  const channel = a.kind === "store_write_failed" || a.kind === "store_recovered" ? "" : (a.channel ?? "");
  return `${channel}\u0000${a.kind}\u0000${subject}`;
}

// ── the formatter ────────────────────────────────────────────────────────────

export interface FormatOptions {
  /** who speaks: host or unit name, shown in italics at the end */
  label?: string | undefined;
  /** default 4096 */
  limit?: number | undefined;
}

/** Longest stderr line kept (a runaway line must not push the others out). */
const STDERR_LINE_MAX = 400;

const e = escapeHtml;
const b = (s: string): string => `<b>${e(s)}</b>`;
const code = (s: string | number): string => `<code>${e(String(s))}</code>`;

function cueWhat(a: { spliceEventId?: number | undefined; breakId?: string | undefined }): string {
  const parts: string[] = [];
  if (a.spliceEventId !== undefined) parts.push(`splice_event_id ${code(a.spliceEventId)}`);
  if (a.breakId !== undefined) parts.push(`break ${code(a.breakId)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function diskLines(a: DiskLow | DiskOk): string[] {
  const kind = a.role === "hls" ? "HLS directory" : "recording directory";
  const where = a.role === "data" ? "data directory" : `${kind}${a.channel ? ` of ${b(a.channel)}` : ""}`;
  let free = `${formatBytes(a.freeBytes)} free`;
  if (a.totalBytes !== undefined && a.totalBytes > 0) {
    free += ` of ${formatBytes(a.totalBytes)} (${Number(((a.freeBytes / a.totalBytes) * 100).toFixed(1))}%)`;
  }
  const head =
    a.kind === "disk_low" ? `💾 disk space low on the ${where} ${code(a.path)}` : `✅ disk space back on the ${where} ${code(a.path)}`;
  const lines = [head, free];
  if (a.thresholdBytes !== undefined) lines.push(`threshold ${formatBytes(a.thresholdBytes)}`);
  return lines;
}

function daemonLines(a: DaemonRestarted | DaemonCrashLoop): string[] {
  if (a.kind === "daemon_crash_loop") {
    const last = a.lastError ? `, last: ${code(a.lastError)}` : "";
    const stable = a.stableMs !== undefined ? [`running stable for ${formatDuration(a.stableMs)} now`] : [];
    return [`🔁 onair crashed ${a.crashes} more time(s) within ${formatDuration(a.windowMs)} of the first crash${last}`, ...stable];
  }
  const at = new Date(a.endedMs).toISOString();
  if (a.cause === "crash") {
    const channels = a.channels?.length ? [`channels then: ${e(a.channels.join(", "))}`] : [];
    return [`💥 onair restarted after a crash: ${code(a.error ?? "unknown error")}`, `crashed at ${at}`, ...channels];
  }
  const report = a.report ? [`Node report ${code(a.report)}${a.error ? `: ${e(a.error)}` : ""}`] : [];
  return [`💥 onair restarted after an unclean exit: no crash record (out of memory, the watchdog or kill -9); found at ${at}`, ...report];
}

function unitFailedLines(a: UnitFailed): string[] {
  const result = a.result !== undefined ? `result ${code(a.result)}` : undefined;
  const status = a.execMainStatus !== undefined ? `, last exit status ${code(a.execMainStatus)}` : "";
  return [
    `🛑 onair unit ${code(a.unit)} failed on ${b(a.host)}; systemd gave up restarting it`,
    ...(result !== undefined ? [`${result}${status}`] : []),
    `channels of this unit are off air until someone starts it: ${code(`systemctl start ${a.unit}`)}`,
  ];
}

function crashLines(a: ChannelCrashed): string[] {
  const how =
    a.signal != null ? `killed by signal ${code(a.signal)}` : a.code != null ? `exit code ${code(a.code)}` : "exited (no exit code)";
  const next = a.nextRetryInMs === null ? "retry limit reached: no further restart" : `next retry in ${formatDuration(a.nextRetryInMs)}`;
  return [`🔴 ${b(a.channel)} crashed: ${how}`, `restart #${a.restartNumber}, ${next}`];
}

function inputLostLines(a: InputLost): string[] {
  const why = a.reason === "silent" ? "no data from it" : "unreachable";
  const detail = a.detail ? [code(a.detail.length > STDERR_LINE_MAX ? `${a.detail.slice(0, STDERR_LINE_MAX)}…` : a.detail)] : [];
  return [`📡 ${b(a.channel)}: input lost (${why}); the slate is on air and FFmpeg keeps retrying`, ...detail];
}

/** The message body without the stderr block, line by line. */
function bodyLines(a: Alert): string[] {
  switch (a.kind) {
    case "daemon_restarted":
    case "daemon_crash_loop":
      return daemonLines(a);
    case "unit_failed":
      return unitFailedLines(a);
    case "channel_crashed":
      return crashLines(a);
    case "input_lost":
      return inputLostLines(a);
    case "input_restored":
      return [`📡 ${b(a.channel)}: input back on air after ${formatDuration(a.downMs)}`];
    case "stall":
      return [
        `⏸ ${b(a.channel)}: FFmpeg stalled, no TS for ${formatDuration(a.silentMs)}${a.neverProduced ? " (none since it started)" : ""}; it is being restarted`,
      ];
    case "output_error":
      return [`⚠️ ${b(a.channel)}: output ${code(a.output)} failing: ${e(a.error)}`, "it retries on its own; the other outputs go on"];
    case "epg_empty":
      return [
        `📺 ${b(a.channel)}: EPG empty, no programme now or in the next ${a.days} day(s)`,
        `import a schedule: ${code("onair schedule import")}`,
      ];
    case "flapping":
      return [
        `🔁 ${b(a.channel)} is flapping: ${a.restarts} restarts in ${formatDuration(a.windowMs)}`,
        "crash alerts are paused until it recovers",
      ];
    case "recovered":
      return [`✅ ${b(a.channel)} recovered after ${formatDuration(a.outageMs)}`];
    case "slate_on":
      return [`🟧 ${b(a.channel)}: slate on air${a.reason ? ` (${e(a.reason)})` : ""}`];
    case "slate_off":
      return [`🟩 ${b(a.channel)}: slate off, programme back on air`];
    case "cue_failed":
      return [`⚠️ ${b(a.channel)}: cue failed${cueWhat(a)}`, e(a.reason)];
    case "cue_late":
      return [`⚠️ ${b(a.channel)}: cue late by ${formatDuration(a.lateMs)}${cueWhat(a)}`];
    case "profile_refused":
      return [`⛔ profile refused${a.channel ? ` for ${b(a.channel)}` : ""}: ${code(a.file)}`, `${code(a.code)}: ${e(a.message)}`];
    case "disk_low":
    case "disk_ok":
      return diskLines(a);
    case "store_write_failed":
      return [
        `💾 store writes failing: ${code(a.path)}${a.channel ? ` (first: ${b(a.channel)}, ${e(a.what)})` : ` (${e(a.what)})`}`,
        `${code(a.code)}${a.sqliteCode ? ` ${code(a.sqliteCode)}` : ""}: ${e(a.message)}`,
        "playout continues; as-run and cue rows are kept in memory and retried",
      ];
    case "backup_failed":
      return [`💾 daily backup failed: ${code(a.path)}`, `${code(a.code)}: ${e(a.message)}`];
    case "backup_copy_failed":
      return [
        `💾 backup copy failed: ${code(a.path)}`,
        `${code(a.code)}: ${e(a.message)}`,
        `the backup ${code(a.backup)} is kept on the box`,
      ];
    case "store_recovered":
      return [
        `✅ store writes work again: ${code(a.path)} after ${formatDuration(a.outageMs)}`,
        `${a.written} held-back row(s) written${a.dropped > 0 ? `, ${a.dropped} lost (retry queue full)` : ""}`,
      ];
  }
}

/** One alert as Telegram HTML, at most `limit` (4096) characters. */
export function formatAlert(a: Alert, o: FormatOptions = {}): string {
  const limit = o.limit ?? TELEGRAM_TEXT_LIMIT;
  const head = bodyLines(a).join("\n");
  const foot = o.label ? `\n<i>${e(o.label)}</i>` : "";
  let html = head + foot;
  if (a.kind === "channel_crashed" && a.stderrTail.length > 0) {
    // keep the last lines (the ones that say why), as many as fit
    const room = limit - html.length - "\n<pre></pre>".length;
    const lines = a.stderrTail.map((l) => e(l.length > STDERR_LINE_MAX ? `${l.slice(0, STDERR_LINE_MAX)}…` : l));
    const kept: string[] = [];
    let used = 0;
    for (let k = lines.length - 1; k >= 0; k--) {
      const add = lines[k].length + (kept.length ? 1 : 0);
      if (used + add > room - 2) break; // 2: "…\n" marker when lines are dropped
      kept.unshift(lines[k]);
      used += add;
    }
    if (kept.length < lines.length) kept.unshift("…");
    html = `${head}\n<pre>${kept.join("\n")}</pre>${foot}`;
  }
  return cutHtml(html, limit);
}

/** A reply to a bot command: the daemon's plain text, escaped, monospace, cut to the limit. */
export function formatReply(text: string, limit = TELEGRAM_TEXT_LIMIT): string {
  return cutHtml(`<pre>${escapeHtml(text)}</pre>`, limit);
}
