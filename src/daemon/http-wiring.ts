/**
 * The HTTP server's view of the daemon: /readyz's checks (store writes and queries, every
 * channel putting out packets to working outputs), the control API over the registry, and
 * the operator console's parts when it is on (console-wiring.ts).
 */
import type { ResolvedConfig } from "../config/global.js";
import type { Timers } from "../core/timers.js";
import type { AuditLog } from "../observe/audit.js";
import type { ConsoleHttp, ControlApi, HttpServerOptions } from "../observe/http.js";
import type { OnairLogger } from "../observe/logger.js";
import type { OnairMetrics } from "../observe/metrics.js";
import type { ChannelRegistry } from "./registry.js";
import type { StoreWiring } from "./store-wiring.js";
import { channelsReadiness } from "./view.js";

/** The control API: channel views, cue requests and restarts, each logged with who asked. */
export function controlApi(registry: ChannelRegistry, log: OnairLogger): ControlApi {
  const channels = registry.channels;
  return {
    listChannels: () => [...channels.values()].map((c) => registry.view(c)),
    refused: () => registry.refused.map((r) => ({ file: r.file, code: r.code, message: r.message })),
    channel: (id) => {
      const c = channels.get(id);
      return c ? registry.view(c) : undefined;
    },
    addCue: (id, req, who) => {
      const c = channels.get(id);
      if (!c) return undefined;
      const spliceEventId = c.addCue(req.durationSeconds, req.at?.getTime());
      log.info({
        event: "cue_requested",
        channel: id,
        who,
        spliceEventId,
        at: req.at?.toISOString() ?? "now",
        durationSeconds: req.durationSeconds,
      });
      return { spliceEventId };
    },
    returnCue: (id, spliceEventId, who) => {
      const c = channels.get(id);
      if (!c) return undefined;
      const returnPts = c.returnCue(spliceEventId);
      log.info({ event: "cue_return_requested", channel: id, who, spliceEventId, returnPts });
      return { returnPts };
    },
    cancelCue: (id, spliceEventId, who) => {
      const c = channels.get(id);
      if (!c) return false;
      c.cancelCue(spliceEventId);
      log.info({ event: "cue_cancel_requested", channel: id, who, spliceEventId });
      return true;
    },
    restart: (id, who, reason) => {
      const c = channels.get(id);
      if (!c) return false;
      log.info({ event: "restart_requested", channel: id, who, reason });
      c.restart();
      return true;
    },
  };
}

export interface HttpWiring {
  cfg: ResolvedConfig;
  log: OnairLogger;
  metrics: OnairMetrics;
  audit: AuditLog;
  registry: ChannelRegistry;
  storeWiring: StoreWiring;
  tokenFile: string;
  timers?: Timers | undefined;
  /** the operator console (console-wiring.ts), none when `console.enabled` is false */
  console?: ConsoleHttp | undefined;
}

/** The daemon's HTTP server options (http.listen, http.maxConnections, the token file). */
export function httpOptions(w: HttpWiring): HttpServerOptions {
  return {
    host: w.cfg.http.host,
    port: w.cfg.http.port,
    connections: { maxConnections: w.cfg.http.maxConnections },
    metrics: w.metrics,
    tokenFile: w.tokenFile,
    secrets: w.log.secrets,
    auditLog: w.audit,
    logger: w.log,
    directories: [{ name: "data", path: w.cfg.dataDir }],
    health: {
      storeOk: () => w.storeWiring.readiness(),
      channelsReady: () => channelsReadiness(w.registry.channels.values()),
    },
    api: controlApi(w.registry, w.log),
    timers: w.timers,
    hls: (id) => w.registry.channels.get(id)?.hls?.source,
    console: w.console,
  };
}
