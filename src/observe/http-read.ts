/**
 * The read-only routes: GET /metrics, /healthz (event-loop lag from a timer probe), /readyz and
 * the channel views (/api/v1/channels, /api/v1/channels/:id). No token needed.
 */
import type { Clock } from "../core/clock.js";
import type { Timers } from "../core/timers.js";
import type { ControlApi } from "./http.js";
import { notFoundChannel, send } from "./http-respond.js";
import { channelIdOf, type RouteGroup } from "./http-router.js";
import type { OnairMetrics } from "./metrics.js";
import { readiness, type HealthChecks, type ReadyDirectory } from "./readiness.js";

const PROBE_MS = 100;
const WINDOW_MS = 5000;

/**
 * The event-loop probe: a timer every 100 ms notes how late it fires; `lagMs()` is the worst
 * lateness of the current and the previous 5 s window, or of a tick overdue right now.
 */
export class LoopProbe {
  private lastTick = performance.now();
  private windowStart = this.lastTick;
  private windowMax = 0;
  private previousMax = 0;
  private readonly timer: unknown;

  constructor(private readonly timers: Timers) {
    this.timer = timers.setInterval(() => this.tick(), PROBE_MS);
  }

  lagMs(): number {
    return Math.max(this.previousMax, this.windowMax, performance.now() - this.lastTick - PROBE_MS);
  }

  stop(): void {
    this.timers.clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.lastTick - PROBE_MS);
    this.lastTick = now;
    if (now - this.windowStart >= WINDOW_MS) {
      this.previousMax = this.windowMax;
      this.windowMax = 0;
      this.windowStart = now;
    }
    this.windowMax = Math.max(this.windowMax, late);
  }
}

export interface ReadRoutesOptions {
  metrics: OnairMetrics;
  health: HealthChecks;
  directories?: readonly ReadyDirectory[] | undefined;
  api: Pick<ControlApi, "listChannels" | "channel" | "refused">;
  clock: Clock;
  /** the recent event-loop lag in ms */
  lagMs: () => number;
  /** /healthz fails past this lag */
  maxLagMs: number;
}

/** GET /metrics, /healthz, /readyz, /api/v1/channels and /api/v1/channels/:id. */
export function readRoutes(o: ReadRoutesOptions): RouteGroup {
  const startedMs = o.clock.monotonic();
  const healthz = (): { status: number; body: unknown } => {
    const lag = o.lagMs();
    const ok = lag <= o.maxLagMs;
    const uptimeSeconds = Math.round((o.clock.monotonic() - startedMs) / 1000);
    return {
      status: ok ? 200 : 503,
      body: { status: ok ? "ok" : "unhealthy", eventLoopLagMs: Math.round(lag * 10) / 10, maxLagMs: o.maxLagMs, uptimeSeconds },
    };
  };
  return ({ res, path, template, only }) => {
    if (template === "/metrics" && only("GET")) {
      return o.metrics.scrape().then((text) => {
        res.writeHead(200, {
          "content-type": o.metrics.contentType,
          "content-length": String(Buffer.byteLength(text)),
          "cache-control": "no-store",
        });
        res.end(text);
      });
    }
    if (template === "/healthz" && only("GET")) {
      const h = healthz();
      return Promise.resolve(send(res, h.status, h.body));
    }
    if (template === "/readyz" && only("GET")) return readiness(o.health, o.directories).then((r) => send(res, r.status, r.body));
    if (template === "/api/v1/channels" && only("GET"))
      return Promise.resolve(o.api.listChannels()).then((channels) => send(res, 200, { channels, refused: o.api.refused?.() ?? [] }));
    if (template === "/api/v1/channels/:id") {
      const id = channelIdOf(path);
      if (!only("GET")) return undefined;
      return Promise.resolve(o.api.channel(id)).then((view) => {
        if (!view) throw notFoundChannel(id);
        send(res, 200, view);
      });
    }
    return undefined;
  };
}
