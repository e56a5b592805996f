/**
 * The daemon's alerting: the Telegram alerter (box-wide alerts to `telegram.chatIds`, each
 * channel's to its own route; bot commands `/status` and `/channel ID` read the channels),
 * its counters for the metrics, and the free-space watch of the data and recording
 * directories (`alerts.diskLowFree`, re-read on SIGHUP) as a part.
 */
import { hostname } from "node:os";
import { Alerter, type Alert } from "../alerts/index.js";
import type { ResolvedConfig } from "../config/global.js";
import type { Timers } from "../core/timers.js";
import { DiskWatch, parseDiskThreshold, type DiskReading, type WatchedDisk } from "../observe/disk-watch.js";
import type { OnairLogger } from "../observe/logger.js";
import type { OnairMetrics } from "../observe/metrics.js";
import type { Channel } from "../pipeline/channel.js";
import { recordingRoots } from "../pipeline/recordings.js";
import type { Store } from "../store/db.js";
import type { Part } from "./parts.js";

export interface AlertWiringOptions {
  store: Store;
  cfg: ResolvedConfig;
  log: OnairLogger;
  metrics: OnairMetrics;
  /** the default bot's token (telegram.botToken), already a secret of the logger */
  botToken: string | undefined;
  /** the channels on air, read by the bot commands */
  channels: ReadonlyMap<string, Channel>;
}

/** The alerter, its bot commands over the channels, and its counters in the metrics. */
export function createAlerter(o: AlertWiringOptions): Alerter {
  const { channels } = o;
  const alerter = new Alerter({
    store: o.store,
    logger: o.log,
    apiRoot: o.cfg.telegram?.apiRoot,
    owner: `onair@${hostname()}`,
    label: hostname(),
    // box-wide alerts go to telegram.chatIds; the default bot also sends rows `onair alert unit-failed` left in the outbox
    box: { botToken: o.botToken, chatIds: o.cfg.telegram?.chatIds },
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
  o.metrics.setAlertsSource(() => {
    const s = alerter.stats();
    const failed = Object.values(s.failed).reduce((a, b) => a + b, 0);
    return { sent: s.sent, failed, outboxDepth: s.outboxDepth };
  });
  return alerter;
}

/** The directories whose free space is watched: the data directory, every channel's recording roots and HLS folder. */
export function watchedDisks(dataDir: string, channels: Iterable<Channel>): WatchedDisk[] {
  const out: WatchedDisk[] = [{ role: "data", path: dataDir }];
  for (const c of channels) {
    for (const path of recordingRoots(c.profile.outputs)) out.push({ role: "recording", path, channel: c.id });
    const hls = c.hls?.source.dir;
    if (hls) out.push({ role: "hls", path: hls, channel: c.id });
  }
  return out;
}

export interface DiskPart extends Part {
  /** SIGHUP: the global config's alerts.diskLowFree again (a bad file keeps the old value), then a check */
  reloadThreshold(): Promise<void>;
}

const diskFields = (r: DiskReading) => ({
  role: r.role,
  path: r.path,
  channel: r.channel,
  freeBytes: r.freeBytes,
  totalBytes: r.totalBytes,
  thresholdBytes: r.thresholdBytes,
});

/** The free-space watch: `disk_low` once a directory falls under the threshold, `disk_ok` when it is back. */
export function diskPart(
  o: Pick<AlertWiringOptions, "cfg" | "log" | "channels"> & {
    notify: (a: Alert) => void;
    /** the global config read again (SIGHUP) */
    config: () => Promise<ResolvedConfig>;
    timers?: Timers | undefined;
  },
): DiskPart {
  const { log, notify } = o;
  const disks = new DiskWatch({
    threshold: parseDiskThreshold(o.cfg.file.alerts.diskLowFree),
    dirs: () => watchedDisks(o.cfg.dataDir, o.channels.values()),
    onLow: (r) => {
      log.warn({ event: "disk_low", ...diskFields(r) }, `disk space low on ${r.path}`);
      notify({ kind: "disk_low", ...diskFields(r) });
    },
    onOk: (r) => {
      log.info({ event: "disk_ok", ...diskFields(r) }, `disk space back on ${r.path}`);
      notify({ kind: "disk_ok", ...diskFields(r) });
    },
    onError: (d, err) => log.warn({ event: "disk_check_failed", channel: d.channel, role: d.role, path: d.path, err }),
    timers: o.timers,
  });
  return {
    name: "disk watch",
    start: () => disks.start(),
    close: () => disks.stop(),
    async reloadThreshold() {
      try {
        const diskLowFree = (await o.config()).file.alerts.diskLowFree;
        log.info({ event: "disk_threshold", diskLowFree });
        await disks.setThreshold(parseDiskThreshold(diskLowFree));
      } catch (err) {
        log.error({
          event: "reload_config_failed",
          err,
          message: "the global config cannot be read again; alerts.diskLowFree is unchanged",
        });
        await disks.check();
      }
    },
  };
}
