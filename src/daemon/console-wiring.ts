/**
 * The operator console's parts in the daemon (`console.*` of the global config; docs/api.md):
 * the sessions (`sessionHours`, `sessionIdleMinutes`), the event lists of the channels, the
 * event stream (at most `maxStreams`), the confidence thumbnails (`thumbnails`), and the
 * routes: sign-in (console/sign-in.ts), the console's API (console/routes.ts) and its pages
 * (console/static.ts). The console follows the registry: a channel added gets its event list
 * and thumbnailer, a stopped one loses them (console/feed.ts).
 *
 * `console.enabled: false` makes nothing: the HTTP server then has no console (/ is a 404,
 * actions take bearer tokens only) and the daemon runs as before.
 *
 * Shutdown: the HTTP server's close ends the streams; `close()` (a closer after the channels
 * stopped) stops the feed's tick and the stream hub and closes the thumbnailers.
 */
import type { ResolvedConfig } from "../config/global.js";
import type { Timers } from "../core/timers.js";
import { ConsoleEvents } from "../console/events.js";
import { ConsoleFeed, type ChannelsSource, type ThumbnailAttach, type ThumbnailSource } from "../console/feed.js";
import { consoleRoutes } from "../console/routes.js";
import { SessionStore } from "../console/sessions.js";
import { signInRoutes } from "../console/sign-in.js";
import { staticRoutes } from "../console/static.js";
import { StreamHub } from "../console/stream.js";
import { ThumbnailPool } from "../console/thumbnails.js";
import type { ConsoleHttp } from "../observe/http.js";
import type { OnairLogger } from "../observe/logger.js";
import type { Channel } from "../pipeline/channel.js";
import type { Store } from "../store/db.js";
import { controlApi } from "./http-wiring.js";
import type { ChannelRegistry } from "./registry.js";

/** The thumbnailers as the console uses them (console/thumbnails.ts's ThumbnailPool). */
export type Thumbnails = ThumbnailSource & ThumbnailAttach<Channel> & { close(): Promise<void> };

export interface ConsoleWiringOptions {
  cfg: ResolvedConfig;
  log: OnairLogger;
  store: Store;
  registry: ChannelRegistry;
  /** the feed's tick and the stream's heartbeat (default: unref'd Node timers) */
  timers?: Timers | undefined;
}

export interface ConsoleParts {
  /** for HttpServerOptions.console */
  http: ConsoleHttp;
  close(): Promise<void>;
}

/** The channels as the feed reads them: the registry's views, counters and refused profiles. */
function channelsOf(registry: ChannelRegistry): ChannelsSource {
  const { channels } = registry;
  return {
    ids: () => [...channels.keys()],
    view: (id) => {
      const c = channels.get(id);
      return c ? registry.view(c) : undefined;
    },
    counters: (id) => {
      const c = channels.get(id);
      return c ? registry.counters(c) : undefined;
    },
    refused: () => registry.refused.map((r) => ({ file: r.file, code: r.code, message: r.message })),
    breakKey: (id) => String(channels.get(id)?.injector.nextSplice()?.plan.spliceEventId ?? ""),
  };
}

/** The thumbnailers (`console.thumbnails`), or none. */
function makeThumbnails(o: ConsoleWiringOptions): Thumbnails | undefined {
  return o.cfg.file.console.thumbnails ? new ThumbnailPool({ logger: o.log }) : undefined;
}

/** The console's parts, or undefined when `console.enabled` is false. */
export function consoleWiring(o: ConsoleWiringOptions): ConsoleParts | undefined {
  const c = o.cfg.file.console;
  if (!c.enabled) return undefined;
  const { registry, store, log } = o;
  const sessions = new SessionStore({ absoluteMs: c.sessionHours * 3_600_000, idleMs: c.sessionIdleMinutes * 60_000 });
  const thumbnails = makeThumbnails(o);
  const channels = channelsOf(registry);
  const events = new ConsoleEvents({ store, logger: log });
  const hub: StreamHub = new StreamHub({
    maxStreams: c.maxStreams,
    snapshot: () => feed.snapshot(),
    onDemand: (on) => feed.demand(on),
    timers: o.timers,
    logger: log,
  });
  const feed = new ConsoleFeed<Channel>({ channels, events, hub, thumbnails, timers: o.timers, logger: log });
  registry.observe(feed);
  registry.viewSources = {
    lastAlert: (id) => events.lastAlert(id),
    thumbnail: (id) => {
      const t = thumbnails?.latest(id);
      return t && { seq: t.seq, atMs: t.atMs };
    },
  };
  const api = controlApi(registry, log);
  const imported = (id: string, who: string, n: { added: number; changed: number; removed: number; unchanged: number }): void => {
    const text = `schedule imported by ${who}: ${n.added} added, ${n.changed} changed, ${n.removed} removed, ${n.unchanged} unchanged`;
    events.note(id, { kind: "schedule", level: "info", text });
    feed.changed(id);
  };
  const timeZone = (id: string): string | undefined => registry.channels.get(id)?.profile.epg.timeZone;
  const http: ConsoleHttp = {
    sessions,
    publicUrl: c.publicUrl,
    routes: (deps) => [
      signInRoutes({ gate: deps.gate, sessions, auditLog: deps.auditLog, publicUrl: c.publicUrl, logger: deps.logger }),
      consoleRoutes({ ...deps, api, store, timeZone, events, hub, thumbnails, imported }),
      staticRoutes(),
    ],
  };
  return {
    http,
    close: async () => {
      feed.close();
      hub.close();
      await thumbnails?.close();
    },
  };
}
