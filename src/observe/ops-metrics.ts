/**
 * Operator metrics (issue #23): HTTP request durations by templated route, store query
 * durations, store file size, write-queue depth, retention (rows pruned by table, last
 * prune time), and the memory of the daemon's cgroup.
 *
 * Contracts:
 * - `route` label values come from `routeTemplate` only (a fixed set: the API's templates,
 *   `other` for anything unmatched), never from a raw path, so the series count is bounded.
 *   Long-lived streams (Server-Sent Events; the API has none today) must not be observed.
 * - Observing costs one histogram `observe()`; nothing is read from disk except at scrape.
 * - Sources that throw or files that are missing give no series, never a failed scrape.
 */
import { stat } from "node:fs/promises";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Store } from "../store/db.js";
import { readCgroupMemory, type CgroupPaths } from "./cgroup.js";

/** Route templates of the HTTP server (src/observe/http.ts), in match order. */
const ROUTES: readonly (readonly [RegExp, string])[] = [
  [/^\/metrics$/, "/metrics"],
  [/^\/healthz$/, "/healthz"],
  [/^\/readyz$/, "/readyz"],
  [/^\/api\/v1\/channels$/, "/api/v1/channels"],
  [/^\/api\/v1\/channels\/[^/]+$/, "/api/v1/channels/:id"],
  [/^\/api\/v1\/channels\/[^/]+\/cues$/, "/api/v1/channels/:id/cues"],
  [/^\/api\/v1\/channels\/[^/]+\/restart$/, "/api/v1/channels/:id/restart"],
  [/^\/hls\/[^/]+\/[^/]+$/, "/hls/:channel/:file"],
  [/^\/api\/v1\/channels\/[^/]+\/cues\/[^/]+$/, "/api/v1/channels/:id/cues/:eventId"],
  [/^\/api\/v1\/channels\/[^/]+\/cues\/[^/]+\/return$/, "/api/v1/channels/:id/cues/:eventId/return"],
  // the console (src/console/, docs/api.md)
  [/^\/$/, "/"],
  [/^\/channels\/[^/]+$/, "/channels/:id"],
  [/^\/assets\/[^/]+$/, "/assets/:file"],
  [/^\/sign-in$/, "/sign-in"],
  [/^\/sign-out$/, "/sign-out"],
  [/^\/api\/v1\/session$/, "/api/v1/session"],
  [/^\/api\/v1\/stream$/, "/api/v1/stream"],
  [/^\/api\/v1\/channels\/[^/]+\/schedule$/, "/api/v1/channels/:id/schedule"],
  [/^\/api\/v1\/channels\/[^/]+\/schedule\/preview$/, "/api/v1/channels/:id/schedule/preview"],
  [/^\/api\/v1\/channels\/[^/]+\/asrun$/, "/api/v1/channels/:id/asrun"],
  [/^\/api\/v1\/channels\/[^/]+\/events$/, "/api/v1/channels/:id/events"],
  [/^\/api\/v1\/channels\/[^/]+\/thumbnail\.jpg$/, "/api/v1/channels/:id/thumbnail.jpg"],
];

/**
 * The route template of a request URL (or path): the HTTP server dispatches on it and labels
 * its request metric with it; `other` for 404s, probes and junk.
 */
export function routeTemplate(url: string): string {
  let path: string;
  try {
    path = new URL(url, "http://localhost").pathname.replace(/\/+$/, "") || "/";
  } catch {
    return "other";
  }
  for (const [re, template] of ROUTES) if (re.test(path)) return template;
  return "other";
}

const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** What the store metrics read at scrape time. */
export interface StoreFiles {
  /** The SQLite file; its `-wal` is added to the size. ":memory:" gives no series. */
  path: string;
  /** Rows waiting in the write queue now. */
  queueDepth: () => number;
}

export interface OpsMetrics {
  /** One finished HTTP request. */
  /** One finished request; `route` is its template (`routeTemplate`), never a raw path. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** One store statement or transaction (`op`: "statement" | "transaction"). */
  observeQuery(op: "statement" | "transaction", seconds: number): void;
  /** Sets the store whose size and queue depth are exported (one; a later call replaces it). */
  setStoreFiles(files: StoreFiles): void;
  /** Times the store's queries and exports its size and write-queue depth. */
  watchStore(store: Store, queueDepth: () => number): void;
  /** One retention run (store/retention.ts): rows removed by table, and its time. */
  notePrune(removed: Readonly<Record<string, number>>, atMs: number): void;
}

