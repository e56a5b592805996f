/**
 * The daemon: every channel of the profiles directory on air, the store, the HTTP server
 * (metrics, health, control API) and Telegram alerts. Owns the one shutdown path:
 * SIGTERM/SIGINT tell systemd STOPPING=1, stop the HTTP server, every channel (their FFmpeg
 * children), the daily backup, the disk check, flush the held-back store writes, stop the
 * alerter, then close the store and flush the logger, within a hard deadline. SIGHUP reloads
 * the profiles (only changed channels restart), the API tokens and `alerts.diskLowFree`.
 *
 * Its own death: each run has a row in the store's daemon_runs (store/runs.ts), closed by a
 * clean shutdown or a crash record; `onair run` turns an uncaught exception or unhandled
 * rejection into a crash record and the same shutdown, then exits 1 (daemon-crash.ts). The
 * next start reports the last crash or unclean exit through the alerter (alerts/restarts.ts).
 *
 * Under systemd (Type=notify) it reports READY=1 once the HTTP server listens and the
 * channels were started, and pings the watchdog (observe/sdnotify.ts).
 *
 * Store writes of the channels (as-run, cues) go through a retry queue: a full disk never
 * stops playout; failures count in onair_store_errors_total, one `store_write_failed`
 * alert per outage and a `store_recovered` when the held-back rows are in. A splice_event_id
 * that cannot be stored refuses its cue (409 ONAIR_STORE_FAILED) and is an outage of the
 * same queue, which then probes the store until a write works. /readyz is 503 while an
 * outage lasts, while a channel puts out nothing or one of its outputs fails.
 *
 * The global config sets the retry period of failed store writes (`store.writeRetryMs`) and
 * the delay of the catch-up backup after start (`backup.catchUpDelayMs`).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { Alerter, routeFromProfile, type Alert } from "./alerts/index.js";
import { RestartReporter } from "./alerts/restarts.js";
import { checkHttpExposure, resolveGlobalConfig, readSecretRef, type ResolvedConfig } from "./config/global.js";
import { locateKey, resolveKey } from "./config/keys.js";
import { ProfileDirectory, type LoadedProfile, type RefusedProfile } from "./config/loader.js";
import type { ChannelProfile } from "./config/profile-schema.js";
import { OnairError } from "./core/errors.js";
import { ensureDataDir, resolveStorePath } from "./core/paths.js";
import { YOUNG_GENERATION_FLAG, youngGenerationCapped } from "./core/runtime.js";
import { channelStates, enableFatalReports, errorLine, installCrashHandlers, RunRecord } from "./daemon-crash.js";
import { AuditLog } from "./observe/audit.js";
import { resolveApiTokenFile, startHttpServer, type ChannelView, type CheckResult } from "./observe/http.js";
import { createFileLogger, createLogger, logSizeBytes, type OnairLogger } from "./observe/logger.js";
import { createMetrics, siFromCarousel, type ChannelSnapshot } from "./observe/metrics.js";
import { DiskWatch, parseDiskThreshold, type DiskReading, type WatchedDisk } from "./observe/disk-watch.js";
import { SdNotifier } from "./observe/sdnotify.js";
import { Channel } from "./pipeline/channel.js";
import { recordingRoots } from "./pipeline/recordings.js";
import { StartRetry } from "./pipeline/start-retry.js";
import { BackupScheduler, createBackup, listBackups, type BackupResult, type CopyFailure } from "./store/backup.js";
import { openStore, type Store } from "./store/db.js";
import { StoreWriteQueue, probeWrite, type StoreHealth } from "./store/write-queue.js";

export interface DaemonOptions {
  config?: string;
  profilesDir?: string;
  dataDir?: string;
  http?: string;
  logDir?: string;
  store?: string;
  keyFile?: string;
  passphraseFile?: string;
  apiTokenFile?: string;
  allowClearProfiles?: boolean;
  /** the hard deadline of a shutdown (default 10 s) */
  shutdownDeadlineMs?: number;
  env?: NodeJS.ProcessEnv;
  logger?: OnairLogger;
  /** called with the bound HTTP URL once listening */
  onListening?: (url: string) => void;
  /** the systemd-notify binary (default: systemd-notify on $PATH, else /usr/bin/systemd-notify; observe/sdnotify.ts) */
  systemdNotify?: string;
  /** Node writes a diagnostic report into DATA_DIR/reports/ on a fatal error (`onair run`: true) */
  fatalReports?: boolean;
}

