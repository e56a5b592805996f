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
 *
 * Here the daemon's life, over the parts in daemon/: open (open.ts), wire the alerter and the
 * disk watch (alert-wiring.ts), the store writes and backups (store-wiring.ts), the channel
 * registry (registry.ts, over the pure view.ts), the operator console (console-wiring.ts),
 * start HTTP (http-wiring.ts), wait; shutdown is `Daemon.closers()`, an ordered list of named
 * closers run under the deadline (shutdown.ts). Housekeeping beside the channels is a `Part`
 * (parts.ts) in `housekeeping`.
 */
import { resolve } from "node:path";
import type { Alert, Alerter } from "./alerts/index.js";
import { RestartReporter } from "./alerts/restarts.js";
import { resolveGlobalConfig } from "./config/global.js";
import type { ProfileDirectory, RefusedProfile } from "./config/loader.js";
import { OnairError } from "./core/errors.js";
import type { Timers } from "./core/timers.js";
import { channelStates, errorLine, installCrashHandlers, type RunRecord } from "./daemon-crash.js";
import { createAlerter, diskPart, type DiskPart } from "./daemon/alert-wiring.js";
import { consoleWiring, type ConsoleParts } from "./daemon/console-wiring.js";
import { httpOptions } from "./daemon/http-wiring.js";
import { defaultBotToken, openAudit, openDataDir, openLogger, openProfiles, recordRun } from "./daemon/open.js";
import type { Part } from "./daemon/parts.js";
import { ChannelRegistry } from "./daemon/registry.js";
import { runClosers, type Closer } from "./daemon/shutdown.js";
import { backupPart, prunePart, StoreWiring } from "./daemon/store-wiring.js";
import type { AuditLog } from "./observe/audit.js";
import { resolveApiTokenFile, startHttpServer, type HttpServerHandle } from "./observe/http.js";
import type { OnairLogger } from "./observe/logger.js";
import { createMetrics } from "./observe/metrics.js";
import { SdNotifier } from "./observe/sdnotify.js";
import type { Channel } from "./pipeline/channel.js";
import type { Store } from "./store/db.js";

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
  /** the timers of the shutdown deadline, the watchdog pings, the disk checks (default: unref'd Node timers) */
  timers?: Timers;
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
  const config = () => resolveGlobalConfig({ flags, env });
  const cfg = await config();
  const log = opts.logger ?? (await openLogger(cfg));
  const store = openDataDir(cfg, opts.store, log);
  const run = recordRun(cfg, store, log, opts.fatalReports, hooks);
  const sd = new SdNotifier({ env, logger: log, binary: opts.systemdNotify, timers: opts.timers });
  const profiles = await openProfiles(opts, cfg, env, log);
  const audit = await openAudit(cfg, log, opts.timers);
  const botToken = await defaultBotToken(cfg, env, log);

  const metrics = createMetrics({ defaultMetrics: true, directories: [{ name: "data", path: cfg.dataDir }] });
  const channels = new Map<string, Channel>();
  const alerter = createAlerter({ store, cfg, log, metrics, botToken, channels });
  const notify = (a: Alert): void => void alerter.notify(a);
  const storeWiring = new StoreWiring({ store, cfg, log, metrics, notify, timers: opts.timers });
  const registry = new ChannelRegistry({ channels, store, cfg, log, metrics, audit, storeWiring, alerts: alerter, notify, botToken });
  const web = consoleWiring({ cfg, log, store, registry, timers: opts.timers }); // the operator console
  const disks = diskPart({ cfg, log, channels, notify, config, timers: opts.timers });
  // beside the channels: started once they were, closed after they stopped
  const housekeeping: Part[] = [
    backupPart({ store, cfg, log, notify }),
    prunePart({ store, cfg, log, metrics, wiring: storeWiring }),
    disks,
  ];

  const snap = await profiles.load();
  registry.load(snap);
  // the last runs' crashes and unclean exits, now that the channels' chats are known
  const restarts = new RestartReporter({ store, instance: resolve(cfg.profilesDir), notify, logger: log });
  restarts.start(run.ended);
  const tokenFile = resolveApiTokenFile(opts.apiTokenFile, env);
  const http = await startHttpServer(
    httpOptions({ cfg, log, metrics, audit, registry, storeWiring, tokenFile, timers: opts.timers, console: web?.http }),
  );
  opts.onListening?.(http.url);
  alerter.start();
  await registry.startAll();
  for (const p of housekeeping) p.start();
  if (sd.enabled) {
    await sd.ready(`${channels.size} channel(s), HTTP ${http.url}`);
    sd.startWatchdog();
  }
  const parts = { opts, log, store, run, sd, profiles, audit, alerter, storeWiring, registry, web, disks, housekeeping, restarts, http };
  return new Daemon(parts, snap.refused);
}

