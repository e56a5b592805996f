/**
 * systemd readiness and liveness (sd_notify) without a native addon.
 *
 * Node cannot open the AF_UNIX datagram socket `$NOTIFY_SOCKET` names, so each message is
 * sent by running `systemd-notify` (spawned with an argument array, never a shell). The
 * unit has `NotifyAccess=all` (the message comes from a child), and systemd-notify ≥ 246
 * waits for systemd to have taken the message (a barrier), so the child exiting at once
 * does not lose it.
 *
 * - `ready()`: `systemd-notify --ready` once the HTTP server listens and the channels
 *   were started;
 * - the watchdog: `systemd-notify WATCHDOG=1` every `$WATCHDOG_USEC / 2`, when
 *   `$WATCHDOG_USEC` is set and `$WATCHDOG_PID` is unset or ours. The ping comes from a
 *   timer of the event loop, so a blocked or dead loop stops the pings and systemd
 *   restarts the daemon: the timer firing is the liveness proof;
 * - `stopping()`: `systemd-notify STOPPING=1` at the start of the shutdown (the
 *   `--stopping` flag only exists from systemd 253; the variable works everywhere).
 *
 * Without `$NOTIFY_SOCKET` (not under systemd, or Type≠notify) everything is a no-op.
 * A failed systemd-notify is logged (once per kind of message) and never stops the daemon.
 *
 * The binary is the `systemd-notify` on the unit's `$PATH` (systemd sets one), else
 * `/usr/bin/systemd-notify`. Nothing else selects it from the environment: a test stands in
 * for systemd as systemd does, with `$NOTIFY_SOCKET`, and puts its own `systemd-notify`
 * first on `$PATH`.
 */
import { spawn as nodeSpawn, type SpawnOptions } from "node:child_process";
import type { Logger } from "pino";
import { backgroundTimers, type Timers } from "../core/timers.js";
import { whichSync } from "../pipeline/ffmpeg-args.js";

export const DEFAULT_SYSTEMD_NOTIFY = "/usr/bin/systemd-notify";

type SpawnFn = (cmd: string, args: readonly string[], opts: SpawnOptions) => ReturnType<typeof nodeSpawn>;

export interface SdNotifierOptions {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** the systemd-notify binary (default: `systemd-notify` on `$PATH`, else /usr/bin/systemd-notify) */
  binary?: string | undefined;
  /** our pid, compared with `$WATCHDOG_PID` (default process.pid) */
  pid?: number;
  spawn?: SpawnFn;
  /** the watchdog's ping timer (default unref'd Node timers) */
  timers?: Timers | undefined;
}

export class SdNotifier {
  /** `$NOTIFY_SOCKET` is set: messages are sent */
  readonly enabled: boolean;
  /** ms between watchdog pings, or undefined when systemd asked for none (or not for us) */
  readonly watchdogIntervalMs: number | undefined;
  private readonly binary: string;
  private readonly log: Logger;
  private readonly spawn: SpawnFn;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timers: Timers;
  private timer: unknown;
  private pinging = false;
  private readonly failedOnce = new Set<string>();
  /** messages handed to systemd-notify that exited 0 */
  sent = 0;
  failures = 0;

  constructor(o: SdNotifierOptions) {
    this.env = o.env ?? process.env;
    this.log = o.logger;
    this.spawn = o.spawn ?? nodeSpawn;
    this.timers = o.timers ?? backgroundTimers;
    this.enabled = Boolean(this.env.NOTIFY_SOCKET);
    this.binary = o.binary ?? ((this.enabled && whichSync("systemd-notify", this.env.PATH ?? "")) || DEFAULT_SYSTEMD_NOTIFY);
    const usec = Number(this.env.WATCHDOG_USEC);
    const wpid = this.env.WATCHDOG_PID;
    const forUs = wpid === undefined || wpid === "" || Number(wpid) === (o.pid ?? process.pid);
    this.watchdogIntervalMs = this.enabled && Number.isFinite(usec) && usec > 0 && forUs ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  }

  /** Tells systemd the daemon is up (Type=notify start-up is complete). */
  ready(status?: string): Promise<boolean> {
    return this.send("ready", ["--ready", ...(status ? [`STATUS=${status}`] : [])]);
  }

  /** Tells systemd the daemon is stopping, and stops the watchdog pings. */
  stopping(): Promise<boolean> {
    this.stopWatchdog();
    return this.send("stopping", ["STOPPING=1"]);
  }

  /** Starts the watchdog pings (when systemd asked for them). */
  startWatchdog(): void {
    if (this.watchdogIntervalMs === undefined || this.timer !== undefined) return;
    this.timer = this.timers.setInterval(() => {
      // one ping at a time: a systemd-notify that hangs must not pile up children
      if (this.pinging) return;
      this.pinging = true;
      void this.send("watchdog", ["WATCHDOG=1"]).finally(() => (this.pinging = false));
    }, this.watchdogIntervalMs);
    this.log.info({ event: "systemd_watchdog", intervalMs: this.watchdogIntervalMs }, "systemd watchdog pings started");
  }

  stopWatchdog(): void {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(what: string, args: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const fail = (reason: string): void => {
        if (settled) return;
        settled = true;
        this.failures++;
        if (!this.failedOnce.has(what)) {
          this.failedOnce.add(what);
          this.log.warn({ event: "systemd_notify_failed", message: what, binary: this.binary, reason }, `systemd-notify (${what}) failed`);
        }
        resolve(false);
      };
      let child: ReturnType<typeof nodeSpawn>;
      try {
        child = this.spawn(this.binary, args, { stdio: "ignore", env: this.env });
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
        return;
      }
      child.once("error", (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
      child.once("exit", (code, signal) => {
        if (code === 0 && !settled) {
          settled = true;
          this.sent++;
          if (what !== "watchdog") this.log.info({ event: "systemd_notified", message: what }, `systemd notified: ${what}`);
          resolve(true);
        } else fail(signal ? `killed by ${signal}` : `exit code ${code}`);
      });
    });
  }
}
