/**
 * `onair alert unit-failed --unit NAME [--retry-for 2m]`: tells the box's Telegram chats
 * that systemd gave up restarting an onair unit. Runs with no daemon (systemd's OnFailure=
 * starts it from onair-failure@.service): reads the global config's `telegram.botToken`
 * and `telegram.chatIds` (profiles are sealed and stay unopened), sends itself with
 * retries for the budget, then leaves unsent chats in the store's alert outbox for the
 * daemon's next start.
 *
 * Exit: 0 when every chat got it; 1 with ONAIR_ALERT_QUEUED when some are left in the
 * outbox, ONAIR_ALERT_LOST when the outbox could not take them either, ONAIR_ALERT_REFUSED
 * when Telegram refused every chat, ONAIR_ALERT_NO_ROUTE when no bot or chat is configured.
 */
import type { Command } from "commander";
import { execFile } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import { botIdOf } from "../alerts/telegram.js";
import { formatAlert, type UnitFailed } from "../alerts/messages.js";
import { sendOneShot, type OneShotResult } from "../alerts/one-shot.js";
import { resolveGlobalConfig, readSecretRef, type ResolvedConfig } from "../config/global.js";
import { OnairError } from "../core/errors.js";
import { openStore } from "../store/db.js";
import { enqueueOutbox } from "../store/outbox.js";
import { out } from "./io.js";

interface UnitFailedFlags {
  unit: string;
  retryFor: string;
  config?: string;
  dataDir?: string;
  store?: string;
}

/** Longest `--retry-for`: one hour. */
const MAX_RETRY_FOR_MS = 3_600_000;
const SYSTEMCTL_TIMEOUT_MS = 3000;

/** `--retry-for`: `500ms`, `30s`, `2m` or plain ms; 0 … 1 h. */
export function parseRetryFor(v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2] === "m" ? 60_000 : m[2] === "s" ? 1000 : 1) : NaN;
  if (!(ms <= MAX_RETRY_FOR_MS)) throw new OnairError("ONAIR_CLI_BAD_DURATION", `--retry-for: expected a duration up to 1h like 30s or 2m, got ${v}`, { value: v });
  return ms;
}

/** `systemctl show -p Result,ExecMainStatus UNIT`, or {} when systemctl is missing, fails or hangs. */
function unitResult(unit: string): Promise<Pick<UnitFailed, "result" | "execMainStatus">> {
  return new Promise((resolve) => {
    execFile("systemctl", ["show", "-p", "Result,ExecMainStatus", "--", unit], { timeout: SYSTEMCTL_TIMEOUT_MS }, (err, stdout) => {
      if (err) return resolve({});
      const prop = (k: string): string | undefined => new RegExp(`^${k}=(.+)$`, "m").exec(stdout)?.[1]?.trim() || undefined;
      resolve({ result: prop("Result"), execMainStatus: prop("ExecMainStatus") });
    });
  });
}

async function boxRoute(cfg: ResolvedConfig): Promise<{ token: string; chatIds: string[] }> {
  const chatIds = (cfg.telegram.chatIds ?? []).map(String);
  const ref = cfg.telegram.botToken;
  if (!ref || chatIds.length === 0) {
    throw new OnairError("ONAIR_ALERT_NO_ROUTE", "no box-wide Telegram route: set telegram.botToken and telegram.chatIds in the global config", {
      config: cfg.configPath,
    });
  }
  return { token: await readSecretRef(ref), chatIds };
}

function queueUnsent(storePath: string, botId: string, text: string, r: OneShotResult): void {
  const rows = r.pending.map((p) => ({ botId, chatId: p.chatId, kind: "unit_failed", payload: text }));
  try {
    const store = openStore(storePath);
    try {
      enqueueOutbox(store, rows, Date.now());
    } finally {
      store.close();
    }
  } catch (e) {
    throw new OnairError("ONAIR_ALERT_LOST", `the alert reached no chat and cannot be written to the outbox ${storePath}`, { store: storePath, pending: rows.length }, { cause: e });
  }
  const why = r.pending[0]?.description ?? "";
  throw new OnairError("ONAIR_ALERT_QUEUED", `${rows.length} chat(s) not reached (${why}); left in the outbox ${storePath} for the daemon to send`, {
    store: storePath,
    pending: rows.length,
    sent: r.sent.length,
  });
}

async function unitFailed(f: UnitFailedFlags): Promise<void> {
  const retryForMs = parseRetryFor(f.retryFor);
  const cfg = await resolveGlobalConfig({ flags: { config: f.config, dataDir: f.dataDir } });
  const { token, chatIds } = await boxRoute(cfg);
  const host = hostname();
  const alert: UnitFailed = { kind: "unit_failed", unit: f.unit, host, ...(await unitResult(f.unit)) };
  const text = formatAlert(alert, { label: host });
  const r = await sendOneShot({ token, chatIds, text, retryForMs, apiRoot: cfg.telegram.apiRoot });
  if (r.pending.length > 0) queueUnsent(f.store ?? join(cfg.dataDir, "onair.db"), botIdOf(token), text, r);
  if (r.sent.length === 0) {
    throw new OnairError("ONAIR_ALERT_REFUSED", `Telegram refused the alert for every chat (${r.refused[0]?.description ?? ""})`, { refused: r.refused.length });
  }
  out(`unit_failed for ${f.unit} sent to ${r.sent.length} chat(s)${r.refused.length ? `, refused by ${r.refused.length}` : ""}`);
}

export function registerAlert(program: Command): void {
  const alert = program.command("alert").description("send an alert without a running daemon");
  alert
    .command("unit-failed")
    .description("tell telegram.chatIds that systemd gave up restarting an onair unit (run by onair-failure@.service)")
    .requiredOption("--unit <name>", "the failed unit (onair.service, onair@news.service)")
    .option("--retry-for <duration>", "retry budget before leaving the message in the outbox (500ms, 30s, 2m)", "2m")
    .option("--config <file>", "global config (default: $ONAIR_CONFIG, else /etc/onair/onair.yaml)")
    .option("--data-dir <dir>", "data directory of the store whose outbox keeps unsent messages")
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .action(async (f: UnitFailedFlags) => unitFailed(f));
}