/** What a running daemon is made of. */
interface DaemonParts {
  opts: DaemonOptions;
  log: OnairLogger;
  store: Store;
  run: RunRecord;
  sd: SdNotifier;
  profiles: ProfileDirectory;
  audit: AuditLog;
  alerter: Alerter;
  storeWiring: StoreWiring;
  registry: ChannelRegistry;
  /** the operator console, undefined when console.enabled is false */
  web: ConsoleParts | undefined;
  disks: DiskPart;
  housekeeping: readonly Part[];
  restarts: RestartReporter;
  http: HttpServerHandle;
}

const closer = (name: string, close: () => unknown): Closer => ({ name, close: async () => void (await close()) });

class Daemon implements RunningDaemon {
  readonly url: string;
  readonly channels: Map<string, Channel>;
  readonly done: Promise<void>;
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;

  constructor(
    private readonly p: DaemonParts,
    readonly refused: RefusedProfile[],
  ) {
    this.url = p.http.url;
    this.channels = p.registry.channels;
    this.done = new Promise<void>((r) => (this.resolveDone = r));
  }

  /** SIGHUP: the API tokens, the profiles (only changed channels restart), alerts.diskLowFree. */
  async reload(): Promise<void> {
    this.p.log.info({ event: "reload", message: "SIGHUP: reloading profiles and API tokens" });
    this.p.http.reloadTokens();
    await this.p.registry.reload(await this.p.profiles.reload());
    await this.p.disks.reloadThreshold();
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.stop(reason);
    return this.stopping;
  }

  crash(err: unknown, origin: string): Promise<void> {
    const stack = err instanceof Error ? err.stack : undefined;
    this.p.log.fatal({ event: "daemon_crash", origin, err, stack }, `uncaught error (${origin}): ${errorLine(err)}; stopping`);
    this.p.run.crashed(err, channelStates(this.channels.values()));
    return this.shutdown(`crash (${origin})`);
  }

  /** The one shutdown path: systemd told first, then the closers in order under the deadline; past it, exit 1. */
  private async stop(reason: string): Promise<void> {
    const log = this.p.log;
    log.info({ event: "shutdown", reason });
    const notified = this.p.sd.stopping();
    try {
      const report = await runClosers(this.closers(notified), {
        deadlineMs: this.p.opts.shutdownDeadlineMs ?? 10_000,
        timers: this.p.opts.timers,
        onFailed: (step, err) => log.error({ event: "shutdown_step_failed", step, err }),
        onDeadline: (step) => log.error({ event: "shutdown_deadline", step, message: "shutdown took too long; exiting" }),
      });
      if (report.late) process.exit(1);
    } finally {
      this.resolveDone();
    }
  }

  /** The shutdown order: nothing new comes in, the channels stop, then what they write to, the logger last. */
  private closers(notified: Promise<unknown>): Closer[] {
    const p = this.p;
    return [
      closer("http", () => p.http.close()),
      closer("channels", () => p.registry.stopAll()),
      // its streams ended with the HTTP server; its thumbnailers after the channels they watch
      closer("console", () => p.web?.close()),
      ...p.housekeeping.map((part) => closer(part.name, () => part.close())),
      closer("restart reporter", () => p.restarts.close()),
      closer("store writes", () => p.storeWiring.close()),
      closer("alerter", () => p.alerter.close()),
      closer("systemd", () => notified),
      closer("audit log", () => p.audit.close()),
      // past the deadline the run stays open: the next start reports an unclean exit
      { name: "run record", close: ({ late }) => void (late || p.run.clean()) },
      closer("store", () => p.store.close()),
      { name: "logger", close: ({ late }) => this.closeLog(late) },
    ];
  }

  /** Last: stdout flushed, the log file's last lines written and the file closed. */
  private async closeLog(late: boolean): Promise<void> {
    if (!late) this.p.log.info({ event: "stopped" });
    if (this.p.opts.logger || late) this.p.log.flush();
    else await this.p.log.close();
  }
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
