/**
 * The daemon's first steps, before any channel: the logger, the data directory and the store
 * (with warnings about an open directory or a public HTTP address), this run's record, the
 * profile directory, the audit log and the default bot token.
 */
import { join, resolve } from "node:path";
import { checkHttpExposure, readSecretRef, type ResolvedConfig } from "../config/global.js";
import { locateKey, resolveKey } from "../config/keys.js";
import { ProfileDirectory } from "../config/loader.js";
import { ensureDataDir, resolveStorePath } from "../core/paths.js";
import { YOUNG_GENERATION_FLAG, youngGenerationCapped } from "../core/runtime.js";
import type { Timers } from "../core/timers.js";
import { enableFatalReports, RunRecord } from "../daemon-crash.js";
import { AuditLog } from "../observe/audit.js";
import { createFileLogger, createLogger, logSizeBytes, type OnairLogger } from "../observe/logger.js";
import { openStore, type Store } from "../store/db.js";

/** stdout (journald) always; with a log directory also a rotating file (the same redacted lines). */
export async function openLogger(cfg: ResolvedConfig): Promise<OnairLogger> {
  if (!cfg.logDir) return createLogger({ level: cfg.logLevel });
  const r = cfg.logRotation;
  return createFileLogger({
    level: cfg.logLevel,
    file: { dir: cfg.logDir, sizeBytes: logSizeBytes(r.size), files: r.files, frequency: r.frequency },
  });
}

/** Makes the data directory and opens the store (`storeFlag`: --store), warning about what others can reach. */
export function openDataDir(cfg: ResolvedConfig, storeFlag: string | undefined, log: OnairLogger): Store {
  if (checkHttpExposure(cfg)) {
    const message = `HTTP on ${cfg.http.listen} is reachable from other machines (http.allowPublic: true); only POST calls need a token`;
    log.warn({ event: "http_public", listen: cfg.http.listen }, message);
  }
  const dataDir = ensureDataDir(cfg.dataDir);
  if ((dataDir.mode & 0o007) !== 0) {
    log.warn(
      { event: "data_dir_open", dir: cfg.dataDir, mode: dataDir.mode.toString(8) },
      "the data directory can be entered by others; chmod 700 it",
    );
  }
  return openStore(resolveStorePath(storeFlag, { flag: cfg.dataDir }));
}

/** This run's row in daemon_runs; from now on an error that ends the start is recorded as its crash. */
export function recordRun(
  cfg: ResolvedConfig,
  store: Store,
  log: OnairLogger,
  fatalReports: boolean | undefined,
  hooks: { failed?: (err: unknown) => void },
): RunRecord {
  const reportDir = join(cfg.dataDir, "reports");
  if (fatalReports) enableFatalReports(reportDir, log);
  const run = new RunRecord(store, resolve(cfg.profilesDir), reportDir, log);
  hooks.failed = (err) => run.crashed(err, []);
  return run;
}

export interface ProfileSources {
  keyFile?: string | undefined;
  passphraseFile?: string | undefined;
  allowClearProfiles?: boolean | undefined;
}

/** The profiles directory, with its key source; warns about clear profiles and an uncapped young generation. */
export async function openProfiles(
  o: ProfileSources,
  cfg: ResolvedConfig,
  env: NodeJS.ProcessEnv,
  log: OnairLogger,
): Promise<ProfileDirectory> {
  const keyOpts = { keyFile: o.keyFile, passphraseFile: o.passphraseFile, env, config: cfg.keySource };
  const keyLocation = await locateKey(keyOpts).catch(() => undefined);
  const profiles = new ProfileDirectory({
    dir: cfg.profilesDir,
    key: () => resolveKey(keyOpts),
    keyPath: keyLocation && keyLocation.kind !== "prompt" ? keyLocation.path : undefined,
    allowClear: o.allowClearProfiles ?? false,
    logger: log,
    secrets: log.secrets,
  });
  if (o.allowClearProfiles) {
    log.warn({ event: "clear_profiles_allowed", message: "clear (unsealed) profiles are allowed: use sealed profiles in production" });
  }
  if (!youngGenerationCapped()) {
    const message =
      `node was started without ${YOUNG_GENERATION_FLAG} (bin/onair.js passes it when executed directly): ` +
      "RSS may step up ~25 MB after some minutes on air";
    log.warn({ event: "young_generation_default", message });
  }
  return profiles;
}

/** The audit log: DATA_DIR/audit/, rotated and capped like the main log (log.rotation). */
export function openAudit(cfg: ResolvedConfig, log: OnairLogger, timers: Timers | undefined): Promise<AuditLog> {
  const dir = join(cfg.dataDir, "audit");
  return AuditLog.open({
    dir,
    sizeBytes: logSizeBytes(cfg.logRotation.size),
    files: cfg.logRotation.files,
    logger: log,
    secrets: log.secrets,
    timers,
  });
}

/** The default bot's token (telegram.botToken), a secret of the logger from now on; undefined when unset or unreadable. */
export async function defaultBotToken(cfg: ResolvedConfig, env: NodeJS.ProcessEnv, log: OnairLogger): Promise<string | undefined> {
  const token = cfg.telegram?.botToken ? await readSecretRef(cfg.telegram.botToken, env).catch(() => undefined) : undefined;
  if (token) log.secrets.add(token);
  return token;
}
