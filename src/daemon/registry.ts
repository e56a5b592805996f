/**
 * The channel registry: every channel on air, by id. `add` builds a channel from a loaded
 * profile and wires it (its alert route, its events to alerts, its metrics snapshot, the audit
 * line); `start` starts it through a `StartRetry` (a channel that cannot start does not stop
 * the others; it is tried again with backoff); `stop` removes it; `reload` applies a SIGHUP's
 * profile diff (only changed channels restart). `snapshot`, `view` and `counters` gather what
 * the pure functions of view.ts need from a channel and the store.
 *
 * It keeps the profiles refused at start and at the last reload (`refused`), and tells its
 * observers (`observe`: the console) of each channel added or stopped and of each refused list.
 * `viewSources` adds what other parts know of a channel to its view (the console's last alert
 * and thumbnail).
 */
import { routeFromProfile, type Alert } from "../alerts/index.js";
import type { ResolvedConfig } from "../config/global.js";
import type { LoadedProfile, ProfileDiff, ProfileSnapshot, RefusedProfile } from "../config/loader.js";
import type { AuditLog } from "../observe/audit.js";
import type { ChannelView } from "../observe/http.js";
import type { OnairLogger } from "../observe/logger.js";
import type { ChannelSnapshot, OnairMetrics } from "../observe/metrics.js";
import { Channel } from "../pipeline/channel.js";
import { StartRetry } from "../pipeline/start-retry.js";
import type { Store } from "../store/db.js";
import type { StoreWiring } from "./store-wiring.js";
import {
  channelSnapshot,
  channelView,
  consoleViewFields,
  countersView,
  nextRate,
  onAirBreak,
  type ConsoleViewInput,
  type Rate,
  type ViewInput,
} from "./view.js";

/** A view's bitrate is measured over at most this long (the console asks every 2 s). */
const VIEW_RATE_MAX_AGE_MS = 10_000;

export interface RegistryOptions {
  /** the map the registry fills (shared with the alerter's bot commands) */
  channels: Map<string, Channel>;
  store: Store;
  cfg: ResolvedConfig;
  log: OnairLogger;
  metrics: OnairMetrics;
  audit: Pick<AuditLog, "profileLoaded">;
  storeWiring: StoreWiring;
  alerts: { setChannel(id: string, route: ReturnType<typeof routeFromProfile>): void };
  notify: (a: Alert) => void;
  /** the default bot's token, for channels whose profile names no bot of their own */
  botToken: string | undefined;
}

/** A channel's events as alerts. */
export function wireChannelAlerts(c: Channel, notify: (a: Alert) => void): void {
  const channel = c.id;
  c.on("crashed", (e) =>
    notify({
      kind: "channel_crashed",
      channel,
      code: e.code ?? undefined,
      signal: e.signal ?? undefined,
      stderrTail: e.stderrTail,
      restartNumber: e.restartNumber ?? 0,
      nextRetryInMs: e.nextRetryInMs,
    }),
  );
  c.on("recovered", (e) => notify({ kind: "recovered", channel, outageMs: e.outageMs }));
  c.on("slate", (e) => notify(e.on ? { kind: "slate_on", channel, reason: e.reason } : { kind: "slate_off", channel }));
  c.on("input_lost", (e) => notify({ kind: "input_lost", channel, reason: e.reason, detail: e.detail }));
  c.on("input_restored", (e) => notify({ kind: "input_restored", channel, downMs: e.downMs }));
  c.on("stall", (e) => notify({ kind: "stall", channel, silentMs: e.silentMs, neverProduced: e.neverProduced }));
  c.on("output_error", (e) => notify({ kind: "output_error", channel, output: e.output, error: e.error }));
  c.on("epg_empty", (e) => notify({ kind: "epg_empty", channel, days: e.days }));
  c.on("cue_failed", (e) => notify({ kind: "cue_failed", channel, spliceEventId: e.spliceEventId, breakId: e.breakId, reason: e.reason }));
  c.on("cue_late", (e) => notify({ kind: "cue_late", channel, spliceEventId: e.spliceEventId, breakId: e.breakId, lateMs: e.lateMs }));
}

