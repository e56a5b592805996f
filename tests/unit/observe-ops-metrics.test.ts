import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createMetrics } from "../../src/observe/metrics.js";
import { routeTemplate } from "../../src/observe/ops-metrics.js";
import { openStore } from "../../src/store/db.js";

describe("routeTemplate", () => {
  test("maps every API path to its template, never the raw id", () => {
    expect(routeTemplate("/metrics")).toBe("/metrics");
    expect(routeTemplate("/healthz")).toBe("/healthz");
    expect(routeTemplate("/readyz?verbose=1")).toBe("/readyz");
    expect(routeTemplate("/api/v1/channels/")).toBe("/api/v1/channels");
    expect(routeTemplate("/api/v1/channels/news")).toBe("/api/v1/channels/:id");
    expect(routeTemplate("/api/v1/channels/news/cues")).toBe("/api/v1/channels/:id/cues");
    expect(routeTemplate("/api/v1/channels/sport%20hd/restart?x=1")).toBe("/api/v1/channels/:id/restart");
    expect(routeTemplate("/api/v1/channels/news/cues/7")).toBe("/api/v1/channels/:id/cues/:eventId");
    expect(routeTemplate("/api/v1/channels/news/cues/7/return")).toBe("/api/v1/channels/:id/cues/:eventId/return");
  });
  test("maps the console's pages and routes to their templates", () => {
    expect(routeTemplate("/")).toBe("/");
    expect(routeTemplate("/channels/news")).toBe("/channels/:id");
    expect(routeTemplate("/assets/wall-3FJ2K.js")).toBe("/assets/:file");
    expect(routeTemplate("/api/v1/channels/news/schedule/preview")).toBe("/api/v1/channels/:id/schedule/preview");
    expect(routeTemplate("/api/v1/channels/news/thumbnail.jpg?seq=3")).toBe("/api/v1/channels/:id/thumbnail.jpg");
    expect(routeTemplate("/api/v1/stream")).toBe("/api/v1/stream");
  });
  test("anything else is `other`", () => {
    for (const p of [
      "/index.php",
      "/channels/news/x",
      "/assets/a/b.js",
      "/api/v1/channels/news/cues/7/x",
      "/wp-login.php",
      "/api/v2/channels",
      "//evil/%zz",
    ])
      expect(routeTemplate(p), p).toBe("other");
  });
});

describe("store metrics", () => {
  const dir = mkdtempSync(join(tmpdir(), "onair-ops-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("time the store's statements and transactions and export size and queue depth", async () => {
    const store = openStore(join(dir, "onair.db"));
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      let depth = 3;
      metrics.ops.watchStore(store, () => depth);
      store.allocateSpliceEventId("news");
      store.listItems("news");
      store.transaction("noop", () => undefined);
      depth = 5;
      const text = await metrics.scrape();
      const statements = Number(/^onair_store_query_duration_seconds_count\{op="statement"\} (\d+)/m.exec(text)?.[1]);
      const transactions = Number(/^onair_store_query_duration_seconds_count\{op="transaction"\} (\d+)/m.exec(text)?.[1]);
      expect(statements).toBeGreaterThan(0);
      expect(transactions).toBe(2);
      expect(text.split("\n")).toContain("onair_store_write_queue_depth 5");
      const size = Number(/^onair_store_size_bytes\{path="[^"]+onair\.db"\} (\d+)/m.exec(text)?.[1]);
      expect(size).toBeGreaterThan(4096);
    } finally {
      store.close();
    }
  });

  test("count rows pruned by table and export the last prune time", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.ops.notePrune({ asrun: 1200, cues: 0 }, 1_764_547_200_000);
    metrics.ops.notePrune({ asrun: 5, cues: 2 }, 1_764_633_600_000);
    const lines = (await metrics.scrape()).split("\n");
    expect(lines).toContain('onair_store_pruned_rows_total{table="asrun"} 1205');
    expect(lines).toContain('onair_store_pruned_rows_total{table="cues"} 2');
    expect(lines).toContain("onair_store_last_prune_timestamp_seconds 1764633600");
  });

  test("no store watched: no size series, queue depth 0", async () => {
    const text = await createMetrics({ defaultMetrics: false }).scrape();
    expect(text).not.toMatch(/^onair_store_size_bytes\{/m);
    expect(text.split("\n")).toContain("onair_store_write_queue_depth 0");
  });
});
