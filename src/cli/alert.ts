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
import { OnairError } from "../core/errors.js";
import type { UnitFailedFlags } from "./alert-actions.js";

/** Longest `--retry-for`: one hour. */
const MAX_RETRY_FOR_MS = 3_600_000;

/** `--retry-for`: `500ms`, `30s`, `2m` or plain ms; 0 … 1 h. */
export function parseRetryFor(v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2] === "m" ? 60_000 : m[2] === "s" ? 1000 : 1) : NaN;
  if (!(ms <= MAX_RETRY_FOR_MS)) {
    throw new OnairError("ONAIR_CLI_BAD_DURATION", `--retry-for: expected a duration up to 1h like 30s or 2m, got ${v}`, { value: v });
  }
  return ms;
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
    .action(async (f: UnitFailedFlags) => (await import("./alert-actions.js")).unitFailed(f));
}