/** Told of the registry's changes (the console's event feed). */
export interface RegistryObserver {
  /** a channel was built (not started yet) */
  added?(c: Channel): void;
  /** a channel was stopped and removed */
  removed?(id: string): void;
  /** the refused profiles after a load (`reload` false) or a reload */
  refused?(list: readonly RefusedProfile[], reload: boolean): void;
}

/** What other parts add to a channel's view. */
export interface ViewSources {
  lastAlert?(id: string): ConsoleViewInput["lastAlert"];
  thumbnail?(id: string): ConsoleViewInput["thumbnail"];
}

export class ChannelRegistry {
  readonly channels: Map<string, Channel>;
  /** the profiles refused at start, then at the last reload */
  refused: readonly RefusedProfile[] = [];
  viewSources: ViewSources = {};
  private readonly starts = new Map<string, StartRetry>();
  private readonly rates = new Map<string, Rate>();
  /** the output bitrate measured between views (apart from the metrics' scrapes) */
  private readonly viewRates = new Map<string, Rate>();
  private readonly observers: RegistryObserver[] = [];

  constructor(private readonly o: RegistryOptions) {
    this.channels = o.channels;
  }

  /** The channels of the profiles loaded at start; refused profiles are reported. */
  load(snap: ProfileSnapshot): void {
    this.reportRefused(snap.refused, false);
    for (const lp of snap.channels) this.add(lp, false);
  }

  /** Adds an observer, told at once of the channels already there and the refused list. */
  observe(o: RegistryObserver): void {
    this.observers.push(o);
    for (const c of this.channels.values()) o.added?.(c);
    o.refused?.(this.refused, false);
  }

  /** Builds and wires a channel (not started yet). */
  add(lp: LoadedProfile, reload: boolean): Channel {
    const { store, log, cfg, notify } = this.o;
    const p = lp.profile;
    const c = new Channel({
      profile: p,
      store,
      logger: log,
      dataDir: cfg.dataDir,
      writes: this.o.storeWiring.writes,
      onStoreError: this.o.storeWiring.channelErrors(p.channel.id),
    });
    const route = routeFromProfile(p, this.o.botToken);
    this.o.alerts.setChannel(p.channel.id, route);
    if (route) log.secrets.add(route.botToken);
    wireChannelAlerts(c, notify);
    this.channels.set(c.id, c);
    const onFailed = (e: { attempt: number; error: unknown; nextRetryInMs: number | null }): void =>
      notify({
        kind: "channel_crashed",
        channel: c.id,
        stderrTail: [e.error instanceof Error ? e.error.message : String(e.error)],
        restartNumber: e.attempt,
        nextRetryInMs: e.nextRetryInMs,
      });
    this.starts.set(c.id, new StartRetry({ channel: c.id, start: () => c.start(), restart: p.restart, logger: log, onFailed }));
    this.o.metrics.registerChannel(c.id, () => this.snapshot(c));
    this.o.audit.profileLoaded({ who: "daemon", via: "daemon", path: lp.path, channel: c.id, reload, ok: true });
    for (const o of this.observers) o.added?.(c);
    return c;
  }

  /** The first start attempt (resolves when it is done, started or failed; a retry then waits). */
  start(c: Channel): Promise<void> {
    return this.starts.get(c.id)?.run() ?? Promise.resolve();
  }

  startAll(): Promise<unknown> {
    return Promise.all([...this.channels.values()].map((c) => this.start(c)));
  }

  /** Stops and removes a channel (its metrics, its pending start retry). */
  async stop(id: string): Promise<void> {
    const c = this.channels.get(id);
    if (!c) return;
    this.channels.delete(id);
    this.rates.delete(id);
    this.viewRates.delete(id);
    this.o.metrics.unregisterChannel(id);
    await this.starts.get(id)?.cancel();
    this.starts.delete(id);
    await c.stop();
    this.o.log.info({ event: "channel_stopped", channel: id });
    for (const o of this.observers) o.removed?.(id);
  }

