/**
 * The channel registry: every channel on air, by id. `add` builds a channel from a loaded
 * profile and wires it (its alert route, its events to alerts, its metrics snapshot, the audit
 * line); `start` starts it through a `StartRetry` (a channel that cannot start does not stop
 * the others; it is tried again with backoff); `stop` removes it; `reload` applies a SIGHUP's
 * profile diff (only changed channels restart). `snapshot` and `view` gather what the pure
 * functions of view.ts need from a channel and the store.
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
import { channelSnapshot, channelView, type Rate, type ViewInput } from "./view.js";

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

export class ChannelRegistry {
  readonly channels: Map<string, Channel>;
  private readonly starts = new Map<string, StartRetry>();
  private readonly rates = new Map<string, Rate>();

  constructor(private readonly o: RegistryOptions) {
    this.channels = o.channels;
  }

  /** The channels of the profiles loaded at start; refused profiles are reported. */
  load(snap: ProfileSnapshot): void {
    this.reportRefused(snap.refused, false);
    for (const lp of snap.channels) this.add(lp, false);
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
    this.o.metrics.unregisterChannel(id);
    await this.starts.get(id)?.cancel();
    this.starts.delete(id);
    await c.stop();
    this.o.log.info({ event: "channel_stopped", channel: id });
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
    const v: ViewInput = { id: c.id, mode: c.profileMode, status: c.status(), next: c.injector.nextSplice() };
    try {
      // the injector plans an hour ahead; only without a planned splice is a cue further ahead, waiting in the store, looked up
      if (!v.next) v.waiting = c.cues.nextWaiting();
      v.present = this.o.store.presentFollowing(c.id, now).present;
      const cues = this.o.store.listCues(c.id);
      v.lastCue = cues[cues.length - 1];
    } catch (err) {
      this.o.storeWiring.failed(err);
    }
    return channelView(v, now);
  }
}