export interface RunningDaemon {
  url: string;
  channels: Map<string, Channel>;
  refused: RefusedProfile[];
  reload(): Promise<void>;
  shutdown(reason: string): Promise<void>;
  /** an uncaught error: writes the crash record (error, stack, channel states), then shuts down */
  crash(err: unknown, origin: string): Promise<void>;
  /** resolves when the daemon has shut down */
  done: Promise<void>;
}

interface Rate {
  bytes: number;
  at: number;
  bps: number | null;
}

/** The monitor's counters (camelCase) under the metric's indicator names (snake_case). */
function monitorIndicators(m: Record<string, number>): ChannelSnapshot["monitorErrors"] {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

/** /readyz store check: writes work (no outage of the write queue) and a query answers. */
function storeReadiness(h: StoreHealth, store: Store): CheckResult {
  if (!h.ok) {
    const e = h.error as { code?: unknown; fields?: { sqliteCode?: unknown } } | undefined;
    const code = typeof e?.code === "string" ? e.code : "ONAIR_STORE_FAILED";
    const sqliteCode = typeof e?.fields?.sqliteCode === "string" ? e.fields.sqliteCode : undefined;
    const since = new Date(h.since ?? Date.now()).toISOString();
    const what = h.channel ? `${h.what} of ${h.channel}` : h.what;
    return { ok: false, reason: `store writes failing since ${since} (${code}${sqliteCode ? ` ${sqliteCode}` : ""}, first: ${what})`, since, code, sqliteCode, what };
  }
  try {
    store.prepared("SELECT 1").get();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `store does not answer: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** /readyz channel check: every channel puts out packets, and no output of it is failing. */
function channelsReadiness(channels: Iterable<Channel>): { ready: boolean; details: unknown; reasons: string[] } {
  const reasons: string[] = [];
  const details = [...channels].map((c) => {
    const r = c.readiness();
    if (!r.up) reasons.push(`channel ${c.id}: no packets out (${c.state})`);
    for (const o of r.failingOutputs) reasons.push(`channel ${c.id}: output ${o.name} failing (${o.error ?? "error"})`);
    return { id: c.id, up: r.up, state: c.state, ...(r.failingOutputs.length ? { failingOutputs: r.failingOutputs } : {}) };
  });
  if (details.length === 0) reasons.push("no channel loaded");
  return { ready: reasons.length === 0, details, reasons };
}

/** The directories whose free space is watched: the data directory, every channel's recording roots. */
function watchedDisks(dataDir: string, channels: Iterable<Channel>): WatchedDisk[] {
  const out: WatchedDisk[] = [{ role: "data", path: dataDir }];
  for (const c of channels) for (const path of recordingRoots(c.profile.outputs)) out.push({ role: "recording", path, channel: c.id });
  return out;
}

/** Set by startDaemon once its run is in the store: records an error that ends the start as a crash. */
export interface StartHooks {
  failed?: (err: unknown) => void;
}

/**
 * Starts the daemon. An error that ends the start (a port in use, say) is recorded as a
 * crash of this run, so the next start reports it, and rethrown.
 */
export async function startDaemon(opts: DaemonOptions = {}, hooks: StartHooks = {}): Promise<RunningDaemon> {
  try {
    return await startParts(opts, hooks);
  } catch (err) {
    hooks.failed?.(err);
    throw err;
  }
}

async function startParts(opts: DaemonOptions, hooks: StartHooks): Promise<RunningDaemon> {
  const env = opts.env ?? process.env;
  const flags = { config: opts.config, profilesDir: opts.profilesDir, dataDir: opts.dataDir, http: opts.http, logDir: opts.logDir };
  const cfg: ResolvedConfig = await resolveGlobalConfig({ flags, env });
  // stdout (journald) always; with a log directory also a rotating file (the same redacted lines)
  const log =
    opts.logger ??
    (cfg.logDir
      ? await createFileLogger({ level: cfg.logLevel, file: { dir: cfg.logDir, sizeBytes: logSizeBytes(cfg.logRotation.size), files: cfg.logRotation.files, frequency: cfg.logRotation.frequency } })
      : createLogger({ level: cfg.logLevel }));
  const publicHttp = checkHttpExposure(cfg);
  if (publicHttp) {
    log.warn({ event: "http_public", listen: cfg.http.listen }, `HTTP on ${cfg.http.listen} is reachable from other machines (http.allowPublic: true); only POST calls need a token`);
  }
  const dataDir = ensureDataDir(cfg.dataDir);
  if ((dataDir.mode & 0o007) !== 0) {
    log.warn({ event: "data_dir_open", dir: cfg.dataDir, mode: dataDir.mode.toString(8) }, "the data directory can be entered by others; chmod 700 it");
  }
  const store: Store = openStore(resolveStorePath(opts.store, { flag: cfg.dataDir }));
  let storeErrors = 0;
  const reportDir = join(cfg.dataDir, "reports");
  if (opts.fatalReports) enableFatalReports(reportDir, log);
  const run = new RunRecord(store, resolve(cfg.profilesDir), reportDir, log);
  hooks.failed = (err) => run.crashed(err, []);
  const sd = new SdNotifier({ env, logger: log, binary: opts.systemdNotify });

  const keyOpts = { keyFile: opts.keyFile, passphraseFile: opts.passphraseFile, env, config: cfg.keySource };
  const keyLocation = await locateKey(keyOpts).catch(() => undefined);
  const profiles = new ProfileDirectory({
    dir: cfg.profilesDir,
    key: () => resolveKey(keyOpts),
    keyPath: keyLocation && keyLocation.kind !== "prompt" ? keyLocation.path : undefined,
    allowClear: opts.allowClearProfiles ?? false,
    logger: log,
    secrets: log.secrets,
  });
  if (opts.allowClearProfiles) log.warn({ event: "clear_profiles_allowed", message: "clear (unsealed) profiles are allowed: use sealed profiles in production" });
  if (!youngGenerationCapped()) {
    log.warn({ event: "young_generation_default", message: `node was started without ${YOUNG_GENERATION_FLAG} (bin/onair.js passes it when executed directly): RSS may step up ~25 MB after some minutes on air` });
  }

  // the audit log: DATA_DIR/audit/, rotated and capped like the main log (log.rotation)
  const audit = await AuditLog.open({
    dir: join(cfg.dataDir, "audit"),
    sizeBytes: logSizeBytes(cfg.logRotation.size),
    files: cfg.logRotation.files,
    logger: log,
    secrets: log.secrets,
  });
  const defaultBotToken = cfg.telegram?.botToken ? await readSecretRef(cfg.telegram.botToken, env).catch(() => undefined) : undefined;
  if (defaultBotToken) log.secrets.add(defaultBotToken);

  const channels = new Map<string, Channel>();
  const rates = new Map<string, Rate>();
  const metrics = createMetrics({ defaultMetrics: true, directories: [{ name: "data", path: cfg.dataDir }] });

  const alerter = new Alerter({
    store,
    logger: log,
    apiRoot: cfg.telegram?.apiRoot,
    owner: `onair@${hostname()}`,
    label: hostname(),
    // box-wide alerts go to telegram.chatIds; the default bot also sends rows `onair alert unit-failed` left in the outbox
    box: { botToken: defaultBotToken, chatIds: cfg.telegram?.chatIds },
    commands: {
      status: () => [...channels.values()].map((c) => `${c.id}: ${c.state} (${c.status().source})`).join("\n") || "no channels",
      channel: (id) => {
        const c = channels.get(id);
        if (!c) return undefined;
        const s = c.status();
        return `${id}: ${s.state}, source ${s.source}, restarts ${s.live.restarts}, cues ${JSON.stringify(s.injector.cuesSent)}`;
      },
    },
  });
  metrics.setAlertsSource(() => {
    const s = alerter.stats();
    const failed = Object.values(s.failed).reduce((a, b) => a + b, 0);
    return { sent: s.sent, failed, outboxDepth: s.outboxDepth };
  });
  metrics.setStoreSource(() => ({ errors: storeErrors }));

  const notify = (a: Alert): void => {
    alerter.notify(a);
  };

  // free space of the data and recording directories (alerts.diskLowFree, re-read on SIGHUP)
  const diskFields = (r: DiskReading) => ({ role: r.role, path: r.path, channel: r.channel, freeBytes: r.freeBytes, totalBytes: r.totalBytes, thresholdBytes: r.thresholdBytes });
  const disks = new DiskWatch({
    threshold: parseDiskThreshold(cfg.file.alerts.diskLowFree),
    dirs: () => watchedDisks(cfg.dataDir, channels.values()),
    onLow: (r) => {
      log.warn({ event: "disk_low", ...diskFields(r) }, `disk space low on ${r.path}`);
      notify({ kind: "disk_low", ...diskFields(r) });
    },
    onOk: (r) => {
      log.info({ event: "disk_ok", ...diskFields(r) }, `disk space back on ${r.path}`);
      notify({ kind: "disk_ok", ...diskFields(r) });
    },
    onError: (d, err) => log.warn({ event: "disk_check_failed", channel: d.channel, role: d.role, path: d.path, err }),
  });

  // as-run and cue rows: a failed write is held in memory and retried, playout goes on
  const errFields = (err: unknown): { code: string; sqliteCode?: string; message: string } => {
    const e = err as { code?: unknown; fields?: { sqliteCode?: unknown }; message?: unknown };
    const sqliteCode = typeof e?.fields?.sqliteCode === "string" ? e.fields.sqliteCode : typeof e?.code === "string" && e.code.startsWith("SQLITE_") ? e.code : undefined;
    return {
      code: typeof e?.code === "string" && e.code.startsWith("ONAIR_") ? e.code : "ONAIR_STORE_FAILED",
      ...(sqliteCode ? { sqliteCode } : {}),
      message: err instanceof Error ? err.message : String(err),
    };
  };
  const writes = new StoreWriteQueue({
    store,
    retryMs: cfg.file.store.writeRetryMs,
    probe: probeWrite,
    onError: (err, w) => {
      storeErrors++;
      log.error({ event: "store_write_failed", channel: w.channel, what: w.what, queued: w.queued, err });
    },
    onOutage: (err, w) => {
      log.error({ event: "store_outage", channel: w.channel, what: w.what, message: "store writes fail; playout goes on, rows are held in memory and retried" });
      notify({ kind: "store_write_failed", path: store.path, what: w.channel ? `${w.what} of ${w.channel}` : w.what, ...errFields(err) });
    },
    onRecovered: (r) => {
      log.info({ event: "store_recovered", outageMs: r.outageMs, written: r.written, dropped: r.dropped });
      notify({ kind: "store_recovered", path: store.path, outageMs: r.outageMs, written: r.written, dropped: r.dropped });
    },
    onDropped: (w) => log.error({ event: "store_write_dropped", channel: w.channel, what: w.what, message: "retry queue full: the oldest held-back row is lost" }),
  });
  metrics.ops.watchStore(store, () => writes.stats().queued);
  const onStoreError = (channel: string) => (err: unknown, what: string): void => {
    storeErrors++;
    log.error({ event: "store_error", channel, what, err });
  };

  // the daily backup (03:30 UTC; backup.catchUpDelayMs after start when the last one is more than a day old)
  const backupDir = join(cfg.dataDir, "backups");
  const onCopyFailed = (f: CopyFailure): void => {
    log.error({ event: "backup_copy_failed", dir: f.target, backup: f.backup, code: f.code, err: f.error });
    notify({ kind: "backup_copy_failed", path: f.target, backup: f.backup, code: f.code, message: f.message });
  };
  const backups = new BackupScheduler({
    run: (signal) =>
      createBackup({ store, destDir: backupDir, profilesDir: cfg.profilesDir, configPath: cfg.configPath, copyTo: cfg.file.backup.copyTo, onCopyFailed, signal }),
    lastBackupMs: (() => {
      const newest = listBackups(backupDir)[0];
      if (!newest) return undefined;
      try {
        return (JSON.parse(readFileSync(join(newest, "manifest.json"), "utf8")) as { createdMs?: number }).createdMs;
      } catch {
        return undefined;
      }
    })(),
    catchUpDelayMs: cfg.file.backup.catchUpDelayMs,
    onDone: (r) => {
      const b = r as BackupResult;
      const copiedTo = b.copies.filter((c) => c.ok).map((c) => c.dir);
      log.info({ event: "backup_done", dir: b.dir, rows: b.manifest.rows, pruned: b.pruned.length, copiedTo });
    },
    onError: (err) => {
      log.error({ event: "backup_failed", dir: backupDir, err });
      const code = (err as { code?: unknown }).code;
      notify({ kind: "backup_failed", path: backupDir, code: typeof code === "string" && code.startsWith("ONAIR_") ? code : "ONAIR_BACKUP_FAILED", message: err instanceof Error ? err.message : String(err) });
    },
  });

  function snapshot(c: Channel): ChannelSnapshot {
    const s = c.status();
    const inj = s.injector;
    const now = Date.now();
    const r = rates.get(c.id) ?? { bytes: s.bytesOut, at: now, bps: null };
    if (now - r.at >= 1000) {
      r.bps = ((s.bytesOut - r.bytes) * 8 * 1000) / (now - r.at);
      r.bytes = s.bytesOut;
      r.at = now;
    }
    rates.set(c.id, r);
    const mode = c.profileMode;
    const si = s.si ? siFromCarousel(s.si.tables) : { tableVersions: {}, sectionsSent: {} };
    return {
      up: s.lastOutputAt !== null && now - s.lastOutputAt < 2000,
      restartsByReason: { ...s.live.restartsByReason, manual: s.live.replacements.manual, planned: s.live.replacements.planned },
      inputBitrateBps: s.live.lastProgress?.bitrate ?? null,
      outputBitrateBps: r.bps,
      packetsIn: inj.packetsIn,
      packetsOut: inj.packetsOut,
      nullsReplaced: inj.nullsReplaced,
      packetsInserted: inj.inserted,
      cuesSent: { ...inj.cuesSent },
      cuesRepeated: { [mode]: inj.cuesRepeated },
      cuesLate: { [mode]: inj.breaksMoved },
      breaksDue: inj.breaksDue,
      secondsToNextSplice: c.injector.nextSplice()?.seconds ?? null,
      tableVersions: si.tableVersions,
      sectionsSent: si.sectionsSent,
      slateActive: s.source === "slate",
      monitorErrors: monitorIndicators(s.monitor as unknown as Record<string, number>),
      playlistMediaMissing: s.playlist?.mediaMissing,
      playlistMediaFailed: s.playlist?.mediaFailed,
      outputs: s.outputs,
    };
  }

  function view(c: Channel): ChannelView {
    const s = c.status();
    const now = Date.now();
    let currentItem: ChannelView["currentItem"] = null;
    let lastCue: ChannelView["lastCue"] = null;
    const next = c.injector.nextSplice();
    let stored: ReturnType<Channel["cues"]["nextWaiting"]>;
    try {
      // the injector plans an hour ahead; only without a planned splice is a cue further ahead, waiting in the store, looked up
      if (!next) stored = c.cues.nextWaiting();
      const pf = store.presentFollowing(c.id, now);
      if (pf.present) {
        currentItem = { title: pf.present.title, start: new Date(pf.present.startMs).toISOString(), end: new Date(pf.present.startMs + pf.present.durationMs).toISOString() };
      }
      const cues = store.listCues(c.id);
      const last = cues[cues.length - 1];
      if (last) lastCue = { spliceEventId: last.spliceEventId, command: last.kind, at: new Date(last.createdMs).toISOString(), durationSeconds: null };
    } catch (err) {
      storeErrors++;
      log.error({ event: "store_error", err });
    }
    const nextCue: ChannelView["nextCue"] = next
      ? { spliceEventId: next.plan.spliceEventId, command: c.profileMode, at: new Date(now + next.seconds * 1000).toISOString(), durationSeconds: next.plan.breakDurationTicks / 90000 }
      : stored
        ? { spliceEventId: stored.spliceEventId, command: c.profileMode, at: new Date(stored.atMs).toISOString(), durationSeconds: stored.durationMs / 1000 }
        : null;
    return {
      id: c.id,
      enabled: true,
      state: s.state,
      up: s.lastOutputAt !== null && now - s.lastOutputAt < 2000,
      slateActive: s.source === "slate",
      currentItem,
      lastCue,
      nextCue,
      restarts: s.live.restarts,
      source: s.source,
    };
  }

  function addChannel(lp: LoadedProfile, reload: boolean): Channel {
    const p: ChannelProfile = lp.profile;
    const c = new Channel({ profile: p, store, logger: log, dataDir: cfg.dataDir, writes, onStoreError: onStoreError(p.channel.id) });
    const route = routeFromProfile(p, defaultBotToken);
    alerter.setChannel(p.channel.id, route);
    if (route) log.secrets.add(route.botToken);
    c.on("crashed", (e) =>
      notify({ kind: "channel_crashed", channel: c.id, code: e.code ?? undefined, signal: e.signal ?? undefined, stderrTail: e.stderrTail, restartNumber: e.restartNumber ?? 0, nextRetryInMs: e.nextRetryInMs }),
    );
    c.on("recovered", (e) => notify({ kind: "recovered", channel: c.id, outageMs: e.outageMs }));
    c.on("slate", (e) => notify(e.on ? { kind: "slate_on", channel: c.id, reason: e.reason } : { kind: "slate_off", channel: c.id }));
    c.on("input_lost", (e) => notify({ kind: "input_lost", channel: c.id, reason: e.reason, detail: e.detail }));
    c.on("input_restored", (e) => notify({ kind: "input_restored", channel: c.id, downMs: e.downMs }));
    c.on("stall", (e) => notify({ kind: "stall", channel: c.id, silentMs: e.silentMs, neverProduced: e.neverProduced }));
    c.on("output_error", (e) => notify({ kind: "output_error", channel: c.id, output: e.output, error: e.error }));
    c.on("epg_empty", (e) => notify({ kind: "epg_empty", channel: c.id, days: e.days }));
    c.on("cue_failed", (e) => notify({ kind: "cue_failed", channel: c.id, spliceEventId: e.spliceEventId, breakId: e.breakId, reason: e.reason }));
    c.on("cue_late", (e) => notify({ kind: "cue_late", channel: c.id, spliceEventId: e.spliceEventId, breakId: e.breakId, lateMs: e.lateMs }));
    channels.set(c.id, c);
    starts.set(
      c.id,
      new StartRetry({
        channel: c.id,
        start: () => c.start(),
        restart: p.restart,
        logger: log,
        onFailed: (e) =>
          notify({ kind: "channel_crashed", channel: c.id, stderrTail: [e.error instanceof Error ? e.error.message : String(e.error)], restartNumber: e.attempt, nextRetryInMs: e.nextRetryInMs }),
      }),
    );
    metrics.registerChannel(c.id, () => snapshot(c));
    audit.profileLoaded({ who: "daemon", via: "daemon", path: lp.path, channel: c.id, reload, ok: true });
    return c;
  }

  // one channel that cannot start does not stop the others; it is tried again with backoff
  const starts = new Map<string, StartRetry>();
  const startChannel = (c: Channel): Promise<void> => starts.get(c.id)?.run() ?? Promise.resolve();

  async function stopChannel(id: string): Promise<void> {
    const c = channels.get(id);
    if (!c) return;
    channels.delete(id);
    metrics.unregisterChannel(id);
    await starts.get(id)?.cancel();
    starts.delete(id);
    await c.stop();
    log.info({ event: "channel_stopped", channel: id });
  }

  function reportRefused(list: RefusedProfile[], reload: boolean): void {
    for (const r of list) {
      log.error({ event: "profile_refused", file: r.file, code: r.code, message: r.message });
      audit.profileLoaded({ who: "daemon", via: "daemon", path: r.path, reload, ok: false, error: `${r.code}: ${r.message}` });
      notify({ kind: "profile_refused", file: r.file, code: r.code, message: r.message });
    }
  }

  const snap = await profiles.load();
  reportRefused(snap.refused, false);
  for (const lp of snap.channels) addChannel(lp, false);
  // the last runs' crashes and unclean exits, now that the channels' chats are known
  const restarts = new RestartReporter({ store, instance: resolve(cfg.profilesDir), notify, logger: log });
  restarts.start(run.ended);

  const tokenFile = resolveApiTokenFile(opts.apiTokenFile, env);
  const http = await startHttpServer({
    host: cfg.http.host,
    port: cfg.http.port,
    connections: { maxConnections: cfg.http.maxConnections },
    metrics,
    tokenFile,
    secrets: log.secrets,
    auditLog: audit,
    logger: log,
    directories: [{ name: "data", path: cfg.dataDir }],
    health: {
      storeOk: () => storeReadiness(writes.health(), store),
      channelsReady: () => channelsReadiness(channels.values()),
    },
    api: {
      listChannels: () => [...channels.values()].map(view),
      channel: (id) => {
        const c = channels.get(id);
        return c ? view(c) : undefined;
      },
      addCue: (id, req, who) => {
        const c = channels.get(id);
        if (!c) return undefined;
        const spliceEventId = c.addCue(req.durationSeconds, req.at?.getTime());
        log.info({ event: "cue_requested", channel: id, who, spliceEventId, at: req.at?.toISOString() ?? "now", durationSeconds: req.durationSeconds });
        return { spliceEventId };
      },
      restart: (id, who, reason) => {
        const c = channels.get(id);
        if (!c) return false;
        log.info({ event: "restart_requested", channel: id, who, reason });
        c.restart();
        return true;
      },
    },
  });
  opts.onListening?.(http.url);
  alerter.start();
  await Promise.all([...channels.values()].map(startChannel));
  backups.start();
  disks.start();
  if (sd.enabled) {
    await sd.ready(`${channels.size} channel(s), HTTP ${http.url}`);
    sd.startWatchdog();
  }

  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  async function reload(): Promise<void> {
    log.info({ event: "reload", message: "SIGHUP: reloading profiles and API tokens" });
    http.reloadTokens();
    const diff = await profiles.reload();
    reportRefused(diff.refused, true);
    for (const lp of diff.removed) await stopChannel(lp.profile.channel.id);
    for (const lp of diff.changed) {
      await stopChannel(lp.profile.channel.id);
      await startChannel(addChannel(lp, true));
    }
    for (const lp of diff.added) await startChannel(addChannel(lp, true));
    log.info({ event: "reloaded", added: diff.added.length, changed: diff.changed.length, removed: diff.removed.length, unchanged: diff.unchanged.length });
    await reloadDiskThreshold();
  }

  /** SIGHUP: the global config's alerts.diskLowFree again (a bad file keeps the old value), then a check. */
  async function reloadDiskThreshold(): Promise<void> {
    try {
      const next = await resolveGlobalConfig({ flags, env });
      const diskLowFree = next.file.alerts.diskLowFree;
      log.info({ event: "disk_threshold", diskLowFree });
      await disks.setThreshold(parseDiskThreshold(diskLowFree));
    } catch (err) {
      log.error({ event: "reload_config_failed", err, message: "the global config cannot be read again; alerts.diskLowFree is unchanged" });
      await disks.check();
    }
  }

  async function shutdown(reason: string): Promise<void> {
    stopping ??= (async () => {
      log.info({ event: "shutdown", reason });
      const notified = sd.stopping();
      const deadline = setTimeout(() => {
        log.error({ event: "shutdown_deadline", message: "shutdown took too long; exiting" });
        process.exit(1);
      }, opts.shutdownDeadlineMs ?? 10_000);
      deadline.unref();
      try {
        await http.close();
        await Promise.allSettled([...channels.keys()].map((id) => stopChannel(id)));
        await backups.stop();
        await disks.stop();
        restarts.close();
        const lost = writes.close();
        if (lost > 0) log.error({ event: "store_writes_lost", rows: lost, message: "held-back as-run/cue rows could not be written before exit" });
        await alerter.close();
        await notified;
        await audit.close();
        run.clean();
        store.close();
        log.info({ event: "stopped" });
        // last: stdout flushed, the log file's last lines written and the file closed
        if (opts.logger) log.flush();
        else await log.close();
      } finally {
        clearTimeout(deadline);
        resolveDone();
      }
    })();
    return stopping;
  }

  function crash(err: unknown, origin: string): Promise<void> {
    log.fatal({ event: "daemon_crash", origin, err, stack: err instanceof Error ? err.stack : undefined }, `uncaught error (${origin}): ${errorLine(err)}; stopping`);
    run.crashed(err, channelStates(channels.values()));
    return shutdown(`crash (${origin})`);
  }

  return { url: http.url, channels, refused: snap.refused, reload, shutdown, crash, done };
}

/** `onair run`: starts the daemon and wires the signals; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  let running: RunningDaemon | undefined;
  const hooks: StartHooks = {};
  installCrashHandlers((err, origin) => {
    if (running) return running.crash(err, origin);
    hooks.failed?.(err); // during the start: recorded, then the handler exits at once
    return undefined;
  });
  const d = (running = await startDaemon({ fatalReports: true, ...opts }, hooks));
  const onTerm = (sig: string) => () => void d.shutdown(sig);
  const onHup = (): void => {
    d.reload().catch((err: unknown) => (opts.logger ?? console).error(err));
  };
  process.on("SIGTERM", onTerm("SIGTERM"));
  process.on("SIGINT", onTerm("SIGINT"));
  process.on("SIGHUP", onHup);
  await d.done;
  process.off("SIGHUP", onHup);
  return 0;
}

export { OnairError };