  /** Stops every channel; one that fails to stop does not keep the others running. */
  stopAll(): Promise<unknown> {
    return Promise.allSettled([...this.channels.keys()].map((id) => this.stop(id)));
  }

  /** SIGHUP: removed channels stop, changed ones restart with their new profile, added ones start. */
  async reload(diff: ProfileDiff): Promise<void> {
    this.reportRefused(diff.refused, true);
    for (const lp of diff.removed) await this.stop(lp.profile.channel.id);
    for (const lp of diff.changed) {
      await this.stop(lp.profile.channel.id);
      await this.start(this.add(lp, true));
    }
    for (const lp of diff.added) await this.start(this.add(lp, true));
    const counts = {
      added: diff.added.length,
      changed: diff.changed.length,
      removed: diff.removed.length,
      unchanged: diff.unchanged.length,
    };
    this.o.log.info({ event: "reloaded", ...counts });
  }

  reportRefused(list: readonly RefusedProfile[], reload: boolean): void {
    this.refused = list;
    for (const o of this.observers) o.refused?.(list, reload);
    for (const r of list) {
      this.o.log.error({ event: "profile_refused", file: r.file, code: r.code, message: r.message });
      this.o.audit.profileLoaded({ who: "daemon", via: "daemon", path: r.path, reload, ok: false, error: `${r.code}: ${r.message}` });
      this.o.notify({ kind: "profile_refused", file: r.file, code: r.code, message: r.message });
    }
  }

  /** A channel's metrics snapshot at this scrape. */
  snapshot(c: Channel): ChannelSnapshot {
    const seconds = c.injector.nextSplice()?.seconds ?? null;
    const { snapshot, rate } = channelSnapshot(c.status(), c.profileMode, seconds, this.rates.get(c.id), Date.now());
    this.rates.set(c.id, rate);
    return snapshot;
  }

  /** A channel's API view; a store that cannot be read leaves out what it would have said (counted, logged). */
  view(c: Channel): ChannelView {
    const now = Date.now();
    const status = c.status();
    const v: ViewInput = { id: c.id, mode: c.profileMode, status, next: c.injector.nextSplice() };
    const bps = this.viewRate(c.id, status.bytesOut, now);
    const clock = c.injector.clock;
    const x: ConsoleViewInput = {
      name: c.profile.channel.name,
      timeZone: c.profile.epg.timeZone,
      outputBitrateBps: bps,
      monitor: status.monitor,
      lastAlert: this.viewSources.lastAlert?.(c.id),
      hls: c.hls !== undefined,
      thumbnail: this.viewSources.thumbnail?.(c.id),
      onAir: clock.ready ? onAirBreak(c.injector.planner.planned, (pts) => clock.wallAt(pts), now) : undefined,
    };
    try {
      // the injector plans an hour ahead; only without a planned splice is a cue further ahead, waiting in the store, looked up
      if (!v.next) v.waiting = c.cues.nextWaiting();
      const pf = this.o.store.presentFollowing(c.id, now);
      v.present = pf.present;
      x.following = pf.following;
      v.lastCue = this.o.store.lastCue(c.id);
    } catch (err) {
      this.o.storeWiring.failed(err);
    }
    return { ...channelView(v, now), ...consoleViewFields(c.id, x) };
  }

  /** A channel's `counters` event of the console's stream (no store read). */
  counters(c: Channel): ReturnType<typeof countersView> {
    const now = Date.now();
    const status = c.status();
    return countersView(c.id, status, this.viewRate(c.id, status.bytesOut, now), now);
  }

  /**
   * The output bitrate between this view and the last one at least RATE_WINDOW_MS before; a
   * measurement older than VIEW_RATE_MAX_AGE_MS says nothing of now, so one starts again (null
   * until it has a window).
   */
  private viewRate(id: string, bytesOut: number, now: number): number | null {
    const prev = this.viewRates.get(id);
    const rate = nextRate(prev && now - prev.at <= VIEW_RATE_MAX_AGE_MS ? prev : undefined, bytesOut, now);
    this.viewRates.set(id, rate);
    return rate.bps;
  }
}
