/** The action of `onair alert unit-failed` (declared in alert.ts, loaded when it runs). */
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
import { parseRetryFor } from "./alert.js";

export interface UnitFailedFlags {
  unit: string;
  retryFor: string;
  config?: string;
  dataDir?: string;
  store?: string;
}

const SYSTEMCTL_TIMEOUT_MS = 3000;

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
    throw new OnairError(
      "ONAIR_ALERT_NO_ROUTE",
      "no box-wide Telegram route: set telegram.botToken and telegram.chatIds in the global config",
      {
        config: cfg.configPath,
      },
    );
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
    const fields = { store: storePath, pending: rows.length };
    throw new OnairError("ONAIR_ALERT_LOST", `the alert reached no chat and cannot be written to the outbox ${storePath}`, fields, {
      cause: e,
    });
  }
  const why = r.pending[0]?.description ?? "";
  throw new OnairError(
    "ONAIR_ALERT_QUEUED",
    `${rows.length} chat(s) not reached (${why}); left in the outbox ${storePath} for the daemon to send`,
    {
      store: storePath,
      pending: rows.length,
      sent: r.sent.length,
    },
  );
}

export async function unitFailed(f: UnitFailedFlags): Promise<void> {
  const retryForMs = parseRetryFor(f.retryFor);
  const cfg = await resolveGlobalConfig({ flags: { config: f.config, dataDir: f.dataDir } });
  const { token, chatIds } = await boxRoute(cfg);
  const host = hostname();
  const alert: UnitFailed = { kind: "unit_failed", unit: f.unit, host, ...(await unitResult(f.unit)) };
  const text = formatAlert(alert, { label: host });
  const r = await sendOneShot({ token, chatIds, text, retryForMs, apiRoot: cfg.telegram.apiRoot });
  if (r.pending.length > 0) queueUnsent(f.store ?? join(cfg.dataDir, "onair.db"), botIdOf(token), text, r);
  if (r.sent.length === 0) {
    const why = r.refused[0]?.description ?? "";
    throw new OnairError("ONAIR_ALERT_REFUSED", `Telegram refused the alert for every chat (${why})`, { refused: r.refused.length });
  }
  out(`unit_failed for ${f.unit} sent to ${r.sent.length} chat(s)${r.refused.length ? `, refused by ${r.refused.length}` : ""}`);
}