async function fileBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Registers the operator metric families in `registry`. */
export function createOpsMetrics(registry: Registry, cgroup: CgroupPaths = {}): OpsMetrics {
  const http = new Histogram({
    name: "onair_http_request_duration_seconds",
    help: "HTTP request durations (control API, probes, metrics) by method, templated route and status code.",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5],
    registers: [registry],
  });
  const query = new Histogram({
    name: "onair_store_query_duration_seconds",
    help: "Store (SQLite) statement and transaction durations.",
    labelNames: ["op"],
    buckets: [0.0001, 0.001, 0.01, 0.1, 1],
    registers: [registry],
  });
  let store: StoreFiles | undefined;
  new Gauge({
    name: "onair_store_size_bytes",
    help: "Size of the store on disk: the SQLite file plus its write-ahead log.",
    labelNames: ["path"],
    registers: [registry],
    async collect() {
      this.reset();
      if (!store || store.path === ":memory:") return;
      const main = await fileBytes(store.path);
      if (main > 0) this.set({ path: store.path }, main + (await fileBytes(`${store.path}-wal`)));
    },
  });
  new Gauge({
    name: "onair_store_write_queue_depth",
    help: "Store writes (as-run, cue rows) held in memory waiting to be written (0 without a store).",
    registers: [registry],
    collect() {
      this.reset();
      try {
        if (store) this.set(store.queueDepth());
      } catch {
        // no series this scrape
      }
    },
  });
  const pruned = new Counter({
    name: "onair_store_pruned_rows_total",
    help: "Store rows removed by retention, by table.",
    labelNames: ["table"],
    registers: [registry],
  });
  const lastPrune = new Gauge({
    name: "onair_store_last_prune_timestamp_seconds",
    help: "When retention last pruned the store (Unix time); 0 before the first run.",
    registers: [registry],
  });
  registerCgroupGauges(registry, cgroup);
  return {
    notePrune(removed, atMs) {
      for (const [table, rows] of Object.entries(removed)) pruned.inc({ table }, rows);
      lastPrune.set(atMs / 1000);
    },
    observeHttp(method, route, status, seconds) {
      http.observe({ method: HTTP_METHODS.has(method) ? method : "other", route, status: String(status) }, seconds);
    },
    observeQuery(op, seconds) {
      query.observe({ op }, seconds);
    },
    setStoreFiles(files) {
      store = files;
    },
    watchStore(s, queueDepth) {
      s.onQuery = (op, seconds) => query.observe({ op }, seconds);
      store = { path: s.path, queueDepth };
    },
  };
}

/**
 * memory.current/high/max of our cgroup; each read once per scrape, absent values give no
 * series. The `cgroup` label (our one cgroup path) exists so an absent value can have no
 * series at all (prom-client always shows a label-less gauge).
 */
function registerCgroupGauges(registry: Registry, paths: CgroupPaths): void {
  let pending: ReturnType<typeof readCgroupMemory> | undefined;
  const read = (): ReturnType<typeof readCgroupMemory> => {
    pending ??= readCgroupMemory(paths).finally(() => {
      setImmediate(() => (pending = undefined));
    });
    return pending;
  };
  const families = [
    [
      "onair_cgroup_memory_current_bytes",
      "Memory charged to the daemon's cgroup (the systemd unit: the daemon and every FFmpeg), memory.current.",
      "current",
    ],
    [
      "onair_cgroup_memory_high_bytes",
      "memory.high of the daemon's cgroup (MemoryHigh=, throttling level); absent when unlimited.",
      "high",
    ],
    ["onair_cgroup_memory_max_bytes", "memory.max of the daemon's cgroup (MemoryMax=, OOM-kill limit); absent when unlimited.", "max"],
  ] as const;
  for (const [name, help, field] of families) {
    new Gauge({
      name,
      help,
      labelNames: ["cgroup"],
      registers: [registry],
      async collect() {
        this.reset();
        const m = await read();
        const v = m[field];
        if (v !== undefined && m.path !== undefined) this.set({ cgroup: m.path }, v);
      },
    });
  }
}
